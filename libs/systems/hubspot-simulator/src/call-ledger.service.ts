/** Every API call received, by 'METHOD /path-template', and when (for the peak rate). */
export class CallLedger {
  private counts = new Map<string, number>();
  /** Receive times of non-search calls, in order. */
  private times: number[] = [];
  private limited = 0;

  record(key: string, isSearch: boolean, now: number): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    if (!isSearch) this.times.push(now);
  }

  recordRateLimited(): void {
    this.limited += 1;
  }

  calls(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  callCount(key?: string): number {
    if (key !== undefined) return this.counts.get(key) ?? 0;
    let total = 0;
    for (const count of this.counts.values()) total += count;
    return total;
  }

  rateLimited(): number {
    return this.limited;
  }

  /** The most calls whose receive times fit in one window [t, t + windowMs). */
  maxInWindow(windowMs: number): number {
    let peak = 0;
    let start = 0;
    for (let end = 0; end < this.times.length; end += 1) {
      while ((this.times[end] as number) - (this.times[start] as number) >= windowMs) start += 1;
      peak = Math.max(peak, end - start + 1);
    }
    return peak;
  }

  reset(): void {
    this.counts = new Map();
    this.times = [];
    this.limited = 0;
  }
}
