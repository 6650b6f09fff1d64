import type { BatchConsumer, BatchHandler, ConsumerOptions } from '../broker.interface';
import type { MessagingLogger } from '../messaging-logger';
import type { ConsumerGroup, GroupMember, PartitionState } from './consumer-group';
import { EmbeddedBrokerError, EmbeddedBrokerErrorCode } from './embedded-broker.error';
import type { PartitionLogRepository } from './partition-log.repository';

/** Records per fetch: one query per batch, and batches big enough for the handlers' bulk writes. */
const MAX_BATCH_RECORDS = 500;

/** What a consumer needs of its broker. */
export interface ConsumerHost {
  readonly log: PartitionLogRepository;
  readonly logger: MessagingLogger;
  /** Joins the member's group (after checking its topics exist) and returns the group. */
  join(member: EmbeddedConsumer): Promise<ConsumerGroup>;
  leave(member: EmbeddedConsumer): void;
  /** The end of the partition's log as far as this process knows. */
  knownEnd(topic: string, partition: number): number | undefined;
}

/**
 * Works the partitions its group assigns it, at most `concurrency` at a time, one batch per
 * partition at a time, in offset order. A batch is committed only after its handler resolves; a
 * failed one is redelivered after a back-off while the other partitions keep flowing.
 */
export class EmbeddedConsumer implements BatchConsumer, GroupMember {
  private status: 'new' | 'running' | 'stopped' = 'new';
  private handler: BatchHandler | undefined;
  private group: ConsumerGroup | undefined;
  private readonly paused = new Set<string>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly stopping = new AbortController();
  /** Where the next look for work starts, so busy partitions cannot starve the others. */
  private nextIndex = 0;

  constructor(
    private readonly host: ConsumerHost,
    readonly options: ConsumerOptions,
  ) {}

  get topics(): readonly string[] {
    return this.options.topics;
  }

  async start(handler: BatchHandler): Promise<void> {
    if (this.status !== 'new') {
      throw new EmbeddedBrokerError(EmbeddedBrokerErrorCode.ConsumerStarted, `a consumer of group ${this.options.groupId} starts once; this one was already started or stopped`);
    }
    this.status = 'running';
    this.handler = handler;
    let group: ConsumerGroup;
    try {
      group = await this.host.join(this);
    } catch (error) {
      this.status = 'new';
      throw error;
    }
    if (this.status !== 'running') {
      // Stopped while joining: it must not keep partitions from the other members.
      this.host.leave(this);
      return;
    }
    this.group = group;
    this.pump();
  }

  pause(topics: string[] = this.options.topics): void {
    for (const topic of topics) this.paused.add(topic);
  }

  resume(topics: string[] = this.options.topics): void {
    for (const topic of topics) this.paused.delete(topic);
    this.pump();
  }

  async stop(): Promise<void> {
    if (this.status !== 'running') {
      this.status = 'stopped';
      return;
    }
    this.status = 'stopped';
    this.stopping.abort();
    // Batches in flight finish and commit; only then do their partitions pass to other members.
    await Promise.all([...this.inFlight]);
    this.host.leave(this);
    this.group = undefined;
  }

  assignments(): Array<{ topic: string; partitions: number[] }> {
    if (this.group === undefined) return [];
    return [...this.group.assignedTo(this)].map(([topic, partitions]) => ({ topic, partitions: [...partitions].sort((a, b) => a - b) }));
  }

  /** Starts a batch on every assigned partition that has records, is free, and is not paused or backing off. */
  pump(): void {
    const group = this.group;
    if (this.status !== 'running' || group === undefined) return;
    const candidates = [...group.assignedTo(this)].flatMap(([topic, partitions]) =>
      this.paused.has(topic) ? [] : partitions.map((partition) => ({ topic, partition })),
    );
    const concurrency = this.options.concurrency ?? 4;
    const start = this.nextIndex;
    const now = Date.now();
    for (let step = 0; step < candidates.length && this.inFlight.size < concurrency; step += 1) {
      const index = (start + step) % candidates.length;
      const candidate = candidates[index];
      if (candidate === undefined) continue;
      const { topic, partition } = candidate;
      const state = group.state(topic, partition);
      if (state.busy || state.retryAt > now) continue;
      const end = this.host.knownEnd(topic, partition) ?? 0;
      if (state.position !== undefined && state.position >= end) continue;
      this.nextIndex = index + 1;
      state.busy = true;
      const task = this.work(group, topic, partition, state).finally(() => {
        state.busy = false;
        this.inFlight.delete(task);
        group.pumpAll();
      });
      this.inFlight.add(task);
    }
  }

  /** One fetch, one delivery, one commit; never rejects. */
  private async work(group: ConsumerGroup, topic: string, partition: number, state: PartitionState): Promise<void> {
    const { log } = this.host;
    let firstOffset = state.position;
    try {
      state.position ??= await this.initialPosition(group, topic, partition);
      firstOffset = state.position;
      const end = this.host.knownEnd(topic, partition) ?? 0;
      if (state.position >= end) return;
      const records = await log.fetch(topic, partition, state.position, this.options.maxBatchRecords ?? MAX_BATCH_RECORDS);
      const last = records.at(-1);
      if (last === undefined) {
        // Everything up to the known end was removed by retention or compaction.
        state.position = end;
        return;
      }
      // The assignment or a pause may have changed while the records were read.
      if (this.status !== 'running' || this.paused.has(topic) || !group.owns(this, topic, partition)) return;
      firstOffset = Number(records[0]?.offset ?? last.offset);
      try {
        await this.handler?.({ topic, partition, records }, this.stopping.signal);
      } catch (error) {
        // Uncommitted: when stopping, the partition's next owner gets the batch again.
        if (this.status === 'running') this.backOff(group, topic, partition, state, firstOffset, error);
        return;
      }
      const next = Number(last.offset) + 1;
      await log.commit(group.groupId, topic, partition, next);
      state.failures = 0;
      state.position = next;
    } catch (error) {
      // The log could not be read or the commit failed: the same batch is fetched again.
      this.backOff(group, topic, partition, state, firstOffset, error);
    }
  }

  private async initialPosition(group: ConsumerGroup, topic: string, partition: number): Promise<number> {
    const committed = await this.host.log.committed(group.groupId, topic, partition);
    if (committed !== null) return committed;
    if (this.options.fromBeginning ?? true) return 0;
    const ends = await this.host.log.endOffsets([topic]);
    return ends.find((end) => end.partition === partition)?.offset ?? 0;
  }

  private backOff(
    group: ConsumerGroup,
    topic: string,
    partition: number,
    state: PartitionState,
    firstOffset: number | undefined,
    error: unknown,
  ): void {
    const { min, max } = this.options.retryDelayMs ?? { min: 200, max: 10_000 };
    state.failures += 1;
    const delay = Math.min(max, min * 2 ** (state.failures - 1)) * (0.5 + Math.random() / 2);
    state.retryAt = Date.now() + delay;
    this.host.logger.error(
      `batch ${topic}:${partition}@${firstOffset ?? '?'} of group ${group.groupId} failed (attempt ${state.failures}); retrying in ${Math.round(delay)} ms`,
      { error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) },
    );
    // Left running at stop: the partition's next owner must also learn that the back-off is over.
    setTimeout(() => group.pumpAll(), delay).unref();
  }
}
