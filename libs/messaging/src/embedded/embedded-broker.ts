import type { SqlClient } from '@tandem/state';
import type { BatchConsumer, Broker, ConsumerOptions, Producer, TopicRecords, TopicSpec } from '../broker.interface';
import type { MessagingLogger } from '../messaging-logger';
import { ConsumerGroup } from './consumer-group';
import { EmbeddedBrokerError, EmbeddedBrokerErrorCode } from './embedded-broker.error';
import { EmbeddedConsumer, type ConsumerHost } from './embedded-consumer';
import { partitionForKey } from './key-partition.util';
import { PartitionLogRepository, type CleanupResult, type PartitionAppend, type TopicMeta } from './partition-log.repository';

export interface EmbeddedBrokerOptions {
  /** Where the log is kept: the embedded database, or a server PostgreSQL. */
  db: SqlClient;
  /**
   * How often consumers look for records they were not told about (appended by another process on
   * the same database). Appends in this process wake them at once.
   */
  pollIntervalMs?: number;
  /** How often retention and compaction run. */
  cleanupIntervalMs?: number;
  /** Failed batches and background errors; warnings and errors go to the console when omitted. */
  logger?: MessagingLogger;
}

const consoleLogger: MessagingLogger = {
  info: () => undefined,
  warn: (message, context) => console.warn(message, context ?? ''),
  error: (message, context) => console.error(message, context ?? ''),
};

/**
 * The transport of the single-process default: a partitioned log in SQL tables, with Kafka's
 * behaviour as services see it: per-key order through a stable key hash, offsets per partition,
 * commits per consumer group after the handler resolves, redelivery of failed batches, retention
 * and compaction. Records and committed offsets are as durable as the database, so a restarted
 * group resumes after its last commit.
 *
 * Groups are coordinated in memory: members of one group share its partitions when they consume
 * through the same broker instance. Use one instance per database.
 */
export class EmbeddedBroker implements Broker, ConsumerHost {
  readonly log: PartitionLogRepository;
  readonly logger: MessagingLogger;
  private readonly pollIntervalMs: number;
  private readonly cleanupIntervalMs: number;
  private readonly topicMetas = new Map<string, TopicMeta>();
  /** Known end offset per `topic:partition`. */
  private readonly ends = new Map<string, number>();
  private readonly groups = new Map<string, ConsumerGroup>();
  private readonly consumers = new Set<EmbeddedConsumer>();
  private pollTimer: NodeJS.Timeout | undefined;
  private cleanupTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(options: EmbeddedBrokerOptions) {
    this.log = new PartitionLogRepository(options.db);
    this.logger = options.logger ?? consoleLogger;
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000;
    this.cleanupIntervalMs = options.cleanupIntervalMs ?? 60_000;
  }

  async ensureTopics(topics: TopicSpec[]): Promise<void> {
    await this.ready();
    for (const topic of topics) {
      if (!Number.isInteger(topic.partitions) || topic.partitions < 1) {
        throw new EmbeddedBrokerError(EmbeddedBrokerErrorCode.InvalidTopic, `topic ${topic.name} needs at least one partition, got ${topic.partitions}`);
      }
      if (topic.retentionMs !== undefined && !(topic.retentionMs > 0)) {
        throw new EmbeddedBrokerError(EmbeddedBrokerErrorCode.InvalidTopic, `topic ${topic.name} has a retention of ${topic.retentionMs} ms`);
      }
    }
    if (topics.length === 0) return;
    await this.log.createTopics(topics);
    await this.topics(topics.map((topic) => topic.name));
  }

  async producer(): Promise<Producer> {
    await this.ready();
    return { send: (batches) => this.send(batches) };
  }

  consumer(options: ConsumerOptions): BatchConsumer {
    this.assertOpen();
    const consumer = new EmbeddedConsumer(this, options);
    this.consumers.add(consumer);
    return consumer;
  }

  async ping(): Promise<void> {
    this.assertOpen();
    await this.log.ping();
  }

  /** Stops every consumer (each finishing and committing its batches in flight); the database stays open. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.cleanupTimer);
    await Promise.all([...this.consumers].map((consumer) => consumer.stop()));
    this.consumers.clear();
    clearTimeout(this.pollTimer);
  }

  /** Applies retention and compaction now; they also run every `cleanupIntervalMs`. */
  async cleanup(): Promise<CleanupResult> {
    await this.ready();
    return this.log.cleanup();
  }

