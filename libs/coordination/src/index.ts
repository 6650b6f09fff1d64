export * from './coordination.error';
export type { Coordination } from './coordination.interface';
export type { Lease, LeaseGrant } from './lease.interface';
export type { DedupeWindow } from './dedupe-window.interface';
export type {
  AcquireOptions,
  RateLimitDecision,
  RateLimitGrant,
  RateLimiter,
  RateLimitPolicy,
} from './rate-limiter.interface';
export { LeaseKeeper, type LeaseKeeperOptions } from './lease-keeper.service';
export { createMemoryCoordination } from './memory/memory-coordination.factory';
export { createRedisCoordination } from './redis/redis-coordination.factory';
export type { RedisCoordinationOptions } from './redis/redis-client.util';
