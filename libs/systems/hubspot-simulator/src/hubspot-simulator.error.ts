export enum HubSpotSimulatorErrorCode {
  /** The options passed to `HubSpotSimulator.start` are invalid. */
  InvalidOptions = 'INVALID_OPTIONS',
  /** A UI edit named a contact that does not exist (or is archived when it must be active). */
  ContactNotFound = 'CONTACT_NOT_FOUND',
  /** A UI edit wrote an unknown or read-only property, or an invalid value. */
  InvalidProperty = 'INVALID_PROPERTY',
  /** A UI edit would give two active contacts the same email. */
  DuplicateEmail = 'DUPLICATE_EMAIL',
  /** `flushWebhooks` gave up before every event was delivered or dropped. */
  WebhookFlushTimeout = 'WEBHOOK_FLUSH_TIMEOUT',
  /** The HTTP listener could not be (re)opened. */
  ListenFailed = 'LISTEN_FAILED',
}

/** Misuse of the simulator by a test (never an HTTP answer: those are HubSpot error bodies). */
export class HubSpotSimulatorError extends Error {
  constructor(
    readonly code: HubSpotSimulatorErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'HubSpotSimulatorError';
  }
}
