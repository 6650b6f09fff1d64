import { createCrmHubSpotWorld, crmHubSpotSync, entityReadBackFromHubSpot, startCrmHubSpotStack, type CrmHubSpotWorld, type ServiceStack } from '@tandem/local-stack';
import { ConflictLogRepository, IdentityRepository, SyncConfigRepository } from '@tandem/state';
import { SyncConfigSchema } from '@tandem/sync-config';
import { eventually, TEST_KAFKA_BROKERS } from '@tandem/testing';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../..');

describe('the same HubSpot contact edited in the CRM and in HubSpot at once', () => {
  let world: CrmHubSpotWorld;
  let stack: ServiceStack;

  beforeAll(async () => {
    world = await createCrmHubSpotWorld('hs_conflicts_');
    stack = await startCrmHubSpotStack(world, {
      config: crmHubSpotSync({ baseUrl: world.hubspot.url }, { fields: { phone: { strategy: 'latest_wins' } } }),
      env: { SYNC_CONFIG_REFRESH_MS: '1000' },
    });
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    await world?.close();
  });

  const crmPhone = async (email: string) => (await world.crm.query(`SELECT phone FROM contacts WHERE email = $1`, [email])).rows[0]?.phone;
  const hubspotPhone = (id: string) => world.hubspot.getContact(id)?.properties['phone'];
  const conflictsOnPhone = async (status: 'pending' | 'resolved', entityId?: string) =>
    (await new ConflictLogRepository(stack.db).list({ tenantId: 'acme', status, limit: 100, ...(entityId ? { entityId } : {}) })).filter(
      (conflict) => conflict.field === 'phone',
    );
  const entityOf = (hubspotId: string) =>
    eventually(async () => {
      const entityId = (await new IdentityRepository(stack.db).linkedEntities('acme', 'contact', 'hubspot', [hubspotId])).get(hubspotId);
      expect(entityId).toBeDefined();
      return entityId!;
    });

  async function linkedContact(email: string, phone: string): Promise<string> {
    await world.crm.query(`INSERT INTO contacts (full_name, email, phone) VALUES ('Pat Phone', $1, $2)`, [email, phone]);
    const contact = await eventually(() => {
      const found = world.hubspot.contacts().find((candidate) => candidate.properties['email'] === email);
      expect(found?.properties['phone']).toBe(phone);
      return found!;
    });
    await world.hubspot.flushWebhooks();
    return contact.id;
  }

  it('latest_wins: the later modification time wins on both sides and the loser is in the conflict log', async () => {
    const id = await linkedContact('pat@example.com', '100');
    const resolvedBefore = (await conflictsOnPhone('resolved')).length;

    await world.crm.query(`UPDATE contacts SET phone = 'crm-earlier' WHERE email = 'pat@example.com'`);
    world.hubspot.updateContact(id, { phone: 'hubspot-later' });

    await eventually(async () => {
      expect(await crmPhone('pat@example.com')).toBe('hubspot-later');
      expect(hubspotPhone(id)).toBe('hubspot-later');
    });
    const [conflict] = await eventually(async () => {
      const found = (await conflictsOnPhone('resolved')).slice(resolvedBefore);
      expect(found).toHaveLength(1);
      return found;
    });
    expect(conflict!.strategy).toBe('latest_wins');
    expect(conflict!.outcome).toMatchObject({ winner: 'hubspot', value: 'hubspot-later' });
    expect(conflict!.sides.map((side) => [side.system, side.value]).sort()).toEqual([
      ['crm', 'crm-earlier'],
      ['hubspot', 'hubspot-later'],
    ]);
    // Deliveries still retried under load land while this rule holds, not under the next test's.
    await world.hubspot.flushWebhooks();
  });

  it('latest_wins: a HubSpot edit whose webhooks never came is still weighed against the CRM edit Tandem wrote over it', async () => {
    const id = await linkedContact('wes@example.com', '100');
    const entityId = await entityReadBackFromHubSpot(stack, id);
    // HubSpot gives up on the webhooks of a person's edit; only the safety-net poll can find it, and
    // by then Tandem has written the CRM's later edit over it.
    world.hubspot.setWebhookTarget(null);
    try {
      world.hubspot.updateContact(id, { phone: 'hubspot-unheard' });
      await new Promise((resolve) => setTimeout(resolve, 5));
      await world.crm.query(`UPDATE contacts SET phone = 'crm-later' WHERE email = 'wes@example.com'`);
      await eventually(() => expect(hubspotPhone(id)).toBe('crm-later'));
      const [conflict] = await eventually(async () => {
        const found = await conflictsOnPhone('resolved', entityId);
        expect(found).toHaveLength(1);
        return found;
      }, { timeoutMs: 30_000 });
      expect(conflict!.outcome).toMatchObject({ winner: 'crm', value: 'crm-later' });
      expect(conflict!.sides.map((side) => [side.system, side.value]).sort()).toEqual([
        ['crm', 'crm-later'],
        ['hubspot', 'hubspot-unheard'],
      ]);
      expect(await crmPhone('wes@example.com')).toBe('crm-later');
    } finally {
      world.hubspot.setWebhookTarget(`http://127.0.0.1:${stack.connectors.get('hubspot')!.port}/webhooks/hubspot`);
    }
  });

  it('manual: a pending conflict holds both values, and the decision reaches both sides', async () => {
    const config = crmHubSpotSync({ baseUrl: world.hubspot.url }, { fields: { phone: { strategy: 'manual' } } });
    await new SyncConfigRepository(stack.db, (raw) => SyncConfigSchema.parse(raw)).save(config);
    // The reconciler reloads configurations every second here.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const id = await linkedContact('max@example.com', '200');
    const entityId = await entityOf(id);

    world.hubspot.updateContact(id, { phone: 'hubspot-side' });
    await world.crm.query(`UPDATE contacts SET phone = 'crm-side' WHERE email = 'max@example.com'`);

    const [pending] = await eventually(async () => {
      const found = await conflictsOnPhone('pending', entityId);
      expect(found).toHaveLength(1);
      return found;
    });
    expect(pending!.sides.map((side) => [side.system, side.value]).sort()).toEqual([
      ['crm', 'crm-side'],
      ['hubspot', 'hubspot-side'],
    ]);
    // The first edit to arrive was not yet a conflict and may have reached the other side; from the
    // moment the conflict is pending, Tandem writes neither side's phone.
    expect(['crm-side', 'hubspot-side']).toContain(await crmPhone('max@example.com'));
    expect(['crm-side', 'hubspot-side']).toContain(hubspotPhone(id));

    const cli = spawnSync(process.execPath, ['-r', '@swc-node/register', resolve(ROOT, 'apps/cli/src/main.ts'), 'conflicts', 'resolve', pending!.conflictId, '--by', 'dana', '--side', 'hubspot'], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: world.tandem.url, KAFKA_BROKERS: TEST_KAFKA_BROKERS.join(','), TOPIC_PREFIX: stack.prefix },
      encoding: 'utf8',
    });
    expect(cli.stderr).toBe('');
    await eventually(async () => {
      expect(await crmPhone('max@example.com')).toBe('hubspot-side');
      expect(hubspotPhone(id)).toBe('hubspot-side');
    });
    expect(await conflictsOnPhone('pending', entityId)).toEqual([]);
  });
});
