import { webhookSignature } from '@tandem/hubspot-system';
import { createCrmHubSpotWorld, HUBSPOT_CLIENT_SECRET, HUBSPOT_PORTAL_ID, startCrmHubSpotStack, type CrmHubSpotWorld, type ServiceStack } from '@tandem/local-stack';
import { eventually } from '@tandem/testing';

describe('HubSpot webhook deliveries', () => {
  let world: CrmHubSpotWorld;
  let stack: ServiceStack;
  let endpoint: string;

  beforeAll(async () => {
    world = await createCrmHubSpotWorld('hs_webhooks_');
    stack = await startCrmHubSpotStack(world);
    endpoint = `http://127.0.0.1:${stack.connectors.get('hubspot')!.port}/webhooks/hubspot`;
    // Deliveries in these tests are the test's own; the account's are turned off.
    world.hubspot.setWebhookTarget(null);
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    await world?.close();
  });

  const pendingNotices = async () => Number((await stack.db.query<{ n: string }>(`SELECT count(*) AS n FROM tandem_source_inbox`)).rows[0]!.n);
  const changesPublishedFor = async (email: string) =>
    Number(
      (
        await stack.db.query<{ n: string }>(
          `SELECT count(*) AS n FROM tandem_sync_log l JOIN tandem_record_links r ON r.entity_id = l.entity_id AND r.system_id = 'hubspot'
           WHERE l.system_id = 'hubspot' AND l.action LIKE 'change.%' AND r.record_id = $1`,
          [email],
        )
      ).rows[0]!.n,
    );

  function event(objectId: string, type: string, occurredAt: number, extra: Record<string, unknown> = {}) {
    return { eventId: Math.floor(Math.random() * 1e9), subscriptionId: 1, portalId: HUBSPOT_PORTAL_ID, appId: 7, occurredAt, subscriptionType: type, attemptNumber: 0, objectId: Number(objectId), changeSource: 'CRM', ...extra };
  }

  async function deliver(events: unknown[], { secret = HUBSPOT_CLIENT_SECRET, timestamp = Date.now() } = {}) {
    const body = JSON.stringify(events);
    const signature = webhookSignature({ method: 'POST', uri: endpoint, rawBody: body, timestamp, clientSecret: secret });
    const started = Date.now();
    const response = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'X-HubSpot-Signature-v3': signature, 'X-HubSpot-Request-Timestamp': String(timestamp) },
      body,
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown>, ms: Date.now() - started };
  }

  it('refuses a bad signature or a stale timestamp with 401 and takes nothing in', async () => {
    const contact = world.hubspot.createContact({ email: 'sig@example.com', firstname: 'Sig', lastname: 'Check' });
    const events = [event(contact.id, 'contact.creation', Date.now())];
    const forged = await deliver(events, { secret: 'not-the-secret' });
    const stale = await deliver(events, { timestamp: Date.now() - 6 * 60_000 });
    expect([forged.status, stale.status]).toEqual([401, 401]);
    expect(forged.body).toMatchObject({ error: 'bad_signature' });
    expect(stale.body).toMatchObject({ error: 'stale_timestamp' });
    expect(await pendingNotices()).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect((await world.crm.query(`SELECT 1 FROM contacts WHERE email = 'sig@example.com'`)).rows).toEqual([]);
  });

  it('turns a duplicated, reordered delivery into one change, answered within a few hundred milliseconds', async () => {
    const contact = world.hubspot.createContact({ email: 'dup@example.com', firstname: 'Dup', lastname: 'Licate', phone: '1' });
    const created = event(contact.id, 'contact.creation', Date.now() - 50);
    const changed = event(contact.id, 'contact.propertyChange', Date.now(), { propertyName: 'phone', propertyValue: '1' });
    const first = await deliver([changed, created, changed]);
    const again = await deliver([created, changed]);
    expect(first.status).toBe(200);
    expect(first.ms).toBeLessThan(500);
    expect(again).toMatchObject({ status: 200, body: { accepted: 0, duplicates: 2 } });

    await eventually(async () =>
      expect((await world.crm.query(`SELECT full_name, phone FROM contacts WHERE email = 'dup@example.com'`)).rows).toEqual([{ full_name: 'Dup Licate', phone: '1' }]),
    );
    await eventually(async () => expect(await pendingNotices()).toBe(0));
    expect(await changesPublishedFor(contact.id)).toBe(1);
  });
});
