import { createCrmHubSpotWorld, startCrmHubSpotStack, type CrmHubSpotWorld, type ServiceStack } from '@tandem/local-stack';
import { eventually } from '@tandem/testing';

const CONTACTS = 1_000;

/** The CRM's spelling of contact i's email: some in other case, some with spaces around. */
function crmEmail(i: number): string {
  const email = `m${i}@example.com`;
  if (i % 3 === 0) return email.toUpperCase();
  if (i % 5 === 0) return `  ${email} `;
  if (i % 7 === 0) return `M${i}@Example.com\t`;
  return email;
}

describe('first sync when the same 1,000 contacts exist in the CRM and in HubSpot', () => {
  let world: CrmHubSpotWorld;
  let stack: ServiceStack;

  beforeAll(async () => {
    world = await createCrmHubSpotWorld('hs_matching_');
    for (let i = 1; i <= CONTACTS; i += 1) {
      world.hubspot.createContact({ email: `m${i}@example.com`, firstname: 'Match', lastname: `Person${i}`, phone: String(i) });
    }
    await world.crm.query(
      `INSERT INTO contacts (full_name, email, phone) SELECT 'Match Person' || i, e.email, i::text FROM unnest($1::text[]) WITH ORDINALITY AS e(email, i)`,
      [Array.from({ length: CONTACTS }, (_, index) => crmEmail(index + 1))],
    );
    stack = await startCrmHubSpotStack(world);
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    await world?.close();
  });

  const count = async (sql: string) => Number((await stack.db.query<{ n: string }>(sql)).rows[0]!.n);

  it('links every pair by normalized email and creates nothing on either side', async () => {
    const paired = () =>
      count(`SELECT count(*) AS n FROM (
               SELECT entity_id FROM tandem_record_links GROUP BY entity_id
               HAVING count(*) FILTER (WHERE system_id = 'crm') = 1 AND count(*) FILTER (WHERE system_id = 'hubspot') = 1 AND count(*) = 2) AS p`);
    await eventually(async () => expect(await paired()).toBe(CONTACTS), { timeoutMs: 120_000, intervalMs: 1_000 });

    // Anything a wrong match would have set off (a create on either side, its echo) has run its course.
    await world.hubspot.flushWebhooks(60_000);
    let last = -1;
    await eventually(
      async () => {
        const [notices, logged] = await Promise.all([count(`SELECT count(*) AS n FROM tandem_source_inbox`), count(`SELECT count(*) AS n FROM tandem_sync_log`)]);
        const settled = notices === 0 && logged === last;
        last = logged;
        expect(settled).toBe(true);
      },
      { timeoutMs: 60_000, intervalMs: 1_500 },
    );

    expect(await paired()).toBe(CONTACTS);
    expect(await count(`SELECT count(DISTINCT entity_id) AS n FROM tandem_record_links`)).toBe(CONTACTS);
    expect(await count(`SELECT count(*) AS n FROM tandem_record_links`)).toBe(2 * CONTACTS);

    const hubspotEmails = world.hubspot.contacts().map((contact) => contact.properties['email']);
    expect(hubspotEmails).toHaveLength(CONTACTS);
    expect(new Set(hubspotEmails).size).toBe(CONTACTS);
    expect(world.hubspot.contacts({ archived: true })).toEqual([]);
    const { rows } = await world.crm.query<{ email: string }>(`SELECT lower(trim(email)) AS email FROM contacts`);
    expect(rows).toHaveLength(CONTACTS);
    expect(new Set(rows.map((row) => row.email.trim())).size).toBe(CONTACTS);
    expect(world.hubspot.callCount('POST /crm/v3/objects/contacts/batch/create') + world.hubspot.callCount('POST /crm/v3/objects/contacts')).toBe(0);
  });
});
