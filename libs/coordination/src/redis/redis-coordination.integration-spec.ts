import { createServer, connect, type Server, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { eventually, freePort, TEST_REDIS_URL, uniqueSuffix } from '@tandem/testing';
import { describeCoordinationContract, expectWithinLimit } from '../coordination.contract';
import { CoordinationErrorCode } from '../coordination.error';
import type { Coordination } from '../coordination.interface';
import { createRedisCoordination } from './redis-coordination.factory';

const admin = new Redis(TEST_REDIS_URL);

afterAll(async () => {
  await admin.quit();
});

async function deleteKeys(prefix: string): Promise<void> {
  const keys = await admin.keys(`${prefix}*`);
  if (keys.length > 0) await admin.del(...keys);
}

describeCoordinationContract('redis', async () => {
  const keyPrefix = `test:coordination:${uniqueSuffix()}:`;
  const coordination = await createRedisCoordination(TEST_REDIS_URL, { keyPrefix });
  return {
    coordination,
    dispose: async () => {
      await coordination.close();
      await deleteKeys(keyPrefix);
    },
  };
});

describe('Redis coordination across clients', () => {
  let keyPrefix: string;
  let clients: Coordination[];

  beforeEach(async () => {
    keyPrefix = `test:coordination:${uniqueSuffix()}:`;
    clients = await Promise.all([1, 2, 3].map(() => createRedisCoordination(TEST_REDIS_URL, { keyPrefix })));
  });

  afterEach(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await deleteKeys(keyPrefix);
  });

  it('lets exactly one of two racing clients hold a resource, with ever-increasing tokens', async () => {
    const contenders = [
      { client: clients[0]!, holder: 'a' },
      { client: clients[1]!, holder: 'b' },
    ];
    const tokens: number[] = [];
    for (let round = 0; round < 20; round += 1) {
      const grants = await Promise.all(
        contenders.map(({ client, holder }) => client.lease.acquire('source-crm', holder, 10_000)),
      );
      const winnerIndex = grants.findIndex((grant) => grant !== null);
      expect(grants.filter((grant) => grant !== null)).toHaveLength(1);
      const winner = contenders[winnerIndex]!;
      const loser = contenders[1 - winnerIndex]!;
      const { token } = grants[winnerIndex]!;

      await loser.client.lease.release('source-crm', loser.holder, token);
      expect(await loser.client.lease.acquire('source-crm', loser.holder, 10_000)).toBeNull();
      tokens.push(token);
      await winner.client.lease.release('source-crm', winner.holder, token);
    }
    expect(tokens).toEqual([...tokens].sort((x, y) => x - y));
    expect(new Set(tokens).size).toBe(tokens.length);
  });

  it('keeps 3 clients within 20 grants per rolling 500 ms over 300 acquires', async () => {
    const policy = { limit: 20, windowMs: 500 };
    const startedAt = Date.now();
    const grantTimes = (
      await Promise.all(
        clients.flatMap((client) =>
          Array.from({ length: 4 }, async () => {
            const times: number[] = [];
            for (let acquire = 0; acquire < 25; acquire += 1) {
              times.push((await client.rateLimiter.acquire('hubspot:account-1', policy)).grantedAtMs);
            }
            return times;
          }),
        ),
      )
    ).flat();
    expect(grantTimes).toHaveLength(300);
    expectWithinLimit(grantTimes, policy);
    // 300 grants at 20 per window need at least 14 further windows after the first.
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(14 * policy.windowMs);
  });

  it('shares a penalty between clients', async () => {
    const [a, b] = clients as [Coordination, Coordination];
    await a.rateLimiter.penalize('hubspot:account-1', 60_000);
    const decision = await b.rateLimiter.tryAcquire('hubspot:account-1', { limit: 100, windowMs: 1_000 });
    expect(decision).toMatchObject({ granted: false });
  });

  it('shares dedupe claims between clients', async () => {
    const [a, b] = clients as [Coordination, Coordination];
    const [fromA, fromB] = await Promise.all([
      a.dedupe.claim(['e1', 'e2'], 60_000),
      b.dedupe.claim(['e2', 'e1'], 60_000),
    ]);
    expect([fromA![0], fromB![1]].filter(Boolean)).toHaveLength(1);
    expect([fromA![1], fromB![0]].filter(Boolean)).toHaveLength(1);
  });

  it('stores every key under the prefix, so tests and deployments stay apart', async () => {
    const [a] = clients as [Coordination];
    await a.lease.acquire('r', 'a', 60_000);
    await a.dedupe.claim(['e1'], 60_000);
    await a.rateLimiter.tryAcquire('k', { limit: 1, windowMs: 60_000 });
    await a.rateLimiter.penalize('k', 60_000);
    expect((await admin.keys(`${keyPrefix}*`)).sort()).toEqual(
      ['dedupe:e1', 'lease-fence:r', 'lease:r', 'rate-block:k', 'rate:k'].map((key) => `${keyPrefix}${key}`),
    );
  });
});

