import { randomUUID } from 'node:crypto';
import { createMemoryCoordination } from '@tandem/coordination';
import { HubSpotSimulator, type HubSpotSimulatorOptions } from '@tandem/hubspot-simulator';
import { archiveAttemptsStore } from './__fixtures__/archive-attempts.fixture';
import { HubSpotApiErrorCode } from './hubspot-api.error';
import { HubSpotApplier, type HubSpotApplyInput } from './hubspot-applier.service';
import { HubSpotClient } from './hubspot-client.service';

const CONTACTS = '/crm/v3/objects/contacts';
const BATCH_UPDATE = `POST ${CONTACTS}/batch/update`;
const BATCH_UPSERT = `POST ${CONTACTS}/batch/upsert`;
const BATCH_CREATE = `POST ${CONTACTS}/batch/create`;

let simulator: HubSpotSimulator;

async function startSimulator(options: HubSpotSimulatorOptions = {}) {
  simulator = await HubSpotSimulator.start({ rateLimit: { limit: 1_000, windowMs: 10_000 }, ...options });
  const client = new HubSpotClient({
    baseUrl: simulator.url,
    accessToken: simulator.options.accessToken,
    accountId: String(simulator.options.portalId),
    rateLimiter: createMemoryCoordination().rateLimiter,
    limits: { requests: { limit: 1_000, windowMs: 10_000 }, search: { limit: 5, windowMs: 1_000 }, daily: 250_000 },
    requestTimeoutMs: 500,
  });
  return { client, applier: new HubSpotApplier(client, archiveAttemptsStore()) };
}

afterEach(async () => {
  await simulator?.close();
});

let version = 0;
function upsert(fields: HubSpotApplyInput['fields'], recordId: string | null = null): HubSpotApplyInput {
  version += 1;
  return { commandId: randomUUID(), entityId: randomUUID(), recordId, operation: 'upsert', version, fields };
}

