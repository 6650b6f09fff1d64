import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { assertPositiveInteger, assertRateLimitRequest } from '../coordination-arguments.util';
import type {
  AcquireOptions,
  RateLimitDecision,
  RateLimitGrant,
  RateLimiter,
  RateLimitPolicy,
} from '../rate-limiter.interface';
import { waitForGrant } from '../wait-for-grant.util';
import { callRedis, unexpectedReply } from './redis-client.util';
import { RedisScript } from './redis-script.util';

// Time comes from the Redis server so that every replica judges the window on one clock.
const NOW_MS = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
`;

// A rolling window kept as a log: KEYS[1] is a sorted set with one member per granted unit, scored
// by grant time; KEYS[2] holds the time until which the key is blocked. A grant at t counts until
// now >= t + window, so no window of that length ever holds more than `limit` units.
// ARGV: limit, windowMs, cost, a member id unique to this call. Returns {1, now} or {0, retryAfterMs}.
const TRY_ACQUIRE = new RedisScript(`${NOW_MS}
local blockedUntil = tonumber(redis.call('GET', KEYS[2]))
if blockedUntil and blockedUntil > now then return {0, blockedUntil - now} end
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local used = redis.call('ZCARD', KEYS[1])
if used + cost <= limit then
  for unit = 1, cost do redis.call('ZADD', KEYS[1], now, ARGV[4] .. ':' .. unit) end
  redis.call('PEXPIRE', KEYS[1], window)
  return {1, now}
end
local freeing = used + cost - limit - 1
local oldest = redis.call('ZRANGE', KEYS[1], freeing, freeing, 'WITHSCORES')
return {0, math.max(1, tonumber(oldest[2]) + window - now)}
`);

// ARGV[1]: block duration in ms. Keeps a longer block already in place.
const PENALIZE = new RedisScript(`${NOW_MS}
local untilMs = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]))
if current and current >= untilMs then return 0 end
redis.call('SET', KEYS[1], untilMs, 'PX', ARGV[1])
return 1
`);

export class RedisRateLimiter implements RateLimiter {
  private readonly instanceId = randomUUID();
  private calls = 0;

  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
  ) {}

  async tryAcquire(key: string, policy: RateLimitPolicy, cost = 1): Promise<RateLimitDecision> {
    assertRateLimitRequest(policy, cost);
    this.calls += 1;
    const member = `${this.instanceId}:${this.calls}`;
    const keys = [this.logKey(key), this.blockKey(key)];
    const reply = await callRedis('rate limit', () =>
      TRY_ACQUIRE.run(this.redis, keys, [policy.limit, policy.windowMs, cost, member]),
    );
    if (!Array.isArray(reply) || typeof reply[0] !== 'number' || typeof reply[1] !== 'number') {
      throw unexpectedReply('rate limit', reply);
    }
    return reply[0] === 1 ? { granted: true, grantedAtMs: reply[1] } : { granted: false, retryAfterMs: reply[1] };
  }

  acquire(key: string, policy: RateLimitPolicy, options: AcquireOptions = {}): Promise<RateLimitGrant> {
    return waitForGrant(() => this.tryAcquire(key, policy, options.cost ?? 1), options.signal);
  }

  async penalize(key: string, durationMs: number): Promise<void> {
    assertPositiveInteger(durationMs, 'durationMs');
    await callRedis('rate limit penalize', () => PENALIZE.run(this.redis, [this.blockKey(key)], [durationMs]));
  }

  private logKey(key: string): string {
    return `${this.keyPrefix}rate:${key}`;
  }

  private blockKey(key: string): string {
    return `${this.keyPrefix}rate-block:${key}`;
  }
}
