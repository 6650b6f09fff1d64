import type { Publisher, TracedDraft } from '@tandem/messaging';

export interface PublishOutput {
  topic: string;
  entries: readonly TracedDraft[];
}

/** One batch's turn at a `CoalescingPublisher`: it publishes once, or leaves without publishing. */
export interface BatchPublication {
  publishAll(outputs: readonly PublishOutput[]): Promise<void>;
  /** The batch is done (or failed); a no-op after `publishAll`. */
  leave(): void;
}

interface Waiting {
  outputs: readonly PublishOutput[];
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * Makes the partitions' batches worked at the same time publish in one producer request. Kafka hands
 * a consumer the partitions of one fetch together, but they finish at different moments; published
 * one by one, their outputs reach the next consumer in different fetches, and a downstream stage
 * that shares calls between partitions (HubSpot's batch endpoints) makes one call per fetch. So a
 * batch that is ready waits until every batch that joined with it has published or left, at most
 * `maxWaitMs`. The round ends with its slowest batch anyway, so throughput is unchanged.
 */
export class CoalescingPublisher {
  /** Batches that joined and have neither published nor left. */
  private working = 0;
  private waiting: Waiting[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly publisher: Pick<Publisher, 'publishAll'>,
    private readonly options: { maxWaitMs: number },
  ) {}

  /** Called when a batch starts, so that batches ready earlier wait for it. */
  join(): BatchPublication {
    this.working += 1;
    let settled = false;
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      this.working -= 1;
      return true;
    };
    return {
      publishAll: (outputs) => {
        if (!settle()) return Promise.reject(new Error('a batch publishes its outputs once'));
        return new Promise<void>((resolve, reject) => {
          this.waiting.push({ outputs, resolve, reject });
          this.schedule();
        });
      },
      leave: () => {
        if (settle()) this.schedule();
      },
    };
  }

  private schedule(): void {
    if (this.waiting.length === 0) return;
    if (this.working === 0) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.options.maxWaitMs);
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const callers = this.waiting;
    this.waiting = [];
    // Each caller's messages keep their order per topic; callers are different partitions.
    const byTopic = new Map<string, TracedDraft[]>();
    for (const { topic, entries } of callers.flatMap((caller) => caller.outputs)) {
      const merged = byTopic.get(topic);
      if (merged) merged.push(...entries);
      else byTopic.set(topic, [...entries]);
    }
    this.publisher.publishAll([...byTopic].map(([topic, entries]) => ({ topic, entries }))).then(
      () => callers.forEach((caller) => caller.resolve()),
      (error: unknown) => callers.forEach((caller) => caller.reject(error)),
    );
  }
}