describe('Redis coordination when Redis is unreachable', () => {
  it('starts while Redis is down, rejecting operations as unavailable until it comes up', async () => {
    const keyPrefix = `test:coordination:${uniqueSuffix()}:`;
    const proxy = await startProxy(await freePort());
    await proxy.stop();
    const connectionErrors: Error[] = [];
    const coordination = await createRedisCoordination(`redis://127.0.0.1:${proxy.port}`, {
      keyPrefix,
      connectTimeoutMs: 200,
      onConnectionError: (error) => connectionErrors.push(error),
    });
    try {
      const startedAt = Date.now();
      await expect(coordination.ping()).rejects.toMatchObject({ code: CoordinationErrorCode.Unavailable });
      await expect(coordination.dedupe.claim(['early'], 60_000)).rejects.toMatchObject({ code: CoordinationErrorCode.Unavailable });
      expect(Date.now() - startedAt).toBeLessThan(3_000);
      await eventually(() => expect(connectionErrors).toContainEqual(expect.objectContaining({ code: 'ECONNREFUSED' })));

      await proxy.start();
      await eventually(async () => expect(await coordination.dedupe.claim(['after'], 60_000)).toEqual([true]));
      await expect(coordination.ping()).resolves.toBeUndefined();
    } finally {
      await coordination.close();
      await proxy.stop();
      await deleteKeys(keyPrefix);
    }
  });

  it('rejects operations quickly while the connection is down and recovers afterwards', async () => {
    const keyPrefix = `test:coordination:${uniqueSuffix()}:`;
    const proxy = await startProxy(await freePort());
    const coordination = await createRedisCoordination(`redis://127.0.0.1:${proxy.port}`, {
      keyPrefix,
      commandTimeoutMs: 500,
      onConnectionError: () => undefined,
    });
    try {
      expect(await coordination.dedupe.claim(['before'], 60_000)).toEqual([true]);

      await proxy.stop();
      const startedAt = Date.now();
      await expect(coordination.lease.acquire('r', 'a', 60_000)).rejects.toMatchObject({
        code: CoordinationErrorCode.Unavailable,
      });
      await expect(coordination.rateLimiter.tryAcquire('k', { limit: 1, windowMs: 1_000 })).rejects.toMatchObject({
        code: CoordinationErrorCode.Unavailable,
      });
      expect(Date.now() - startedAt).toBeLessThan(3_000);

      await proxy.start();
      await eventually(async () => expect(await coordination.dedupe.claim(['after'], 60_000)).toEqual([true]));
    } finally {
      await coordination.close();
      await proxy.stop();
      await deleteKeys(keyPrefix);
    }
  });
});

/** A TCP relay to the test Redis that can be cut and restored, to simulate an outage. */
async function startProxy(port: number): Promise<{ port: number; start(): Promise<void>; stop(): Promise<void> }> {
  const redisUrl = new URL(TEST_REDIS_URL);
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  const start = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const listening = createServer((client) => {
        const upstream = connect(Number(redisUrl.port || 6379), redisUrl.hostname);
        for (const socket of [client, upstream]) {
          sockets.add(socket);
          socket.on('close', () => sockets.delete(socket));
          socket.on('error', () => {
            client.destroy();
            upstream.destroy();
          });
        }
        client.pipe(upstream).pipe(client);
      });
      listening.once('error', reject);
      listening.listen(port, '127.0.0.1', () => {
        server = listening;
        resolve();
      });
    });
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      for (const socket of sockets) socket.destroy();
      if (!server) {
        resolve();
        return;
      }
      server.close(() => resolve());
      server = undefined;
    });
  await start();
  return { port, start, stop };
}

