import { RECORD_EXISTS } from '@tandem/contracts';
import { createCrmHubSpotWorld, crmHubSpotSync, entityReadBackFromHubSpot, startCrmHubSpotStack, type CrmHubSpotWorld, type ServiceStack } from '@tandem/local-stack';
import { IdentityRepository } from '@tandem/state';
import { eventually } from '@tandem/testing';

const EMAIL = 'ann@example.com';

/**
 * A person archives a HubSpot contact while the CRM edits it; the edit wins, and the HubSpot applier
 * makes the contact anew. HubSpot's answer is slow, and the applier and the HubSpot connector are
 * killed before it comes: nothing links the new contact to the entity, and the create, delivered
 * again, finds it and leaves it to the connector's report. That report must join the entity, not
 * start a second one that the CRM would get a second row for.
 */
describe('a HubSpot contact re-created by an applier killed before HubSpot answered', () => {
  let world: CrmHubSpotWorld;
  let stack: ServiceStack;

  beforeAll(async () => {
    world = await createCrmHubSpotWorld('hs_recreate_');
    stack = await startCrmHubSpotStack(world, { config: crmHubSpotSync({ baseUrl: world.hubspot.url }, { deleteVsUpdate: 'update_wins' }) });
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    await world?.close();
  });

  const liveAnns = () => world.hubspot.contacts().filter((contact) => contact.properties['email'] === EMAIL);

  it('joins the entity it was made for, and the CRM keeps one row', async () => {
    await world.crm.query(`INSERT INTO contacts (full_name, email, phone) VALUES ('Ann Lee', $1, '111')`, [EMAIL]);
    const first = await eventually(() => {
      const [found] = liveAnns();
      expect(found?.properties['lastname']).toBe('Lee');
      return found!;
    });
    const entityId = await entityReadBackFromHubSpot(stack, first.id);

    await world.hubspot.setFaults({ latencyMs: 3_000 });
    world.hubspot.archiveContact(first.id);
    await world.crm.query(`UPDATE contacts SET phone = '222' WHERE email = $1`, [EMAIL]);
    const second = await eventually(
      () => {
        const [found] = liveAnns();
        expect(found).toBeDefined();
        return found!;
      },
      { timeoutMs: 30_000, intervalMs: 20 },
    );
    // HubSpot made it; its answer, and the connector's read of it, are still on their way.
    const connector = stack.connectors.get('hubspot')!;
    const applier = stack.appliers.get('hubspot')!;
    await Promise.all([applier.kill(), connector.kill()]);
    await world.hubspot.clearFaults();
    await applier.start();
    await eventually(
      async () => {
        const { rows } = await stack.db.query<{ code: string }>(`SELECT state->'entity'->'systems'->'hubspot'->'lastError'->>'code' AS code FROM tandem_entities WHERE entity_id = $1`, [entityId]);
        expect(rows[0]?.code).toBe(RECORD_EXISTS);
      },
      { timeoutMs: 30_000 },
    );

    await connector.start();
    await eventually(
      async () => {
        expect((await new IdentityRepository(stack.db).linkedEntities('acme', 'contact', 'hubspot', [second.id])).get(second.id)).toBe(entityId);
        expect((await world.crm.query(`SELECT phone FROM contacts WHERE email = $1`, [EMAIL])).rows).toEqual([{ phone: '222' }]);
      },
      { timeoutMs: 30_000 },
    );
    expect(liveAnns().map((contact) => contact.id)).toEqual([second.id]);
    // Settled: no second entity is on its way to the CRM.
    const { rows } = await stack.db.query<{ entities: string }>(`SELECT count(*) AS entities FROM tandem_entities WHERE tenant_id = 'acme'`);
    expect(Number(rows[0]!.entities)).toBe(1);
  });
});
