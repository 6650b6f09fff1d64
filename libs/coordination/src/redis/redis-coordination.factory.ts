import type { Coordination } from '../coordination.interface';
import { callRedis, DEFAULT_KEY_PREFIX, openRedis, type RedisCoordinationOptions } from './redis-client.util';
import { RedisDedupeWindow } from './redis-dedupe-window.store';
import { RedisLease } from './redis-lease.store';
import { RedisRateLimiter } from './redis-rate-limiter.store';

/**
 * Coordination shared by every replica through one standalone Redis (scripts touch several keys,
 * so Redis Cluster is not supported). Never rejects: while Redis cannot be reached, every operation
 * does, as `unavailable`.
 */
export async function createRedisCoordination(url: string, options: RedisCoordinationOptions = {}): Promise<Coordination> {
  const redis = await openRedis(url, options);
  const keyPrefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
  return {
    lease: new RedisLease(redis, keyPrefix),
    dedupe: new RedisDedupeWindow(redis, keyPrefix),
    rateLimiter: new RedisRateLimiter(redis, keyPrefix),
    ping: async () => void (await callRedis('ping', () => redis.ping())),
    close: async () => {
      try {
        await redis.quit();
      } catch {
        // QUIT needs a live connection; without one, dropping the socket is all that is left to do.
        redis.disconnect();
      }
    },
  };
}
