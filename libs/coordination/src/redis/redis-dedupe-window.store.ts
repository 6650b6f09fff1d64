import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { assertPositiveInteger } from '../coordination-arguments.util';
import type { DedupeWindow } from '../dedupe-window.interface';
import { callRedis, unexpectedReply } from './redis-client.util';
import { RedisScript } from './redis-script.util';

// One script for the whole batch: every id is claimed with SET NX PX, and an id already claimed by
// the same claimant counts as claimed again. ARGV[1]: claimant, ARGV[2]: ttl in ms.
const CLAIM = new RedisScript(`
local claimed = {}
local seen = {}
for i, key in ipairs(KEYS) do
  if seen[key] then
    claimed[i] = 0
  elseif redis.call('SET', key, ARGV[1], 'NX', 'PX', ARGV[2]) then
    claimed[i] = 1
  elseif redis.call('GET', key) == ARGV[1] then
    claimed[i] = 1
  else
    claimed[i] = 0
  end
  seen[key] = true
end
return claimed
`);

const FORGET_OWN = new RedisScript(`
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then redis.call('DEL', key) end
end
return 0
`);

export class RedisDedupeWindow implements DedupeWindow {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
  ) {}

  async claim(ids: string[], ttlMs: number, claimant: string = randomUUID()): Promise<boolean[]> {
    assertPositiveInteger(ttlMs, 'ttlMs');
    if (ids.length === 0) return [];
    const reply = await callRedis('dedupe claim', () =>
      CLAIM.run(this.redis, ids.map((id) => this.key(id)), [claimant, ttlMs]),
    );
    if (!Array.isArray(reply) || reply.length !== ids.length) throw unexpectedReply('dedupe claim', reply);
    return reply.map((flag) => flag === 1);
  }

  async forget(ids: string[], claimant?: string): Promise<void> {
    if (ids.length === 0) return;
    const keys = ids.map((id) => this.key(id));
    await callRedis('dedupe forget', () =>
      claimant === undefined ? this.redis.del(...keys) : FORGET_OWN.run(this.redis, keys, [claimant]),
    );
  }

  private key(id: string): string {
    return `${this.keyPrefix}dedupe:${id}`;
  }
}
