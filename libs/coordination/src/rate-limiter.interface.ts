/** At most `limit` grants in any window of `windowMs` (rolling, not fixed buckets). */
export interface RateLimitPolicy {
  limit: number;
  windowMs: number;
}

/**
 * `grantedAtMs` is when the grant was recorded, on the limiter's clock (the Redis server's for the
 * shared limiter); `retryAfterMs` is how long until this request could be granted.
 */
export type RateLimitDecision = { granted: true; grantedAtMs: number } | { granted: false; retryAfterMs: number };

export interface RateLimitGrant {
  grantedAtMs: number;
}

export interface AcquireOptions {
  signal?: AbortSignal;
  cost?: number;
}

/**
 * A rate limit shared by every replica per key (e.g. one HubSpot account). Every caller of a key
 * must use the same policy.
 */
export interface RateLimiter {
  /** Grants `cost` units now or says how long to wait; never waits itself. */
  tryAcquire(key: string, policy: RateLimitPolicy, cost?: number): Promise<RateLimitDecision>;
  /** Waits, sleeping between attempts, until granted; rejects with `aborted` when `signal` aborts. */
  acquire(key: string, policy: RateLimitPolicy, options?: AcquireOptions): Promise<RateLimitGrant>;
  /**
   * Refuses every grant for `key` during the next `durationMs`, across replicas (e.g. honouring a
   * 429's Retry-After). A duration rather than a deadline, so replicas' clocks need not agree.
   * Never shortens a longer block already in place.
   */
  penalize(key: string, durationMs: number): Promise<void>;
}
