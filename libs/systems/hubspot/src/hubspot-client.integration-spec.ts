import { createMemoryCoordination, createRedisCoordination, type Coordination } from '@tandem/coordination';
import { HubSpotSimulator } from '@tandem/hubspot-simulator';
import { eventually, TEST_REDIS_URL, uniqueSuffix } from '@tandem/testing';
import { HubSpotApiErrorCode } from './hubspot-api.error';
import { HubSpotClient } from './hubspot-client.service';
import type { HubSpotLimits } from './hubspot-settings.schema';

const LIMIT = { limit: 20, windowMs: 1_000 };
const limits: HubSpotLimits = { requests: LIMIT, search: { limit: 5, windowMs: 1_000 }, daily: 250_000 };

let simulator: HubSpotSimulator;
const coordinations: Coordination[] = [];

afterEach(async () => {
  await simulator?.close();
  await Promise.all(coordinations.splice(0).map((coordination) => coordination.close()));
});

/** Replicas of a service: each with its own Redis connection, all sharing the account's limit. */
async function redisReplicas(count: number, options: { maxRateLimitRetries?: number } = {}): Promise<HubSpotClient[]> {
  const keyPrefix = `test-hubspot-${uniqueSuffix()}:`;
  const replicas: HubSpotClient[] = [];
  for (let index = 0; index < count; index += 1) {
    const coordination = await createRedisCoordination(TEST_REDIS_URL, { keyPrefix });
    coordinations.push(coordination);
    replicas.push(
      new HubSpotClient({
        baseUrl: simulator.url,
        accessToken: simulator.options.accessToken,
        accountId: String(simulator.options.portalId),
        rateLimiter: coordination.rateLimiter,
        limits,
        requestTimeoutMs: 5_000,
        ...options,
      }),
    );
  }
  return replicas;
}

describe('HubSpotClient against the simulator', () => {
  it('keeps many concurrent callers on several replicas under the account limit, with no 429', async () => {
    simulator = await HubSpotSimulator.start({ rateLimit: LIMIT });
    const contact = simulator.createContact({ email: 'a@x.com' });
    const replicas = await redisReplicas(3);
    const calls = Array.from({ length: 60 }, (_, index) => replicas[index % 3]!.getContact(contact.id, { properties: ['email'] }));
    const results = await Promise.all(calls);
    expect(results.every((result) => result?.properties['email'] === 'a@x.com')).toBe(true);
    expect(simulator.callCount()).toBe(60);
    expect(simulator.rateLimited()).toBe(0);
    expect(simulator.maxRequestsInWindow(LIMIT.windowMs)).toBeLessThanOrEqual(LIMIT.limit);
  });

  it('backs every replica off through a 429 storm and finishes every call afterwards, never above the limit', async () => {
    simulator = await HubSpotSimulator.start({ rateLimit: LIMIT });
    const replicas = await redisReplicas(2, { maxRateLimitRetries: 10 });
    await simulator.setFaults({ rateLimitStorm: true });
    const calls = Array.from({ length: 30 }, (_, index) => replicas[index % 2]!.listContacts({ properties: ['email'], limit: 1 }));
    await eventually(() => simulator.callCount() > 0);
    const stormCalls = simulator.callCount();
    await simulator.setFaults({ rateLimitStorm: false });
    const results = await Promise.all(calls);
    expect(results).toHaveLength(30);
    // Calls stopped at the first 429s: every replica held off instead of each trying its own way.
    expect(stormCalls).toBeLessThanOrEqual(LIMIT.limit);
    expect(simulator.maxRequestsInWindow(LIMIT.windowMs)).toBeLessThanOrEqual(LIMIT.limit);
  });

  it('honours the account limit the server enforces when the client is configured too high', async () => {
    simulator = await HubSpotSimulator.start({ rateLimit: { limit: 10, windowMs: 1_000 } });
    const client = new HubSpotClient({
      baseUrl: simulator.url,
      accessToken: simulator.options.accessToken,
      accountId: String(simulator.options.portalId),
      rateLimiter: createMemoryCoordination().rateLimiter,
      limits,
      requestTimeoutMs: 5_000,
      maxRateLimitRetries: 10,
    });
    const results = await Promise.all(Array.from({ length: 25 }, () => client.listContacts({ properties: [], limit: 1 })));
    expect(results).toHaveLength(25);
    expect(simulator.rateLimited()).toBeGreaterThan(0);
  });

  it('fails with DAILY_LIMIT, not retried, when the daily allowance is used up', async () => {
    simulator = await HubSpotSimulator.start({ dailyLimit: 2 });
    const [client] = await redisReplicas(1);
    await client!.listContacts({ properties: [] });
    await client!.listContacts({ properties: [] });
    await expect(client!.listContacts({ properties: [] })).rejects.toMatchObject({ code: HubSpotApiErrorCode.DailyLimit, retryable: false, status: 429 });
    expect(simulator.callCount()).toBe(3);
  });

  it('fails with UNAUTHORIZED on a wrong token', async () => {
    simulator = await HubSpotSimulator.start();
    const client = new HubSpotClient({
      baseUrl: simulator.url,
      accessToken: 'wrong',
      accountId: '33',
      rateLimiter: createMemoryCoordination().rateLimiter,
      limits,
      requestTimeoutMs: 5_000,
    });
    await expect(client.probe()).rejects.toMatchObject({ code: HubSpotApiErrorCode.Unauthorized, status: 401, retryable: false });
  });

  it('reads contacts by email in batches and reports the unknown ones', async () => {
    simulator = await HubSpotSimulator.start();
    const [client] = await redisReplicas(1);
    simulator.createContact({ email: 'known@x.com', firstname: 'K' });
    const result = await client!.batchRead(['known@x.com', 'unknown@x.com'], ['firstname'], { idProperty: 'email' });
    expect(result.results.map((contact) => contact.properties['firstname'])).toEqual(['K']);
    expect(result.missing).toEqual(['unknown@x.com']);
  });
});