describe('HubSpotApplier against the simulator', () => {
  it('writes 15 changed contacts with one call and reports what HubSpot holds and its position', async () => {
    const { applier } = await startSimulator();
    const contacts = Array.from({ length: 15 }, (_, index) => simulator.createContact({ email: `c${index}@x.com`, firstname: 'Old' }));
    simulator.resetCalls();
    const commands = contacts.map((contact, index) => upsert({ firstname: `New ${index}`, phone: 5_550_000 + index, company: null }, contact.id));
    const outcomes = await applier.apply(commands);
    expect(simulator.calls()).toEqual({ [BATCH_UPDATE]: 1 });
    for (const [index, outcome] of outcomes.entries()) {
      const held = simulator.getContact(contacts[index]!.id)!;
      expect(outcome).toEqual({
        commandId: commands[index]!.commandId,
        recordId: held.id,
        outcome: 'applied',
        fields: { firstname: `New ${index}`, phone: String(5_550_000 + index), company: held.properties['company'] ?? null },
        error: null,
        position: String(Date.parse(held.properties['lastmodifieddate']!)),
      });
      expect(held.properties['firstname']).toBe(`New ${index}`);
    }
  });

  it('creates 250 contacts with three reads (none exists yet) and three upserts', async () => {
    const { applier } = await startSimulator();
    const outcomes = await applier.apply(Array.from({ length: 250 }, (_, index) => upsert({ email: `new${index}@x.com`, lastname: `L${index}` })));
    expect(simulator.callCount()).toBe(6);
    expect(simulator.callCount(BATCH_UPSERT)).toBe(3);
    expect(outcomes.every((outcome) => outcome.outcome === 'applied')).toBe(true);
    expect(simulator.contacts()).toHaveLength(250);
    for (const [index, outcome] of outcomes.entries()) {
      expect(simulator.getContact(outcome.recordId!)?.properties['email']).toBe(`new${index}@x.com`);
    }
  });

  it('creates contacts without an email with batch create', async () => {
    const { applier } = await startSimulator();
    const outcomes = await applier.apply([upsert({ firstname: 'No', lastname: 'Email' }), upsert({ firstname: 'Also', lastname: 'Anonymous' })]);
    expect(simulator.calls()).toEqual({ [BATCH_CREATE]: 1 });
    expect(outcomes.map((outcome) => simulator.getContact(outcome.recordId!)?.properties['lastname'])).toEqual(['Email', 'Anonymous']);
  });

  it('a create retried after a timeout does not create a second contact', async () => {
    const { applier } = await startSimulator();
    const command = upsert({ email: 'once@x.com', firstname: 'Once' });
    await simulator.setFaults({ timeoutRate: 1 });
    await expect(applier.apply([command])).rejects.toMatchObject({ code: HubSpotApiErrorCode.Timeout, retryable: true });
    await simulator.setFaults({ timeoutRate: 0 });
    const [outcome] = await applier.apply([command]);
    expect(simulator.contacts().filter((contact) => contact.properties['email'] === 'once@x.com')).toHaveLength(1);
    expect(outcome).toMatchObject({ outcome: 'applied', recordId: simulator.contacts()[0]!.id });
  });

  it.each(['partial', 'reject-batch'] as const)('isolates an invalid email (%s answers), the rest of the batch applies', async (batchValidation) => {
    const { applier } = await startSimulator({ batchValidation });
    const existing = Array.from({ length: 6 }, (_, index) => simulator.createContact({ email: `e${index}@x.com` }));
    simulator.resetCalls();
    const commands = existing.map((contact, index) => upsert({ email: index === 3 ? 'not-an-email' : `changed${index}@x.com` }, contact.id));
    const outcomes = await applier.apply(commands);
    expect(outcomes[3]).toMatchObject({ outcome: 'failed', recordId: existing[3]!.id, error: { code: 'invalid_value', retryable: false } });
    for (const index of [0, 1, 2, 4, 5]) {
      expect(outcomes[index]!.outcome).toBe('applied');
      expect(simulator.getContact(existing[index]!.id)?.properties['email']).toBe(`changed${index}@x.com`);
    }
    expect(simulator.getContact(existing[3]!.id)?.properties['email']).toBe('e3@x.com');
    // A 207 names the bad input: one call. A batch refused whole is halved down to the bad input.
    expect(simulator.callCount(BATCH_UPDATE)).toBe(batchValidation === 'partial' ? 1 : 7);
  });

  it('an update of a contact that was deleted fails as not_found; deletes archive', async () => {
    const { applier } = await startSimulator();
    const [kept, gone, toDelete] = [1, 2, 3].map((index) => simulator.createContact({ email: `d${index}@x.com` }));
    simulator.archiveContact(gone!.id);
    const deletion: HubSpotApplyInput = { ...upsert({}, toDelete!.id), operation: 'delete' };
    const outcomes = await applier.apply([upsert({ phone: '1' }, kept!.id), upsert({ phone: '2' }, gone!.id), deletion]);
    expect(outcomes.map((outcome) => [outcome.outcome, outcome.error?.code ?? null])).toEqual([
      ['applied', null],
      ['failed', 'record_missing'],
      ['applied', null],
    ]);
    expect(outcomes[2]).toMatchObject({ recordId: toDelete!.id });
    expect(simulator.getContact(toDelete!.id)).toBeUndefined();
    const archived = simulator.getContact(toDelete!.id, { archived: true });
    expect(archived?.archived).toBe(true);
    // Its position is the time HubSpot gives the archive: earlier deletions were someone else's.
    expect(outcomes[2]!.position).toBe(String(Date.parse(archived!.archivedAt!)));
  });

  it('throws outages as retryable errors, and probe tells when HubSpot answers again', async () => {
    const { applier } = await startSimulator();
    await simulator.setFaults({ outage: 'unavailable' });
    await expect(applier.apply([upsert({ email: 'a@x.com' })])).rejects.toMatchObject({ code: HubSpotApiErrorCode.Server, retryable: true });
    await expect(applier.probe()).rejects.toMatchObject({ retryable: true });
    await simulator.setFaults({ outage: 'refuse' });
    await expect(applier.probe()).rejects.toMatchObject({ code: HubSpotApiErrorCode.Network, retryable: true });
    await simulator.setFaults({ outage: false });
    await expect(applier.probe()).resolves.toBeUndefined();
    expect(simulator.contacts()).toHaveLength(0);
  });
});
