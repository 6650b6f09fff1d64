export interface StageTiming {
  count: number;
  totalMs: number;
  maxMs: number;
}

/**
 * Cumulative time per pipeline stage (load, publish, save, …), shown on the health page and read by
 * benchmarks to see where a batch spends its time.
 */
export class StageTimings {
  readonly stages: Record<string, StageTiming> = {};

  async time<T>(stage: string, work: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await work();
    } finally {
      const elapsed = performance.now() - started;
      const timing = (this.stages[stage] ??= { count: 0, totalMs: 0, maxMs: 0 });
      timing.count += 1;
      timing.totalMs = Math.round(timing.totalMs + elapsed);
      timing.maxMs = Math.max(timing.maxMs, Math.round(elapsed));
    }
  }
}
