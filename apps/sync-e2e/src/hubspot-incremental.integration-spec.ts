import { createCrmHubSpotWorld, crmHubSpotSync, startCrmHubSpotStack, type CrmHubSpotWorld, type ServiceStack } from '@tandem/local-stack';
import { eventually } from '@tandem/testing';

const CONTACTS = 10_000;
const EDITED = 15;
const POLL_INTERVAL_MS = 5_000;
const CONTACTS_PATH = '/crm/v3/objects/contacts';
const LIST = `GET ${CONTACTS_PATH}`;
const BATCH_READ = `POST ${CONTACTS_PATH}/batch/read`;
const SEARCH = `POST ${CONTACTS_PATH}/search`;
const WRITES = /batch\/(update|create|upsert|archive)$|^(PATCH|DELETE) \/crm\/v3\/objects\/contacts\/\{id\}$|^POST \/crm\/v3\/objects\/contacts$/;

/**
 * The CRM holds 10,000 contacts and HubSpot none, as on the day Tandem is switched on: the initial
 * sync creates them all in HubSpot through batch upserts, so every link is one Tandem made, and the
 * synced state is Tandem's own doing rather than seeded (matching existing contacts is the subject of
 * hubspot-matching). After that only changes may cost API calls.
 */
describe('10,000 contacts synced with HubSpot, then only what changed', () => {
  let world: CrmHubSpotWorld;
  let stack: ServiceStack;

  beforeAll(async () => {
    world = await createCrmHubSpotWorld('hs_incremental_');
    await world.crm.query(
      `INSERT INTO contacts (full_name, email, phone) SELECT 'Person ' || i, 'p' || i || '@example.com', '0' FROM generate_series(1, ${CONTACTS}) AS i`,
    );
    stack = await startCrmHubSpotStack(world, {
      config: crmHubSpotSync({
        baseUrl: world.hubspot.url,
        pollIntervalMs: POLL_INTERVAL_MS,
        // The archived-contacts listing has its own slow cadence (5 minutes by default); kept out of
        // this test's minutes so that any listing seen here is one the change path made.
        archivedSweepIntervalMs: 3_600_000,
      }),
    });
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    await world?.close();
  });

  const count = async (sql: string, params: unknown[] = []) => Number((await stack.db.query<{ n: string }>(sql, params)).rows[0]!.n);
  const links = (system: string) => count(`SELECT count(*) AS n FROM tandem_record_links WHERE system_id = $1`, [system]);
  const pendingNotices = () => count(`SELECT count(*) AS n FROM tandem_source_inbox`);
  const syncLogRows = () => count(`SELECT count(*) AS n FROM tandem_sync_log`);
  const pollCursorMs = async () => {
    const { rows } = await stack.db.query<{ position: string }>(`SELECT position FROM tandem_connector_checkpoints WHERE system_id = 'hubspot' AND name = 'poll'`);
    return rows[0] ? (JSON.parse(rows[0].position) as { sinceMs: number }).sinceMs : 0;
  };
  const calls = (key: string) => world.hubspot.callCount(key);
  const writeCalls = () => Object.entries(world.hubspot.calls()).filter(([key]) => WRITES.test(key)).reduce((sum, [, n]) => sum + n, 0);

  /** Nothing in flight: webhooks delivered, the inbox empty, and the services have stopped logging work. */
  async function quiet(): Promise<void> {
    await world.hubspot.flushWebhooks(60_000);
    let last = -1;
    await eventually(
      async () => {
        const [notices, logged] = await Promise.all([pendingNotices(), syncLogRows()]);
        const settled = notices === 0 && logged === last;
        last = logged;
        expect(settled).toBe(true);
      },
      { timeoutMs: 60_000, intervalMs: 1_500 },
    );
  }

  it('copies every contact once, then costs one or two write calls for 15 CRM edits and only webhook reads and polls for 15 HubSpot edits', async () => {
    await eventually(
      async () => {
        expect(world.hubspot.contacts()).toHaveLength(CONTACTS);
        expect([await links('crm'), await links('hubspot')]).toEqual([CONTACTS, CONTACTS]);
      },
      { timeoutMs: 300_000, intervalMs: 2_000 },
    );
    expect(new Set(world.hubspot.contacts().map((contact) => contact.properties['email'])).size).toBe(CONTACTS);
    // The safety-net poll must have read past the initial copy, so that from here on it reads one page.
    const lastWrite = Math.max(...world.hubspot.contacts().map((contact) => Date.parse(contact.updatedAt)));
    await eventually(async () => expect(await pollCursorMs()).toBeGreaterThanOrEqual(lastWrite), { timeoutMs: 60_000, intervalMs: 1_000 });
    await quiet();

    // 15 contacts edited in the CRM in one statement.
    world.hubspot.resetCalls();
    const crmEditedAt = Date.now();
    const { rows: crmEdited } = await world.crm.query<{ email: string }>(
      `UPDATE contacts SET phone = 'crm-edit' WHERE id IN (SELECT id FROM contacts ORDER BY random() LIMIT ${EDITED}) RETURNING email`,
    );
    const crmEmails = new Set(crmEdited.map((row) => row.email));
    await eventually(
      () => expect(world.hubspot.contacts().filter((contact) => contact.properties['phone'] === 'crm-edit').map((c) => c.properties['email']).sort()).toEqual([...crmEmails].sort()),
      { timeoutMs: 30_000 },
    );
    await quiet();
    // One batch update as a rule; two when the commands' partitions reach the applier further apart
    // than its linger (a loaded machine): the "one or two API calls" Tandem promises.
    expect(calls(`POST ${CONTACTS_PATH}/batch/update`)).toBeGreaterThanOrEqual(1);
    expect(writeCalls()).toBe(calls(`POST ${CONTACTS_PATH}/batch/update`));
    expect(writeCalls()).toBeLessThanOrEqual(2);
    // Fifteen record writes: no other contact was touched.
    expect(world.hubspot.contacts().filter((contact) => Date.parse(contact.updatedAt) >= crmEditedAt)).toHaveLength(EDITED);
    expect(calls(LIST)).toBe(0);
    expect(world.hubspot.rateLimited()).toBe(0);

    // 15 other contacts edited by a person in HubSpot.
    world.hubspot.resetCalls();
    const startedAt = Date.now();
    const hubspotEdited = world.hubspot
      .contacts()
      .filter((contact) => !crmEmails.has(contact.properties['email'] ?? ''))
      .slice(0, EDITED)
      .map((contact) => world.hubspot.updateContact(contact.id, { phone: 'hubspot-edit' }).properties['email']!);
    await eventually(
      async () => {
        const { rows } = await world.crm.query<{ email: string }>(`SELECT email FROM contacts WHERE phone = 'hubspot-edit' ORDER BY email`);
        expect(rows.map((row) => row.email)).toEqual([...hubspotEdited].sort());
      },
      { timeoutMs: 30_000 },
    );
    await quiet();
    const elapsedMs = Date.now() - startedAt;
    // The poller sleeps an interval before each poll, and a poll past the initial copy is one page.
    const pollsAtMost = Math.floor(elapsedMs / POLL_INTERVAL_MS) + 1;
    const used = world.hubspot.calls();
    expect(calls(BATCH_READ)).toBeGreaterThanOrEqual(1);
    expect(calls(BATCH_READ)).toBeLessThanOrEqual(2);
    expect(calls(SEARCH)).toBeLessThanOrEqual(pollsAtMost);
    expect(Object.keys(used).filter((key) => key !== BATCH_READ && key !== SEARCH)).toEqual([]);
    expect(writeCalls()).toBe(0);
    expect(calls(LIST)).toBe(0);
    const { rows: crmRows } = await world.crm.query<{ n: string }>(`SELECT count(*) AS n FROM contacts`);
    expect(Number(crmRows[0]!.n)).toBe(CONTACTS);
    expect(world.hubspot.contacts()).toHaveLength(CONTACTS);
  }, 600_000);
});
