import type { Redis } from 'ioredis';
import { assertPositiveInteger } from '../coordination-arguments.util';
import type { Lease, LeaseGrant } from '../lease.interface';
import { callRedis, unexpectedReply } from './redis-client.util';
import { RedisScript } from './redis-script.util';

// KEYS[1]: the lease, a hash of holder and token. KEYS[2]: the resource's fencing counter, which
// never expires so that tokens keep increasing after the lease itself has gone.
const ACQUIRE = new RedisScript(`
local holder = redis.call('HGET', KEYS[1], 'holder')
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return tonumber(redis.call('HGET', KEYS[1], 'token'))
end
if holder then return 0 end
local token = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[1], 'holder', ARGV[1], 'token', token)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return token
`);

const RENEW = new RedisScript(`
local held = redis.call('HMGET', KEYS[1], 'holder', 'token')
if held[1] == ARGV[1] and held[2] == ARGV[2] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
return 0
`);

const RELEASE = new RedisScript(`
local held = redis.call('HMGET', KEYS[1], 'holder', 'token')
if held[1] == ARGV[1] and held[2] == ARGV[2] then
  return redis.call('DEL', KEYS[1])
end
return 0
`);

const RAISE_FENCE = new RedisScript(`
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end
return 1
`);

export class RedisLease implements Lease {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
  ) {}

  async acquire(resource: string, holderId: string, ttlMs: number): Promise<LeaseGrant | null> {
    assertPositiveInteger(ttlMs, 'ttlMs');
    const reply = await callRedis('lease acquire', () =>
      ACQUIRE.run(this.redis, [this.leaseKey(resource), this.fenceKey(resource)], [holderId, ttlMs]),
    );
    if (typeof reply !== 'number') throw unexpectedReply('lease acquire', reply);
    return reply === 0 ? null : { token: reply };
  }

  async renew(resource: string, holderId: string, token: number, ttlMs: number): Promise<boolean> {
    assertPositiveInteger(ttlMs, 'ttlMs');
    const reply = await callRedis('lease renew', () =>
      RENEW.run(this.redis, [this.leaseKey(resource)], [holderId, String(token), ttlMs]),
    );
    return reply === 1;
  }

  async release(resource: string, holderId: string, token: number): Promise<void> {
    await callRedis('lease release', () =>
      RELEASE.run(this.redis, [this.leaseKey(resource)], [holderId, String(token)]),
    );
  }

  async raiseFence(resource: string, token: number): Promise<void> {
    assertPositiveInteger(token, 'token');
    await callRedis('lease raise fence', () => RAISE_FENCE.run(this.redis, [this.fenceKey(resource)], [token]));
  }

  private leaseKey(resource: string): string {
    return `${this.keyPrefix}lease:${resource}`;
  }

  private fenceKey(resource: string): string {
    return `${this.keyPrefix}lease-fence:${resource}`;
  }
}
