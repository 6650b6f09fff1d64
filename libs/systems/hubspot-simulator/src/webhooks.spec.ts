import { createHmac, timingSafeEqual } from 'node:crypto';
import { type IncomingHttpHeaders, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CONTACTS_PATH, apiClient } from './api-test-client.util';
import { HubSpotSimulator } from './hubspot-simulator.service';
import type { HubSpotSimulatorOptions } from './simulator-options.schema';
import type { WebhookEvent } from './webhook-event.interface';

interface Delivery {
  headers: IncomingHttpHeaders;
  rawBody: string;
  events: WebhookEvent[];
}

/** A webhook endpoint that records deliveries and answers as `respond` says (status, or delay in ms). */
class Receiver {
  readonly deliveries: Delivery[] = [];
  respond: (attempt: number) => { status: number; delayMs?: number } = () => ({ status: 204 });
  private attempts = 0;

  private readonly server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      this.deliveries.push({ headers: request.headers, rawBody, events: JSON.parse(rawBody) as WebhookEvent[] });
      const { status, delayMs = 0 } = this.respond(this.attempts++);
      setTimeout(() => response.writeHead(status).end(), delayMs);
    });
  });

  static async start(): Promise<Receiver> {
    const receiver = new Receiver();
    await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hubspot/webhooks?tenant=acme`;
  }

  events(): WebhookEvent[] {
    return this.deliveries.flatMap((delivery) => delivery.events);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** The receiver's side of v3, computed independently of the simulator's code. */
function hasValidSignature(delivery: Delivery, uri: string, secret: string): boolean {
  const timestamp = String(delivery.headers['x-hubspot-request-timestamp']);
  const expected = createHmac('sha256', secret).update(`POST${uri}${delivery.rawBody}${timestamp}`).digest();
  const received = Buffer.from(String(delivery.headers['x-hubspot-signature-v3']), 'base64');
  return received.length === expected.length && timingSafeEqual(received, expected);
}

describe('HubSpot simulator: webhooks', () => {
  let receiver: Receiver;
  let simulator: HubSpotSimulator | undefined;

  beforeEach(async () => {
    receiver = await Receiver.start();
  });

  afterEach(async () => {
    await simulator?.close();
    await receiver.close();
  });

  async function start(webhooks: HubSpotSimulatorOptions['webhooks'] = {}, options: HubSpotSimulatorOptions = {}) {
    simulator = await HubSpotSimulator.start({
      clientSecret: 'shh',
      portalId: 77,
      ...options,
      webhooks: { targetUrl: receiver.url, batchWindowMs: 10, retryDelaysMs: [20, 20, 20], ...webhooks },
    });
    return simulator;
  }

  it('signs every delivery with v3 over method, full URI, raw body and timestamp', async () => {
    const sim = await start();
    const before = Date.now();
    sim.createContact({ email: 'ann@example.com' });
    await sim.flushWebhooks(5_000);
    expect(receiver.deliveries).toHaveLength(1);
    const [delivery] = receiver.deliveries;
    expect(delivery?.headers['content-type']).toContain('application/json');
    expect(hasValidSignature(delivery!, receiver.url, 'shh')).toBe(true);
    expect(hasValidSignature(delivery!, receiver.url, 'another secret')).toBe(false);
    expect(hasValidSignature({ ...delivery!, rawBody: delivery!.rawBody.replace('77', '78') }, receiver.url, 'shh')).toBe(
      false,
    );
    const timestamp = Number(delivery?.headers['x-hubspot-request-timestamp']);
    expect(timestamp).toBeGreaterThanOrEqual(before);
    expect(timestamp).toBeLessThanOrEqual(Date.now());
  });

  it('notifies UI edits as CRM and API writes as INTEGRATION, one propertyChange per changed property', async () => {
    const sim = await start();
    const ann = sim.createContact({ email: 'ann@example.com', firstname: 'Ann' });
    sim.updateContact(ann.id, { firstname: 'Anne', phone: '1', email: 'ann@example.com' });
    const api = apiClient(sim);
    await api('PATCH', `${CONTACTS_PATH}/${ann.id}`, { properties: { phone: '2' } });
    await api('DELETE', `${CONTACTS_PATH}/${ann.id}`);
    sim.restoreContact(ann.id);
    const bo = sim.createContact({ email: 'bo@example.com' });
    sim.mergeContacts(ann.id, bo.id);
    await sim.flushWebhooks(5_000);

    const summary = receiver.events().map((event) => [
      event.subscriptionType,
      event.objectId,
      event.changeSource,
      event.propertyName ?? null,
      event.propertyValue ?? null,
    ]);
    const annId = Number(ann.id);
    const boId = Number(bo.id);
    expect(summary).toEqual([
      ['contact.creation', annId, 'CRM', null, null],
      ['contact.propertyChange', annId, 'CRM', 'firstname', 'Anne'],
      ['contact.propertyChange', annId, 'CRM', 'phone', '1'],
      ['contact.propertyChange', annId, 'INTEGRATION', 'phone', '2'],
      ['contact.deletion', annId, 'INTEGRATION', null, null],
      ['contact.restore', annId, 'CRM', null, null],
      ['contact.creation', boId, 'CRM', null, null],
      ['contact.merge', annId, 'CRM', null, null],
    ]);
    const events = receiver.events();
    expect(events.at(-1)).toMatchObject({ primaryObjectId: annId, mergedObjectIds: [boId], newObjectId: annId });
    for (const event of events) {
      expect(event).toMatchObject({
        portalId: 77,
        appId: expect.any(Number),
        subscriptionId: expect.any(Number),
        eventId: expect.any(Number),
        attemptNumber: 0,
      });
      expect(event.occurredAt).toBeGreaterThan(Date.now() - 60_000);
    }
    expect(new Set(events.map((event) => event.eventId)).size).toBe(events.length);
  });

  it('delivers arrays of fewer than 100 events, at most maxBatchSize each', async () => {
    const sim = await start({ maxBatchSize: 40 });
    for (let index = 0; index < 130; index += 1) sim.createContact({ firstname: `c${index}` });
    await sim.flushWebhooks(5_000);
    expect(receiver.events()).toHaveLength(130);
    expect(Math.max(...receiver.deliveries.map((delivery) => delivery.events.length))).toBe(40);
    expect(sim.webhookStats()).toMatchObject({ events: 130, deliveries: 4, attempts: 4, failedAttempts: 0, pending: 0 });
  });

  it('retries a failed delivery (non-2xx, too slow) with attemptNumber counting up', async () => {
    const sim = await start({ responseTimeoutMs: 200 });
    receiver.respond = (attempt) =>
      attempt === 0 ? { status: 500 } : attempt === 1 ? { status: 200, delayMs: 400 } : { status: 200 };
    sim.createContact({ email: 'ann@example.com' });
    await sim.flushWebhooks(5_000);
    expect(receiver.deliveries.map((delivery) => delivery.events[0]?.attemptNumber)).toEqual([0, 1, 2]);
    expect(new Set(receiver.deliveries.map((delivery) => delivery.events[0]?.eventId)).size).toBe(1);
    for (const delivery of receiver.deliveries) expect(hasValidSignature(delivery, receiver.url, 'shh')).toBe(true);
    expect(sim.webhookStats()).toMatchObject({ deliveries: 1, attempts: 3, failedAttempts: 2, dropped: 0, pending: 0 });
  });

  it('retries on connection errors and drops the events after the last retry', async () => {
    const sim = await start();
    const unreachable = receiver.url;
    await receiver.close();
    sim.setWebhookTarget(unreachable);
    sim.createContact({ email: 'ann@example.com' });
    expect(sim.webhookStats().pending).toBe(1);
    await sim.flushWebhooks(5_000);
    expect(sim.webhookStats()).toMatchObject({ attempts: 4, failedAttempts: 4, dropped: 1, pending: 0 });
    receiver = await Receiver.start();
  });

  it('delivers some events twice when duplicateRate is set, with the same eventId', async () => {
    const sim = await start({ duplicateRate: 1 });
    sim.createContact({ email: 'ann@example.com' });
    sim.createContact({ email: 'bo@example.com' });
    await sim.flushWebhooks(5_000);
    const ids = receiver.events().map((event) => event.eventId);
    expect(ids).toHaveLength(4);
    expect(new Set(ids).size).toBe(2);
    expect(sim.webhookStats()).toMatchObject({ events: 2, duplicates: 2 });
  });

  it('reorders events reproducibly for a seed', async () => {
    const order = async (seed: number): Promise<number[]> => {
      const sim = await start({ reorder: true, batchWindowMs: 20 }, { seed });
      receiver.deliveries.length = 0;
      for (let index = 0; index < 30; index += 1) sim.createContact({ firstname: `c${index}` });
      await sim.flushWebhooks(5_000);
      await sim.close();
      simulator = undefined;
      return receiver.events().map((event) => event.objectId);
    };
    const first = await order(7);
    expect(first).toHaveLength(30);
    expect(first).not.toEqual([...first].sort((a, b) => a - b));
    expect(await order(7)).toEqual(first);
  });

  it('produces no events while no target is set', async () => {
    const sim = await start({ targetUrl: null });
    sim.createContact({ email: 'ann@example.com' });
    expect(sim.webhookStats()).toMatchObject({ events: 0, pending: 0 });
    sim.setWebhookTarget(receiver.url);
    sim.createContact({ email: 'bo@example.com' });
    await sim.flushWebhooks(5_000);
    expect(receiver.events().map((event) => event.subscriptionType)).toEqual(['contact.creation']);
  });
});
