import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMemoryCoordination } from '@tandem/coordination';
import { HubSpotSimulator, type HubSpotSimulatorOptions } from '@tandem/hubspot-simulator';
import { eventually } from '@tandem/testing';
import { listAllContacts, listArchivedContacts } from './contact-list.util';
import { pollModifiedContacts, type ContactSearchCursor } from './contact-poll.util';
import { toContactRecord } from './contact-record.util';
import { HubSpotClient } from './hubspot-client.service';
import { parseWebhookEvents } from './webhook-event.schema';
import { verifyWebhookSignature } from './webhook-signature.util';

const SEARCH_LIMIT = { limit: 100, windowMs: 1_000 };
let simulator: HubSpotSimulator;
let receiver: Server | null = null;

async function start(options: HubSpotSimulatorOptions = {}): Promise<HubSpotClient> {
  simulator = await HubSpotSimulator.start({ rateLimit: { limit: 1_000, windowMs: 10_000 }, searchRateLimit: SEARCH_LIMIT, ...options });
  return new HubSpotClient({
    baseUrl: simulator.url,
    accessToken: simulator.options.accessToken,
    accountId: String(simulator.options.portalId),
    rateLimiter: createMemoryCoordination().rateLimiter,
    limits: { requests: { limit: 1_000, windowMs: 10_000 }, search: SEARCH_LIMIT, daily: 250_000 },
    requestTimeoutMs: 5_000,
  });
}

afterEach(async () => {
  await simulator?.close();
  await new Promise((resolve) => (receiver ? receiver.close(resolve) : resolve(undefined)));
  receiver = null;
});

const T = Date.UTC(2024, 0, 1);

