import { createCrmHubSpotWorld, crmHubSpotSync, startCrmHubSpotStack, type CrmHubSpotWorld, type ServiceStack } from '@tandem/local-stack';
import { eventually, TEST_REDIS_URL, uniqueSuffix } from '@tandem/testing';
import { Redis } from 'ioredis';

/**
 * Redis without persistence forgets its fencing counters when it restarts, and hands out token 1
 * again, while checkpoints in Tandem's database still carry the tokens used before.
 */
describe('a HubSpot connector after Redis lost its lease counters', () => {
  const tenantId = `fence${uniqueSuffix()}`;
  const resource = `tandem:lease:connector:${tenantId}:hubspot`;
  const fence = `tandem:lease-fence:connector:${tenantId}:hubspot`;
  let world: CrmHubSpotWorld;
  let stack: ServiceStack;
  let redis: Redis;

  beforeAll(async () => {
    redis = new Redis(TEST_REDIS_URL);
    await redis.set(fence, '100');
    world = await createCrmHubSpotWorld('hs_fence_');
    const config = { ...crmHubSpotSync({ baseUrl: world.hubspot.url, pollIntervalMs: 1_000, searchLagMs: 500 }), tenantId };
    stack = await startCrmHubSpotStack(world, { config, env: { LEASE_TTL_MS: '2000' } });
    // Only the safety-net poll reads HubSpot here.
    world.hubspot.setWebhookTarget(null);
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    await world?.close();
    await redis?.del(fence, resource);
    await redis?.quit();
  });

  const pollToken = async () =>
    Number(
      (await stack.db.query<{ fencing_token: string }>(`SELECT fencing_token FROM tandem_connector_checkpoints WHERE tenant_id = $1 AND name = 'poll'`, [tenantId]))
        .rows[0]?.fencing_token ?? 0,
    );

  it('raises the fence past the checkpoint and keeps polling', async () => {
    await eventually(async () => expect(await pollToken()).toBe(101));
    await redis.del(fence, resource);
    // The holder's renewal fails, it takes the lease again with token 1, is refused, and raises the fence.
    await eventually(async () => expect(await pollToken()).toBeGreaterThan(101), { timeoutMs: 40_000 });

    world.hubspot.createContact({ email: 'after-reset@example.com', firstname: 'After', lastname: 'Reset' });
    await eventually(
      async () => expect((await world.crm.query(`SELECT full_name FROM contacts WHERE email = 'after-reset@example.com'`)).rows).toEqual([{ full_name: 'After Reset' }]),
      { timeoutMs: 40_000 },
    );
  });
});
