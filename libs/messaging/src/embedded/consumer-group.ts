/** What the group needs of a member: its subscription, and a nudge when there may be work for it. */
export interface GroupMember {
  readonly topics: readonly string[];
  pump(): void;
}

/** One partition as the group sees it; shared by members, so a partition moves with its position. */
export interface PartitionState {
  /** Next offset to read; unknown until first read from the group's commit. */
  position: number | undefined;
  /** A member is fetching or handling this partition: nobody else may until it is done. */
  busy: boolean;
  /** Consecutive failed deliveries of the batch at `position`. */
  failures: number;
  /** Epoch ms before which the failed batch is not redelivered. */
  retryAt: number;
}

/**
 * A consumer group's members in this process and who owns which partition. Every topic's
 * partitions are dealt round-robin over the members subscribed to it, in joining order, and dealt
 * again whenever a member joins or leaves. A partition handed over while its old owner still works
 * on a batch stays `busy` until that batch is committed, so a partition is never worked twice at
 * once and its order holds across the hand-over.
 */
export class ConsumerGroup {
  private readonly members: GroupMember[] = [];
  private readonly partitionCounts = new Map<string, number>();
  private owned = new Map<GroupMember, Map<string, number[]>>();
  private readonly partitions = new Map<string, PartitionState>();

  constructor(readonly groupId: string) {}

  join(member: GroupMember, partitionCounts: ReadonlyMap<string, number>): void {
    for (const [topic, count] of partitionCounts) this.partitionCounts.set(topic, count);
    this.members.push(member);
    this.rebalance();
  }

  leave(member: GroupMember): void {
    const index = this.members.indexOf(member);
    if (index < 0) return;
    this.members.splice(index, 1);
    this.rebalance();
  }

  get empty(): boolean {
    return this.members.length === 0;
  }

  /** The member's partitions per topic, topics with none left out. */
  assignedTo(member: GroupMember): ReadonlyMap<string, number[]> {
    return this.owned.get(member) ?? new Map();
  }

  owns(member: GroupMember, topic: string, partition: number): boolean {
    return this.owned.get(member)?.get(topic)?.includes(partition) ?? false;
  }

  state(topic: string, partition: number): PartitionState {
    const key = `${topic}:${partition}`;
    let state = this.partitions.get(key);
    if (state === undefined) {
      state = { position: undefined, busy: false, failures: 0, retryAt: 0 };
      this.partitions.set(key, state);
    }
    return state;
  }

  /** Lets every member look for work: new records, a freed partition, an expired back-off. */
  pumpAll(): void {
    for (const member of [...this.members]) member.pump();
  }

  private rebalance(): void {
    const owned = new Map<GroupMember, Map<string, number[]>>();
    for (const [topic, count] of this.partitionCounts) {
      const subscribers = this.members.filter((member) => member.topics.includes(topic));
      for (let partition = 0; partition < count && subscribers.length > 0; partition += 1) {
        const owner = subscribers[partition % subscribers.length];
        if (owner === undefined) continue;
        const topics = owned.get(owner) ?? new Map<string, number[]>();
        topics.set(topic, [...(topics.get(topic) ?? []), partition]);
        owned.set(owner, topics);
      }
    }
    this.owned = owned;
    this.pumpAll();
  }
}