describe('reading contacts from the simulator', () => {
  it('polls more than 10,000 contacts, many sharing a millisecond, without skipping or repeating one', async () => {
    let now = T;
    const client = await start({ clock: () => now });
    const ids = new Set<string>();
    for (let ms = 0; ms < 101; ms += 1) {
      now = T + ms;
      for (let index = 0; index < 100; index += 1) ids.add(simulator.createContact({ email: `c${ms}-${index}@x.com` }).id);
    }
    now = T + 101;
    for (let index = 0; index < 350; index += 1) ids.add(simulator.createContact({ email: `same-${index}@x.com` }).id);

    let cursor: ContactSearchCursor = { sinceMs: 0, idsAtSince: [] };
    const read: string[] = [];
    for (let poll = 0; poll < 5; poll += 1) {
      const result = await pollModifiedContacts(client, cursor, { properties: ['email'], nowMs: T + 60_000, lagMs: 10_000, pageLimit: 20 });
      expect(result.overflowAtMs).toBeNull();
      read.push(...result.contacts.map((contact) => contact.id));
      cursor = JSON.parse(JSON.stringify(result.cursor)) as ContactSearchCursor;
      if (result.contacts.length === 0) break;
    }
    expect(read).toHaveLength(ids.size);
    expect(new Set(read)).toEqual(ids);
    expect(cursor.sinceMs).toBe(T + 101);
    expect(cursor.idsAtSince).toHaveLength(350);
    expect(simulator.rateLimited()).toBe(0);
  });

  it('keeps the cursor behind the search lag, so a contact that becomes searchable late is still read', async () => {
    let now = T + 200;
    const client = await start({ clock: () => now, searchIndexDelayMs: 300 });
    const later = simulator.createContact({ email: 'later@x.com' });
    const options = { properties: ['email'], nowMs: T + 250, lagMs: 200 };
    const first = await eventually(async () => {
      const result = await pollModifiedContacts(client, { sinceMs: T, idsAtSince: [] }, options);
      expect(result.contacts.map((contact) => contact.id)).toEqual([later.id]);
      return result;
    });
    expect(first.cursor).toEqual({ sinceMs: T + 50, idsAtSince: [] });
    // A write stamped before the one already read, that becomes searchable only now.
    now = T + 100;
    const earlier = simulator.createContact({ email: 'earlier@x.com' });
    await eventually(async () => {
      const result = await pollModifiedContacts(client, first.cursor, options);
      expect(result.contacts.map((contact) => contact.id)).toEqual([earlier.id, later.id]);
    });
  });

  it('backfills every contact a page at a time and resumes from a stored position', async () => {
    const client = await start();
    const ids = new Set(Array.from({ length: 250 }, (_, index) => simulator.createContact({ email: `b${index}@x.com` }).id));
    let stored: string | null = null;
    const read: string[] = [];
    for await (const page of listAllContacts(client, { properties: ['email'] })) {
      read.push(...page.contacts.map((contact) => contact.id));
      stored = page.after;
      break;
    }
    expect(stored).not.toBeNull();
    simulator.resetCalls();
    for await (const page of listAllContacts(client, { after: stored, properties: ['email'] })) {
      read.push(...page.contacts.map((contact) => contact.id));
      stored = page.after;
    }
    expect(stored).toBeNull();
    expect(simulator.callCount()).toBe(2);
    expect(read).toHaveLength(250);
    expect(new Set(read)).toEqual(ids);
  });

  it('finds deletions through the archived contacts', async () => {
    const client = await start();
    const contacts = Array.from({ length: 5 }, (_, index) => simulator.createContact({ email: `a${index}@x.com` }));
    simulator.archiveContact(contacts[1]!.id);
    simulator.archiveContact(contacts[3]!.id);
    const archived: string[] = [];
    for await (const page of listArchivedContacts(client, { properties: ['email'] })) {
      for (const contact of page.contacts) {
        const record = toContactRecord(contact);
        expect(record.archived).toBe(true);
        archived.push(record.recordId);
      }
    }
    expect(archived.sort()).toEqual([contacts[1]!.id, contacts[3]!.id].sort());
  });

  it("verifies the simulator's real webhook deliveries and reads their events", async () => {
    const deliveries: Array<{ uri: string; rawBody: string; signature: string; timestamp: string }> = [];
    receiver = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        deliveries.push({
          uri: `http://${request.headers.host}${request.url}`,
          rawBody: Buffer.concat(chunks).toString('utf8'),
          signature: String(request.headers['x-hubspot-signature-v3']),
          timestamp: String(request.headers['x-hubspot-request-timestamp']),
        });
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver!.listen(0, '127.0.0.1', resolve));
    const port = (receiver.address() as AddressInfo).port;
    await start({ clientSecret: 'app-secret', webhooks: { targetUrl: `http://127.0.0.1:${port}/hooks/hubspot?tenant=acme` } });

    const contact = simulator.createContact({ email: 'hook@x.com' });
    simulator.updateContact(contact.id, { phone: '555' });
    simulator.archiveContact(contact.id);
    await simulator.flushWebhooks(10_000);
    expect(deliveries.length).toBeGreaterThan(0);

    const events = [];
    for (const delivery of deliveries) {
      const check = { method: 'POST', clientSecret: 'app-secret', nowMs: Date.now(), ...delivery };
      expect(verifyWebhookSignature(check)).toEqual({ ok: true });
      expect(verifyWebhookSignature({ ...check, rawBody: `${delivery.rawBody} ` })).toEqual({ ok: false, reason: 'bad_signature' });
      expect(verifyWebhookSignature({ ...check, clientSecret: 'other' })).toEqual({ ok: false, reason: 'bad_signature' });
      expect(verifyWebhookSignature({ ...check, nowMs: Number(delivery.timestamp) + 5 * 60_000 + 1 })).toEqual({ ok: false, reason: 'stale_timestamp' });
      const parsed = parseWebhookEvents(JSON.parse(delivery.rawBody));
      if (!parsed.ok) throw new Error(parsed.error);
      events.push(...parsed.events);
    }
    expect(events.every((event) => event.objectId === contact.id && event.portalId === '33')).toBe(true);
    const types = events.map((event) => event.type);
    expect(types).toEqual(expect.arrayContaining(['contact.creation', 'contact.propertyChange', 'contact.deletion']));
    expect(events.find((event) => event.propertyName === 'phone')?.propertyValue).toBe('555');
  });
});
