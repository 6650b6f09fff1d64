export enum EmbeddedBrokerErrorCode {
  /** A record or subscription names a topic that `ensureTopics` never created. */
  UnknownTopic = 'unknown_topic',
  /** A topic spec the log cannot hold (a partition count below one, a bad retention). */
  InvalidTopic = 'invalid_topic',
  /** The broker was closed; it takes no new producers, consumers or records. */
  Closed = 'closed',
  /** `start` was called on a consumer that is already running or was stopped. */
  ConsumerStarted = 'consumer_started',
}

export class EmbeddedBrokerError extends Error {
  constructor(
    readonly code: EmbeddedBrokerErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'EmbeddedBrokerError';
  }
}
