import { assertPositiveInteger, assertRateLimitRequest } from '../coordination-arguments.util';
import type {
  AcquireOptions,
  RateLimitDecision,
  RateLimitGrant,
  RateLimiter,
  RateLimitPolicy,
} from '../rate-limiter.interface';
import { waitForGrant } from '../wait-for-grant.util';

/** In-process rolling-window limiter: the same log-of-grants algorithm as the Redis script. */
export class MemoryRateLimiter implements RateLimiter {
  /** Grant times per key, oldest first; one entry per unit of cost. */
  private readonly logs = new Map<string, number[]>();
  private readonly blockedUntil = new Map<string, number>();

  async tryAcquire(key: string, policy: RateLimitPolicy, cost = 1): Promise<RateLimitDecision> {
    assertRateLimitRequest(policy, cost);
    const now = Date.now();
    const blocked = this.blockedUntil.get(key);
    if (blocked !== undefined) {
      if (blocked > now) return { granted: false, retryAfterMs: blocked - now };
      this.blockedUntil.delete(key);
    }
    const log = this.logs.get(key) ?? [];
    // A grant at time t counts for every window containing t, i.e. until now >= t + windowMs.
    const firstLive = log.findIndex((grantedAt) => grantedAt > now - policy.windowMs);
    log.splice(0, firstLive === -1 ? log.length : firstLive);
    if (log.length + cost <= policy.limit) {
      for (let unit = 0; unit < cost; unit += 1) log.push(now);
      this.logs.set(key, log);
      return { granted: true, grantedAtMs: now };
    }
    this.logs.set(key, log);
    // The grant that has to age out before `cost` more units fit.
    const freeing = log[log.length + cost - policy.limit - 1] ?? now;
    return { granted: false, retryAfterMs: Math.max(1, freeing + policy.windowMs - now) };
  }

  acquire(key: string, policy: RateLimitPolicy, options: AcquireOptions = {}): Promise<RateLimitGrant> {
    return waitForGrant(() => this.tryAcquire(key, policy, options.cost ?? 1), options.signal);
  }

  async penalize(key: string, durationMs: number): Promise<void> {
    assertPositiveInteger(durationMs, 'durationMs');
    const until = Date.now() + durationMs;
    if ((this.blockedUntil.get(key) ?? 0) < until) this.blockedUntil.set(key, until);
  }
}
