import { createCrmHubSpotWorld, startCrmHubSpotStack, type CrmHubSpotWorld, type ServiceStack } from '@tandem/local-stack';
import { eventually } from '@tandem/testing';

describe('two-way sync between the CRM database and HubSpot', () => {
  let world: CrmHubSpotWorld;
  let stack: ServiceStack;

  beforeAll(async () => {
    world = await createCrmHubSpotWorld('hs_two_way_');
    stack = await startCrmHubSpotStack(world);
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    await world?.close();
  });

  const crmRow = async (email: string) => (await world.crm.query(`SELECT full_name, email, phone FROM contacts WHERE email = $1`, [email])).rows;
  const hubspotContact = (email: string) => {
    const matches = world.hubspot.contacts().filter((contact) => contact.properties['email'] === email);
    return matches.map(({ properties: { firstname, lastname, email: address, phone } }) => ({ firstname, lastname, email: address, phone }));
  };

  it('carries a CRM insert, update and delete to HubSpot, full_name split into firstname and lastname', async () => {
    await world.crm.query(`INSERT INTO contacts (full_name, email, phone) VALUES ('Ann Lee', 'ann@example.com', '111')`);
    await eventually(() => expect(hubspotContact('ann@example.com')).toEqual([{ firstname: 'Ann', lastname: 'Lee', email: 'ann@example.com', phone: '111' }]), {
      timeoutMs: 20_000,
    });

    await world.crm.query(`UPDATE contacts SET full_name = 'Ann Leigh', phone = '222' WHERE email = 'ann@example.com'`);
    await eventually(() => expect(hubspotContact('ann@example.com')).toEqual([{ firstname: 'Ann', lastname: 'Leigh', email: 'ann@example.com', phone: '222' }]), {
      timeoutMs: 20_000,
    });

    await world.crm.query(`DELETE FROM contacts WHERE email = 'ann@example.com'`);
    await eventually(() => expect(hubspotContact('ann@example.com')).toEqual([]), { timeoutMs: 20_000 });
    expect(world.hubspot.contacts({ archived: true }).some((contact) => contact.properties['email'] === 'ann@example.com')).toBe(true);
  });

  it('carries a HubSpot create, update and delete to the CRM, firstname and lastname joined into full_name', async () => {
    const created = world.hubspot.createContact({ email: 'bo@example.com', firstname: 'Bo', lastname: 'Sun', phone: '1' });
    await eventually(async () => expect(await crmRow('bo@example.com')).toEqual([{ full_name: 'Bo Sun', email: 'bo@example.com', phone: '1' }]), { timeoutMs: 20_000 });

    world.hubspot.updateContact(created.id, { lastname: 'Moon', phone: '2' });
    await eventually(async () => expect(await crmRow('bo@example.com')).toEqual([{ full_name: 'Bo Moon', email: 'bo@example.com', phone: '2' }]), { timeoutMs: 20_000 });

    world.hubspot.archiveContact(created.id);
    await eventually(async () => expect(await crmRow('bo@example.com')).toEqual([]), { timeoutMs: 20_000 });
  });

  it('writes a HubSpot edit once to the CRM and sends nothing back to HubSpot', async () => {
    const created = world.hubspot.createContact({ email: 'cy@example.com', firstname: 'Cy', lastname: 'Echo', phone: '1' });
    await eventually(async () => expect(await crmRow('cy@example.com')).toHaveLength(1), { timeoutMs: 20_000 });
    await world.hubspot.flushWebhooks();
    const writesBefore = writeCalls(world);
    world.hubspot.updateContact(created.id, { phone: '2' });
    await eventually(async () => expect((await crmRow('cy@example.com'))[0]?.phone).toBe('2'), { timeoutMs: 20_000 });
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(writeCalls(world)).toBe(writesBefore);
  });
});

function writeCalls(world: CrmHubSpotWorld): number {
  return Object.entries(world.hubspot.calls())
    .filter(([key]) => /batch\/(update|create|upsert|archive)|^(PATCH|DELETE|POST) \/crm\/v3\/objects\/contacts(\/\{id\})?$/.test(key))
    .reduce((sum, [, count]) => sum + count, 0);
}
