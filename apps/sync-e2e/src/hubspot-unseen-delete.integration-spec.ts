import { createCrmHubSpotWorld, crmHubSpotSync, entityReadBackFromHubSpot, startCrmHubSpotStack, type CrmHubSpotWorld, type ServiceStack } from '@tandem/local-stack';
import { ConflictLogRepository } from '@tandem/state';
import { eventually } from '@tandem/testing';

describe('HubSpot contacts archived before Tandem heard what happened to them', () => {
  let world: CrmHubSpotWorld;
  let stack: ServiceStack;
  let copyId: string;

  beforeAll(async () => {
    world = await createCrmHubSpotWorld('hs_unseen_');
    // Made and archived while no webhook target is set: only the archived sweep can find it.
    copyId = world.hubspot.createContact({ email: 'zoe@example.com', firstname: 'Zoe', lastname: 'Copy' }).id;
    world.hubspot.archiveContact(copyId);
    await world.crm.query(`INSERT INTO contacts (full_name, email, phone) VALUES ('Zoe Lee', 'zoe@example.com', '111')`);
    stack = await startCrmHubSpotStack(world, {
      config: crmHubSpotSync({ baseUrl: world.hubspot.url, archivedSweepIntervalMs: 6_000 }, { deleteVsUpdate: 'update_wins' }),
    });
  }, 120_000);

  /** The one delete-versus-update conflict on record, of the entity if one is named. */
  const theDeleteConflict = (entityId?: string) =>
    eventually(
      async () => {
        const found = (await new ConflictLogRepository(stack.db).list({ tenantId: 'acme', limit: 10, ...(entityId ? { entityId } : {}) })).filter((c) => c.kind === 'delete_update');
        expect(found).toHaveLength(1);
        return found[0]!;
      },
      { timeoutMs: 30_000 },
    );

  afterAll(async () => {
    await stack?.stop();
    await world?.close();
  });

  it('takes its deletion for HubSpot\'s delete of the contact, weighed against the CRM\'s and kept in the conflict log', async () => {
    const tandemCopy = await eventually(() => {
      const found = world.hubspot.contacts().find((contact) => contact.properties['email'] === 'zoe@example.com');
      expect(found?.properties['lastname']).toBe('Lee');
      return found!;
    });
    expect(tandemCopy.id).not.toBe(copyId);

    const conflict = await theDeleteConflict();
    expect(conflict.sides.map((side) => [side.system, side.deleted]).sort()).toEqual([
      ['crm', false],
      ['hubspot', true],
    ]);
    expect(conflict.outcome).toMatchObject({ winner: 'crm', deleted: false });
    // The update won: the contact stays on both sides.
    expect((await world.crm.query(`SELECT full_name FROM contacts WHERE email = 'zoe@example.com'`)).rows).toEqual([{ full_name: 'Zoe Lee' }]);
    expect(world.hubspot.getContact(tandemCopy.id)?.archived).toBe(false);
  });

  it('weighs a HubSpot edit made just before Tandem archived the contact, whose webhooks never came, against the CRM\'s delete', async () => {
    await world.crm.query(`INSERT INTO contacts (full_name, email, phone) VALUES ('Ivy Race', 'ivy@example.com', '100')`);
    const id = await eventually(() => {
      const found = world.hubspot.contacts().find((contact) => contact.properties['email'] === 'ivy@example.com');
      expect(found?.properties['phone']).toBe('100');
      return found!.id;
    });
    const entityId = await entityReadBackFromHubSpot(stack, id);
    // A person edits the phone in HubSpot, and the CRM deletes the contact before Tandem hears of the
    // edit: Tandem's archive lands over it. HubSpot gives up on both webhooks; only the sweep finds them.
    world.hubspot.setWebhookTarget(null);
    try {
      world.hubspot.updateContact(id, { phone: 'hubspot-unheard' });
      await world.crm.query(`DELETE FROM contacts WHERE email = 'ivy@example.com'`);
      await eventually(() => expect(world.hubspot.getContact(id)).toBeUndefined());
    } finally {
      world.hubspot.setWebhookTarget(`http://127.0.0.1:${stack.connectors.get('hubspot')!.port}/webhooks/hubspot`);
    }

    const conflict = await theDeleteConflict(entityId);
    expect(conflict.sides.map((side) => [side.system, side.deleted]).sort()).toEqual([
      ['crm', true],
      ['hubspot', false],
    ]);
    expect(conflict.outcome).toMatchObject({ winner: 'hubspot', deleted: false });
    // The update won: the contact is back on both sides with the edit, in HubSpot as a new contact.
    await eventually(async () => {
      expect((await world.crm.query(`SELECT phone FROM contacts WHERE email = 'ivy@example.com'`)).rows).toEqual([{ phone: 'hubspot-unheard' }]);
      const live = world.hubspot.contacts().filter((contact) => contact.properties['email'] === 'ivy@example.com');
      expect(live.map((contact) => contact.properties['phone'])).toEqual(['hubspot-unheard']);
    });
  });
});