  async join(member: EmbeddedConsumer): Promise<ConsumerGroup> {
    await this.ready();
    const { groupId, topics } = member.options;
    const metas = await this.topics(topics);
    for (const { topic, partition, offset } of await this.log.endOffsets(topics)) this.advanceEnd(topic, partition, offset);
    // Checked again: the broker may have closed while the topics were read.
    this.assertOpen();
    let group = this.groups.get(groupId);
    if (group === undefined) {
      group = new ConsumerGroup(groupId);
      this.groups.set(groupId, group);
    }
    group.join(member, new Map([...metas].map(([name, meta]) => [name, meta.partitions])));
    this.schedulePoll();
    return group;
  }

  leave(member: EmbeddedConsumer): void {
    const { groupId } = member.options;
    const group = this.groups.get(groupId);
    if (group === undefined) return;
    group.leave(member);
    if (group.empty) this.groups.delete(groupId);
    this.consumers.delete(member);
  }

  knownEnd(topic: string, partition: number): number | undefined {
    return this.ends.get(`${topic}:${partition}`);
  }

  private async send(batches: TopicRecords[]): Promise<void> {
    this.assertOpen();
    const withRecords = batches.filter((batch) => batch.records.length > 0);
    if (withRecords.length === 0) return;
    const metas = await this.topics([...new Set(withRecords.map((batch) => batch.topic))]);
    const appends = new Map<string, PartitionAppend>();
    for (const { topic, records } of withRecords) {
      const partitions = metas.get(topic)?.partitions ?? 1;
      for (const record of records) {
        const partition = partitionForKey(record.key, partitions);
        const key = `${topic}:${partition}`;
        let append = appends.get(key);
        if (append === undefined) {
          append = { topic, partition, records: [] };
          appends.set(key, append);
        }
        append.records.push({ key: record.key, value: record.value, headers: record.headers ?? {} });
      }
    }
    const ends = await this.log.append([...appends.values()]);
    for (const { topic, partition, offset } of ends) this.advanceEnd(topic, partition, offset);
    for (const group of this.groups.values()) group.pumpAll();
  }

  /** The topics' metadata, read from the database for names not seen yet; unknown names are an error. */
  private async topics(names: string[]): Promise<Map<string, TopicMeta>> {
    const missing = names.filter((name) => !this.topicMetas.has(name));
    if (missing.length > 0) {
      for (const [name, meta] of await this.log.topics(missing)) this.topicMetas.set(name, meta);
    }
    const found = new Map<string, TopicMeta>();
    for (const name of names) {
      const meta = this.topicMetas.get(name);
      if (meta === undefined) {
        throw new EmbeddedBrokerError(EmbeddedBrokerErrorCode.UnknownTopic, `unknown topic ${name}; create it with ensureTopics`);
      }
      found.set(name, meta);
    }
    return found;
  }

  private advanceEnd(topic: string, partition: number, offset: number): void {
    const key = `${topic}:${partition}`;
    if (offset > (this.ends.get(key) ?? 0)) this.ends.set(key, offset);
  }

  /** Creates the tables on first use and starts the cleanup schedule. */
  private async ready(): Promise<void> {
    this.assertOpen();
    await this.log.ready();
    if (this.cleanupTimer === undefined && !this.closed) this.scheduleCleanup();
  }

  private scheduleCleanup(): void {
    this.cleanupTimer = setTimeout(() => {
      this.log
        .cleanup()
        .then(({ expired, compacted }) => {
          if (expired + compacted > 0) this.logger.info(`embedded broker cleanup removed ${expired} expired and ${compacted} compacted records`);
        })
        .catch((error: unknown) => this.logger.error('embedded broker cleanup failed', { error: String(error) }))
        .finally(() => {
          if (!this.closed) this.scheduleCleanup();
        });
    }, this.cleanupIntervalMs);
    this.cleanupTimer.unref();
  }

  /** While any group is active, reads the log ends of its topics and lets every group look for work. */
  private schedulePoll(): void {
    if (this.pollTimer !== undefined) return;
    this.pollTimer = setTimeout(() => {
      const topics = [...new Set([...this.consumers].flatMap((consumer) => consumer.topics))];
      this.log
        .endOffsets(topics)
        .then((ends) => {
          for (const { topic, partition, offset } of ends) this.advanceEnd(topic, partition, offset);
          // Also the late wake-up for partitions whose back-off ended after their owner left.
          for (const group of this.groups.values()) group.pumpAll();
        })
        .catch((error: unknown) => this.logger.warn('embedded broker could not read the log ends', { error: String(error) }))
        .finally(() => {
          this.pollTimer = undefined;
          if (!this.closed && this.groups.size > 0) this.schedulePoll();
        });
    }, this.pollIntervalMs);
    this.pollTimer.unref();
  }

  private assertOpen(): void {
    if (this.closed) throw new EmbeddedBrokerError(EmbeddedBrokerErrorCode.Closed, 'the embedded broker is closed');
  }
}
