import type { RateLimitPolicyName } from './api-answer.util';
import type { RollingLimit } from './simulator-options.schema';

/** Counts admitted requests in a rolling window: one admitted at t counts until t + windowMs. */
class RollingWindow {
  private readonly admitted: number[] = [];

  constructor(readonly limit: number, readonly windowMs: number) {}

  used(now: number): number {
    while (this.admitted.length > 0 && (this.admitted[0] as number) <= now - this.windowMs) this.admitted.shift();
    return this.admitted.length;
  }

  hasRoom(now: number): boolean {
    return this.used(now) < this.limit;
  }

  take(now: number): void {
    this.admitted.push(now);
  }
}

/** Requests admitted per UTC day. */
class DailyQuota {
  private day = '';
  private count = 0;

  constructor(readonly limit: number) {}

  used(now: number): number {
    const day = new Date(now).toISOString().slice(0, 10);
    if (day !== this.day) {
      this.day = day;
      this.count = 0;
    }
    return this.count;
  }

  take(now: number): void {
    this.used(now);
    this.count += 1;
  }
}

export type Admission =
  | { admitted: true; headers: Record<string, string> }
  | { admitted: false; policyName: RateLimitPolicyName; headers: Record<string, string> };

export interface AccountLimits {
  rateLimit: RollingLimit;
  secondlyLimit: number | null;
  dailyLimit: number;
  searchRateLimit: RollingLimit;
}

/**
 * The account's rate limits. Only admitted requests use up quota. Search has its own rolling limit and
 * counts toward the daily quota, but not toward the ten-secondly one.
 */
export class AccountRateLimits {
  private readonly tenSecondly: RollingWindow;
  private readonly secondly: RollingWindow | null;
  private readonly daily: DailyQuota;
  private readonly search: RollingWindow;

  constructor(limits: AccountLimits) {
    this.tenSecondly = new RollingWindow(limits.rateLimit.limit, limits.rateLimit.windowMs);
    this.secondly = limits.secondlyLimit === null ? null : new RollingWindow(limits.secondlyLimit, 1_000);
    this.daily = new DailyQuota(limits.dailyLimit);
    this.search = new RollingWindow(limits.searchRateLimit.limit, limits.searchRateLimit.windowMs);
  }

  admit(now: number): Admission {
    const refused = this.refusingPolicy(now);
    if (refused === null) {
      this.tenSecondly.take(now);
      this.secondly?.take(now);
      this.daily.take(now);
    }
    const headers = this.headers(now);
    return refused === null ? { admitted: true, headers } : { admitted: false, policyName: refused, headers };
  }

  /** Search answers never carry rate-limit headers. */
  admitSearch(now: number): { admitted: true } | { admitted: false; policyName: RateLimitPolicyName } {
    if (this.daily.used(now) >= this.daily.limit) return { admitted: false, policyName: 'DAILY' };
    // HubSpot reports search's own limit as the SECONDLY policy.
    if (!this.search.hasRoom(now)) return { admitted: false, policyName: 'SECONDLY' };
    this.search.take(now);
    this.daily.take(now);
    return { admitted: true };
  }

  /** The headers of an answer sent now, without admitting anything. */
  headers(now: number): Record<string, string> {
    const headers: Record<string, string> = {
      'X-HubSpot-RateLimit-Daily': String(this.daily.limit),
      'X-HubSpot-RateLimit-Daily-Remaining': String(Math.max(0, this.daily.limit - this.daily.used(now))),
      'X-HubSpot-RateLimit-Interval-Milliseconds': String(this.tenSecondly.windowMs),
      'X-HubSpot-RateLimit-Max': String(this.tenSecondly.limit),
      'X-HubSpot-RateLimit-Remaining': String(Math.max(0, this.tenSecondly.limit - this.tenSecondly.used(now))),
    };
    if (this.secondly) {
      headers['X-HubSpot-RateLimit-Secondly'] = String(this.secondly.limit);
      headers['X-HubSpot-RateLimit-Secondly-Remaining'] = String(
        Math.max(0, this.secondly.limit - this.secondly.used(now)),
      );
    }
    return headers;
  }

  private refusingPolicy(now: number): RateLimitPolicyName | null {
    if (this.daily.used(now) >= this.daily.limit) return 'DAILY';
    if (this.secondly && !this.secondly.hasRoom(now)) return 'SECONDLY';
    if (!this.tenSecondly.hasRoom(now)) return 'TEN_SECONDLY_ROLLING';
    return null;
  }
}
