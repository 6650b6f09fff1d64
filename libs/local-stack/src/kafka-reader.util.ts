import { Kafka, logLevel, type Admin } from 'kafkajs';

export interface PartitionOffsets {
  /** Next offset to be written, per partition. */
  high: Map<number, bigint>;
  /** The group's committed offset per partition (the next one it will read); missing when none. */
  committed: Map<number, bigint>;
}

/** Tandem's topics and consumer groups read from outside, through the admin API and a group-less read. */
export class KafkaReader {
  private readonly kafka: Kafka;
  private admin: Admin | null = null;

  constructor(brokers: string[]) {
    this.kafka = new Kafka({ clientId: 'tandem-reader', brokers, logLevel: logLevel.NOTHING, retry: { retries: 3 } });
  }

  async offsets(topic: string, groupId: string): Promise<PartitionOffsets> {
    const admin = await this.connectedAdmin();
    const high = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)] as const));
    const [group] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const committed = new Map<number, bigint>();
    for (const p of group?.partitions ?? []) if (Number(p.offset) >= 0) committed.set(p.partition, BigInt(p.offset));
    return { high, committed };
  }

  /** Consumer lag of a group on a topic: messages written and not yet committed. */
  async lag(topic: string, groupId: string): Promise<number> {
    const { high, committed } = await this.offsets(topic, groupId);
    let lag = 0n;
    for (const [partition, end] of high) lag += end - (committed.get(partition) ?? 0n);
    return Number(lag);
  }

  /** Every message of a topic up to its current end, as parsed JSON with partition and offset. */
  async readAll(topic: string): Promise<{ partition: number; offset: bigint; value: Record<string, unknown> }[]> {
    const admin = await this.connectedAdmin();
    const ends = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)] as const));
    const remaining = new Set([...ends].filter(([, end]) => end > 0n).map(([partition]) => partition));
    const messages: { partition: number; offset: bigint; value: Record<string, unknown> }[] = [];
    if (remaining.size === 0) return messages;
    const groupId = `tandem-reader-${process.pid}-${Date.now()}`;
    const consumer = this.kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((done, fail) => {
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            for (const message of batch.messages) {
              const offset = BigInt(message.offset);
              if (offset >= (ends.get(batch.partition) ?? 0n)) continue;
              messages.push({ partition: batch.partition, offset, value: JSON.parse(message.value?.toString('utf8') ?? 'null') as Record<string, unknown> });
              if (offset + 1n >= ends.get(batch.partition)!) remaining.delete(batch.partition);
            }
            if (remaining.size === 0) done();
          },
        })
        .catch(fail);
    });
    await consumer.disconnect();
    // The group only served this read; it committed nothing, but the broker would keep it.
    await admin.deleteGroups([groupId]);
    return messages;
  }

  async close(): Promise<void> {
    await this.admin?.disconnect();
    this.admin = null;
  }

  private async connectedAdmin(): Promise<Admin> {
    if (!this.admin) {
      const admin = this.kafka.admin();
      await admin.connect();
      this.admin = admin;
    }
    return this.admin;
  }
}
