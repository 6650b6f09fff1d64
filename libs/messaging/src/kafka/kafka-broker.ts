import { Kafka, logLevel, type Admin, type Consumer, type LogEntry, type Producer as KafkaProducer } from 'kafkajs';
import type {
  BatchConsumer,
  BatchHandler,
  Broker,
  ConsumerOptions,
  InboundRecord,
  Producer,
  TopicRecords,
  TopicSpec,
} from '../broker.interface';
import type { MessagingLogger } from '../messaging-logger';
import { keyHashPartitioner } from './key-hash-partitioner';

/** Well under the broker's default 1 MiB `message.max.bytes`, whatever the partitioning. */
const MAX_REQUEST_BYTES = 512 * 1024;
/** How long the broker holds a fetch that finds nothing, for consumers that do not gather. */
const EMPTY_FETCH_WAIT_MS = 500;

export interface KafkaBrokerOptions {
  clientId: string;
  brokers: string[];
  logger: MessagingLogger;
}

export class KafkaBroker implements Broker {
  private readonly kafka: Kafka;
  private readonly producers: KafkaProducer[] = [];
  private readonly consumers: KafkaBatchConsumer[] = [];

  constructor(private readonly options: KafkaBrokerOptions) {
    const { logger } = options;
    this.kafka = new Kafka({
      clientId: options.clientId,
      brokers: options.brokers,
      logLevel: logLevel.WARN,
      retry: { initialRetryTime: 200, retries: 8 },
      logCreator: () => (entry: LogEntry) => {
        const { message, ...extra } = entry.log;
        // kafkajs logs at ERROR what it then retries; failures that matter reach callers as errors.
        logger.warn(`kafka ${entry.namespace}: ${message}`, extra);
      },
    });
  }

  async ensureTopics(topics: TopicSpec[]): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const existing = new Set(await admin.listTopics());
      const missing = topics.filter((topic) => !existing.has(topic.name));
      if (missing.length === 0) return;
      // Services starting together race to create the same topics; the losers are told "exists" at
      // once, before leaders are elected, so every caller waits for leaders itself, and only there:
      // kafkajs's own wait gives up on a broker slow to host new partitions and fails the start.
      await admin.createTopics({
        waitForLeaders: false,
        topics: missing.map((topic) => ({
          topic: topic.name,
          numPartitions: topic.partitions,
          configEntries: [
            ...(topic.compacted ? [{ name: 'cleanup.policy', value: 'compact' }] : []),
            ...(topic.retentionMs !== undefined ? [{ name: 'retention.ms', value: String(topic.retentionMs) }] : []),
          ],
        })),
      });
      await waitForLeaders(admin, missing.map((topic) => topic.name));
    } finally {
      await admin.disconnect();
    }
  }

  async producer(): Promise<Producer> {
    // Idempotent with acks from all replicas: a retried send never duplicates or reorders a partition.
    const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: keyHashPartitioner });
    await producer.connect();
    this.producers.push(producer);
    return {
      send: async (batches: TopicRecords[]) => {
        // kafkajs puts a partition's records in one batch, which the broker refuses above its
        // message size limit: large outputs go in requests of bounded size, in order.
        for (const chunk of chunksBySize(batches, MAX_REQUEST_BYTES)) {
          await producer.sendBatch({
            acks: -1,
            topicMessages: chunk.map(({ topic, records }) => ({
              topic,
              messages: records.map((record) => ({ key: record.key, value: record.value, headers: record.headers ?? {} })),
            })),
          });
        }
      },
    };
  }

  consumer(options: ConsumerOptions): BatchConsumer {
    const consumer = new KafkaBatchConsumer(
      () =>
        this.kafka.consumer({
          groupId: options.groupId,
          allowAutoTopicCreation: false,
          // Not gathering, the broker answers a fetch as soon as one record is there, and the wait only
          // bounds an empty one: a long wait costs no latency and spares an idle consumer's polling.
          // To gather, the broker is asked for more than a burst holds, so it waits out the window.
          maxWaitTimeInMs: options.gatherMs ?? EMPTY_FETCH_WAIT_MS,
          minBytes: options.gatherMs === undefined ? 1 : 1024 * 1024,
          sessionTimeout: 30_000,
          heartbeatInterval: 3_000,
          maxBytesPerPartition: 1024 * 1024,
        }),
      options,
      this.options.logger,
    );
    this.consumers.push(consumer);
    return consumer;
  }

  async ping(): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      await admin.describeCluster();
    } finally {
      await admin.disconnect();
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.consumers.map((consumer) => consumer.stop()));
    await Promise.all(this.producers.map((producer) => producer.disconnect()));
  }
}

