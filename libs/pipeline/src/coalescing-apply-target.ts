import type { ApplyInput, ApplyOutcome, ApplyTarget } from './applier.pipeline';

interface Waiting {
  commands: ApplyInput[];
  resolve(outcomes: ApplyOutcome[]): void;
  reject(error: unknown): void;
}

export interface CoalescingOptions {
  /** Commands one call to the target takes at most (HubSpot's batch endpoints: 100). */
  maxCommands: number;
  /** How long the first caller waits for others to share its call. */
  lingerMs: number;
}

/**
 * Gathers the batches of partitions worked at the same time into shared calls to the target, so
 * 15 changes spread over 12 partitions cost one API call, not 12. Each caller gets its own
 * commands' outcomes back, or the call's failure, so per-partition commits and retries are unchanged.
 */
export class CoalescingApplyTarget implements ApplyTarget {
  private waiting: Waiting[] = [];
  private pendingCommands = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly target: ApplyTarget,
    private readonly options: CoalescingOptions,
  ) {}

  apply(commands: ApplyInput[]): Promise<ApplyOutcome[]> {
    if (commands.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.waiting.push({ commands, resolve, reject });
      this.pendingCommands += commands.length;
      if (this.pendingCommands >= this.options.maxCommands) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.options.lingerMs);
    });
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const callers = this.waiting;
    this.waiting = [];
    this.pendingCommands = 0;
    this.target.apply(callers.flatMap((caller) => caller.commands)).then(
      (outcomes) => {
        let offset = 0;
        for (const caller of callers) {
          caller.resolve(outcomes.slice(offset, offset + caller.commands.length));
          offset += caller.commands.length;
        }
      },
      (error: unknown) => callers.forEach((caller) => caller.reject(error)),
    );
  }
}
