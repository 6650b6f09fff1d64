import type { Coordination } from '../coordination.interface';
import { MemoryDedupeWindow } from './memory-dedupe-window.store';
import { MemoryLease } from './memory-lease.store';
import { MemoryRateLimiter } from './memory-rate-limiter.store';

/** Coordination for the embedded mode: one process, so in-process state is shared by everyone. */
export function createMemoryCoordination(): Coordination {
  return {
    lease: new MemoryLease(),
    dedupe: new MemoryDedupeWindow(),
    rateLimiter: new MemoryRateLimiter(),
    ping: async () => undefined,
    close: async () => undefined,
  };
}
