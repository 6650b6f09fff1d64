/**
 * The transport seam. Kafka implements it in production; an embedded implementation serves the
 * single-process default. Both pass the same contract suite, so services cannot tell them apart.
 */
export interface TopicSpec {
  name: string;
  partitions: number;
  /** Keep only the newest message per key (resolved-changes topic). */
  compacted?: boolean;
  retentionMs?: number;
}

export interface OutgoingRecord {
  key: string;
  value: string;
  headers?: Record<string, string>;
}

export interface TopicRecords {
  topic: string;
  records: OutgoingRecord[];
}

export interface InboundRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

export interface RecordBatch {
  topic: string;
  partition: number;
  records: InboundRecord[];
}

/** Resolves when the batch is durably handled; only then are its offsets committed. */
export type BatchHandler = (batch: RecordBatch, signal: AbortSignal) => Promise<void>;

export interface ConsumerOptions {
  groupId: string;
  topics: string[];
  /** Where a group with no committed offset starts. Services start from the beginning: nothing is skipped. */
  fromBeginning?: boolean;
  /** How many partitions one instance works at the same time. */
  concurrency?: number;
  /** Back-off after a failed batch before it is redelivered. */
  retryDelayMs?: { min: number; max: number };
  /**
   * How long a fetch may wait for more records before delivering what it has, so that records
   * published together (a burst spread over partitions) are handled together. Unset: deliver at
   * once. A hint: the embedded broker always delivers at once.
   */
  gatherMs?: number;
  /**
   * The most records handed to the handler at once. A longer fetch is handed over in parts, each
   * committed once handled: what a batch holds in memory stays bounded, and a stop hands back the
   * parts not begun. Unset: Kafka hands over each fetch whole, the embedded broker 500 at a time.
   */
  maxBatchRecords?: number;
}

export interface BatchConsumer {
  start(handler: BatchHandler): Promise<void>;
  /** Stops fetching from these topics (all subscribed topics when omitted), keeping the assignment. */
  pause(topics?: string[]): void;
  resume(topics?: string[]): void;
  /** Finishes the batch in flight, commits what is done and leaves the group. */
  stop(): Promise<void>;
  /** Partitions assigned to this instance, for health and tests. */
  assignments(): Array<{ topic: string; partitions: number[] }>;
}

export interface Producer {
  /**
   * Resolves once every record is acknowledged by all in-sync replicas. Records for several topics
   * go together, in as few requests as the broker allows; each topic's records keep their order.
   */
  send(batches: TopicRecords[]): Promise<void>;
}

export interface Broker {
  ensureTopics(topics: TopicSpec[]): Promise<void>;
  producer(): Promise<Producer>;
  consumer(options: ConsumerOptions): BatchConsumer;
  /** Answers when the broker can be reached, for readiness probes. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
