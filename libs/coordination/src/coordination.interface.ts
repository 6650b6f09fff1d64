import type { DedupeWindow } from './dedupe-window.interface';
import type { Lease } from './lease.interface';
import type { RateLimiter } from './rate-limiter.interface';

/** The coordination primitives replicas share: Redis in production, in-process when embedded. */
export interface Coordination {
  readonly lease: Lease;
  readonly dedupe: DedupeWindow;
  readonly rateLimiter: RateLimiter;
  /** Rejects as `unavailable` while the shared store cannot be reached. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