/**
 * A consumer group member working batches through a handler, committing each batch once handled.
 * kafkajs restarts its consumer after a retriable failure; after any other (a group coordinator
 * lost while a restarted broker loads, a stale generation) it stays stopped for good while the
 * process lives on, so this starts a new one, with a back-off, until it is stopped.
 */
export class KafkaBatchConsumer implements BatchConsumer {
  private consumer: Consumer;
  private handler: BatchHandler | null = null;
  private readonly stopping = new AbortController();
  private assigned: Record<string, number[]> = {};
  private running = false;
  /** Topics paused by the caller (an open breaker): a failed batch's back-off must not resume them. */
  private readonly pausedTopics = new Set<string>();
  private readonly failures = new Map<string, number>();

  constructor(
    private readonly createConsumer: () => Consumer,
    private readonly options: ConsumerOptions,
    private readonly logger: MessagingLogger,
  ) {
    this.consumer = this.newConsumer();
  }

  async start(handler: BatchHandler): Promise<void> {
    this.handler = handler;
    this.running = true;
    await this.run();
  }

  private newConsumer(): Consumer {
    const consumer = this.createConsumer();
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      this.assigned = event.payload.memberAssignment;
    });
    consumer.on(consumer.events.CRASH, (event) => {
      if (!event.payload.restart && this.running && consumer === this.consumer) void this.replaceAfter(event.payload.error, 1);
    });
    return consumer;
  }

  private async replaceAfter(error: Error, attempt: number): Promise<void> {
    const { min, max } = this.options.retryDelayMs ?? { min: 200, max: 10_000 };
    const delay = Math.min(max, min * 2 ** (attempt - 1));
    this.logger.error(`consumer of ${this.options.topics.join(', ')} stopped (${describeError(error)}); starting a new one in ${delay} ms`, { attempt });
    await new Promise((resolve) => setTimeout(resolve, delay));
    if (!this.running) return;
    await this.consumer.disconnect().catch(() => undefined);
    this.consumer = this.newConsumer();
    await this.run().catch((failure: unknown) => this.replaceAfter(failure instanceof Error ? failure : new Error(String(failure)), attempt + 1));
  }

  private async run(): Promise<void> {
    const { min, max } = this.options.retryDelayMs ?? { min: 200, max: 10_000 };
    const handler = this.handler!;
    const { failures } = this;
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: this.options.topics, fromBeginning: this.options.fromBeginning ?? true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.concurrency ?? 4,
      eachBatch: async ({ batch, isRunning, isStale, heartbeat, pause, resolveOffset, commitOffsetsIfNecessary }) => {
        if (!isRunning() || isStale() || batch.messages.length === 0) return;
        const partitionKey = `${batch.topic}:${batch.partition}`;
        const records: InboundRecord[] = batch.messages.map((message) => ({
          topic: batch.topic,
          partition: batch.partition,
          offset: message.offset,
          key: message.key ? message.key.toString('utf8') : null,
          value: message.value,
          headers: headersOf(message.headers),
        }));
        const partSize = this.options.maxBatchRecords ?? records.length;
        for (let start = 0; start < records.length; start += partSize) {
          // A stop or a rebalance hands back the parts not begun; those done are committed.
          if (start > 0 && (!isRunning() || isStale())) return;
          const part = records.slice(start, start + partSize);
          try {
            await handler({ topic: batch.topic, partition: batch.partition, records: part }, this.stopping.signal);
          } catch (error) {
            // Not committed: the same part is fetched again after a back-off, and the partition
            // pauses meanwhile so the others keep flowing.
            const attempt = (failures.get(partitionKey) ?? 0) + 1;
            failures.set(partitionKey, attempt);
            const delay = Math.min(max, min * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
            this.logger.error(`batch ${partitionKey}@${part[0]!.offset} failed (attempt ${attempt}); retrying in ${Math.round(delay)} ms`, {
              error: describeError(error),
            });
            const resume = pause();
            this.consumer.seek({ topic: batch.topic, partition: batch.partition, offset: part[0]!.offset });
            setTimeout(() => {
              if (!this.pausedTopics.has(batch.topic)) resume();
            }, delay).unref();
            return;
          }
          failures.delete(partitionKey);
          const last = part[part.length - 1]!.offset;
          // Resolving moves kafkajs's fetch position; the commit below makes it survive a restart. The
          // batch's own commit, not the consumer's: that one does nothing once a stop has begun, and the
          // part finished during a stop would go to the next member again.
          resolveOffset(last);
          const next = (BigInt(last) + 1n).toString();
          await commitOffsetsIfNecessary({ topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: next }] }] });
          await heartbeat();
        }
      },
    });
    // A consumer started anew keeps the caller's pauses.
    if (this.pausedTopics.size > 0) this.consumer.pause([...this.pausedTopics].map((topic) => ({ topic })));
  }

  pause(topics: string[] = this.options.topics): void {
    for (const topic of topics) this.pausedTopics.add(topic);
    this.consumer.pause(topics.map((topic) => ({ topic })));
  }

  resume(topics: string[] = this.options.topics): void {
    for (const topic of topics) this.pausedTopics.delete(topic);
    this.consumer.resume(topics.map((topic) => ({ topic })));
  }

  assignments(): Array<{ topic: string; partitions: number[] }> {
    return Object.entries(this.assigned).map(([topic, partitions]) => ({ topic, partitions: [...partitions].sort((a, b) => a - b) }));
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.stopping.abort();
    // kafkajs waits for the batch in flight to finish before leaving the group.
    await this.consumer.disconnect();
  }
}

