import { createCrmHubSpotWorld, crmHubSpotSync, startCrmHubSpotStack, type CrmHubSpotWorld, type ServiceStack } from '@tandem/local-stack';
import { ConflictLogRepository } from '@tandem/state';
import { eventually } from '@tandem/testing';

describe('a HubSpot copy of a CRM contact, made and archived before Tandem ever saw it', () => {
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

    const [conflict] = await eventually(
      async () => {
        const found = (await new ConflictLogRepository(stack.db).list({ tenantId: 'acme', limit: 10 })).filter((c) => c.kind === 'delete_update');
        expect(found).toHaveLength(1);
        return found;
      },
      { timeoutMs: 30_000 },
    );
    expect(conflict!.sides.map((side) => [side.system, side.deleted]).sort()).toEqual([
      ['crm', false],
      ['hubspot', true],
    ]);
    expect(conflict!.outcome).toMatchObject({ winner: 'crm', deleted: false });
    // The update won: the contact stays on both sides.
    expect((await world.crm.query(`SELECT full_name FROM contacts WHERE email = 'zoe@example.com'`)).rows).toEqual([{ full_name: 'Zoe Lee' }]);
    expect(world.hubspot.getContact(tandemCopy.id)?.archived).toBe(false);
  });
});
