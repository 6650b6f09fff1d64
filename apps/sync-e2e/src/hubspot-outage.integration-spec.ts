import { createCrmHubSpotWorld, startCrmHubSpotStack, type CrmHubSpotWorld, type ServiceStack } from '@tandem/local-stack';
import { eventually } from '@tandem/testing';

const OUTAGE_MS = 60_000;
const STORM_MS = 10_000;
const TICK_MS = 500;
/** The simulator's default account limit, which the clients' default tier (starter) matches. */
const RATE_LIMIT = 100;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a HubSpot outage and a 429 storm in the middle of a stream of CRM changes', () => {
  let world: CrmHubSpotWorld;
  let stack: ServiceStack;

  beforeAll(async () => {
    world = await createCrmHubSpotWorld('hs_outage_');
    stack = await startCrmHubSpotStack(world);
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    await world?.close();
  });

  /** Every TICK_MS, in one transaction: two new contacts and three existing ones renamed with a new phone. */
  function startStream(): { stop(): Promise<number> } {
    let running = true;
    let tick = 0;
    const loop = (async () => {
      while (running) {
        tick += 1;
        const started = Date.now();
        await world.crm.query('BEGIN');
        await world.crm.query(
          `INSERT INTO contacts (full_name, email, phone) SELECT 'New' || $1::int || ' Person' || n, 's' || $1::int || '-' || n || '@example.com', 'v' || $1::int FROM generate_series(1, 2) AS n`,
          [tick],
        );
        await world.crm.query(
          `UPDATE contacts SET full_name = 'Upd' || $1::int || ' Person' || id, phone = 'u' || $1::int
           WHERE id IN (SELECT id FROM contacts WHERE email LIKE 's%' ORDER BY random() LIMIT 3)`,
          [tick],
        );
        await world.crm.query('COMMIT');
        await sleep(Math.max(0, TICK_MS - (Date.now() - started)));
      }
    })();
    return {
      stop: async () => {
        running = false;
        await loop;
        return tick;
      },
    };
  }

  it('loses nothing, duplicates nothing, keeps under the rate limit, and catches up on both sides after recovery', async () => {
    // Contacts a person edits in HubSpot while the API is out.
    const edited = ['h1', 'h2', 'h3'].map((name) => world.hubspot.createContact({ email: `${name}@example.com`, firstname: 'Hub', lastname: name, phone: 'before' }));
    await eventually(async () => {
      const { rows } = await world.crm.query(`SELECT 1 FROM contacts WHERE email LIKE 'h%' AND phone = 'before'`);
      expect(rows).toHaveLength(edited.length);
    });

    const stream = startStream();
    await sleep(5_000);
    await world.hubspot.setFaults({ outage: 'refuse' });
    await sleep(2_000);
    for (const contact of edited) world.hubspot.updateContact(contact.id, { phone: 'during-outage' });
    world.hubspot.createContact({ email: 'hnew@example.com', firstname: 'Hub', lastname: 'Newcomer', phone: 'during-outage' });
    await sleep(OUTAGE_MS - 2_000);
    await world.hubspot.setFaults({ outage: false, rateLimitStorm: true });
    await sleep(STORM_MS);
    await world.hubspot.setFaults({ rateLimitStorm: false });
    await sleep(5_000);
    const ticks = await stream.stop();

    const { rows: crmRows } = await world.crm.query<{ full_name: string; email: string; phone: string }>(
      `SELECT full_name, email, phone FROM contacts WHERE email LIKE 's%' ORDER BY email`,
    );
    expect(crmRows).toHaveLength(2 * ticks);
    const hubspotView = () =>
      world.hubspot
        .contacts()
        .filter((contact) => contact.properties['email']?.startsWith('s'))
        .map(({ properties: p }) => ({ full_name: `${p['firstname']} ${p['lastname']}`, email: p['email'], phone: p['phone'] }))
        .sort((a, b) => (a.email! < b.email! ? -1 : 1));
    await eventually(() => expect(hubspotView()).toEqual(crmRows), { timeoutMs: 180_000, intervalMs: 1_000 });
    await eventually(
      async () => {
        const { rows } = await world.crm.query(`SELECT full_name, email, phone FROM contacts WHERE email LIKE 'h%' ORDER BY email`);
        expect(rows).toEqual([
          { full_name: 'Hub h1', email: 'h1@example.com', phone: 'during-outage' },
          { full_name: 'Hub h2', email: 'h2@example.com', phone: 'during-outage' },
          { full_name: 'Hub h3', email: 'h3@example.com', phone: 'during-outage' },
          { full_name: 'Hub Newcomer', email: 'hnew@example.com', phone: 'during-outage' },
        ]);
      },
      { timeoutMs: 120_000, intervalMs: 1_000 },
    );

    // One contact per email on each side, and nothing archived that should not be.
    const emails = world.hubspot.contacts().map((contact) => contact.properties['email']);
    expect(emails).toHaveLength(2 * ticks + 4);
    expect(new Set(emails).size).toBe(emails.length);
    expect(world.hubspot.contacts({ archived: true })).toEqual([]);
    const { rows: counts } = await world.crm.query<{ total: string; distinct: string }>(`SELECT count(*) AS total, count(DISTINCT email) AS distinct FROM contacts`);
    expect(counts[0]).toEqual({ total: String(2 * ticks + 4), distinct: String(2 * ticks + 4) });

    // Storm answers are not counted as limit violations; every other 429 would be.
    expect(world.hubspot.rateLimited()).toBe(0);
    expect(world.hubspot.maxRequestsInWindow(10_000)).toBeLessThanOrEqual(RATE_LIMIT);
  }, 420_000);
});