function headersOf(headers: Record<string, Buffer | string | (Buffer | string)[] | undefined> | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) result[name] = first.toString();
  }
  return result;
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Splits per-topic records into requests of at most about `maxBytes`, keeping each topic's order. */
function* chunksBySize(batches: TopicRecords[], maxBytes: number): Generator<TopicRecords[]> {
  let chunk: TopicRecords[] = [];
  let bytes = 0;
  for (const { topic, records } of batches) {
    for (const record of records) {
      const size = record.key.length + record.value.length + 64;
      if (bytes > 0 && bytes + size > maxBytes) {
        yield chunk;
        chunk = [];
        bytes = 0;
      }
      const last = chunk[chunk.length - 1];
      if (last?.topic === topic) last.records.push(record);
      else chunk.push({ topic, records: [record] });
      bytes += size;
    }
  }
  if (chunk.length > 0) yield chunk;
}

/** Resolves once every partition of the topics has a leader, polling metadata for up to 30 s. */
async function waitForLeaders(admin: Admin, topics: string[]): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ready = await admin
      .fetchTopicMetadata({ topics })
      .then(({ topics: metadata }) => metadata.length === topics.length && metadata.every((topic) => topic.partitions.every((partition) => partition.leader >= 0)))
      .catch(() => false);
    if (ready) return;
    if (Date.now() > deadline) throw new Error(`topics ${topics.join(', ')} have no partition leaders after 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
