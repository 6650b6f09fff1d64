import { randomUUID } from 'node:crypto';
import { archiveAttemptsStore } from './__fixtures__/archive-attempts.fixture';
import { HubSpotApiError, HubSpotApiErrorCode } from './hubspot-api.error';
import { HubSpotApplier, type HubSpotApplierClient, type HubSpotApplyInput } from './hubspot-applier.service';
import type { BatchReadResult, BatchWriteResult, BeforeSend, HubSpotProperties } from './hubspot-client.service';
import type { HubSpotContact } from './hubspot-response.schema';

const REQUEST_TIMEOUT_MS = 10_000;

/**
 * HubSpot's batch writes in memory: emails are stored lowercased, a batch with an invalid email is
 * refused whole (400), and an update of an unknown id fails that input alone (207), results in
 * reverse order (HubSpot does not promise input order).
 */
class FakeHubSpot implements HubSpotApplierClient {
  readonly contacts = new Map<string, HubSpotContact>();
  readonly archived = new Map<string, HubSpotContact>();
  readonly calls: Array<{ kind: string; size: number }> = [];
  failNext: HubSpotApiError | null = null;
  private failAfter: { kind: string; failure: HubSpotApiError } | null = null;
  private nextId = 100;
  private clock = 1_700_000_000_000;

  async batchUpdate(inputs: ReadonlyArray<{ id: string; properties: HubSpotProperties }>): Promise<BatchWriteResult> {
    this.record('update', inputs);
    const results: HubSpotContact[] = [];
    const missing = inputs.filter((input) => !this.contacts.has(input.id)).map((input) => input.id);
    for (const input of inputs) if (this.contacts.has(input.id)) results.push(this.write(input.id, input.properties));
    const errors = missing.length === 0 ? [] : [{ status: 'error', category: 'OBJECT_NOT_FOUND', message: 'not found', context: { ids: missing } }];
    return { results: results.reverse(), errors };
  }

  async batchUpsert(inputs: ReadonlyArray<{ email: string; properties: HubSpotProperties }>): Promise<BatchWriteResult> {
    this.record('upsert', inputs);
    return {
      results: inputs
        .map((input) => {
          const existing = [...this.contacts.values()].find((each) => each.properties['email'] === input.email.toLowerCase());
          return this.write(existing?.id ?? String(this.nextId++), { ...input.properties, email: input.email });
        })
        .reverse(),
      errors: [],
    };
  }

  /** Live contacts by email (the applier's look for contacts its creates would write over), archived ones by id. */
  async batchRead(keys: readonly string[], _properties: readonly string[], { archived = false }: { archived?: boolean } = {}): Promise<BatchReadResult> {
    this.record(archived ? 'read archived' : 'read', keys);
    if (archived) {
      const results = keys.flatMap((id) => this.archived.get(id) ?? []);
      return { results, missing: keys.filter((id) => !this.archived.has(id)) };
    }
    const results = keys.flatMap((email) => [...this.contacts.values()].filter((each) => each.properties['email'] === email.toLowerCase()));
    return { results, missing: keys.filter((email) => !results.some((each) => each.properties['email'] === email.toLowerCase())) };
  }

  async batchCreate(inputs: ReadonlyArray<{ properties: HubSpotProperties }>): Promise<BatchWriteResult> {
    this.record('create', inputs);
    return { results: inputs.map((input) => this.write(String(this.nextId++), input.properties)).reverse(), errors: [] };
  }

  async batchArchive(ids: readonly string[], beforeSend?: BeforeSend): Promise<void> {
    await beforeSend?.(this.clock + REQUEST_TIMEOUT_MS);
    this.record('archive', ids);
    for (const id of ids) {
      const contact = this.contacts.get(id);
      if (!contact) continue;
      this.contacts.delete(id);
      this.clock += 1;
      this.archived.set(id, { ...contact, archived: true, archivedAt: new Date(this.clock).toISOString() });
    }
  }

  async probe(): Promise<void> {
    this.record('probe', []);
  }

  /** Lets HubSpot's time pass. */
  advance(ms: number): void {
    this.clock += ms;
  }

  seed(id: string, properties: Record<string, string>): void {
    this.contacts.set(id, { id, properties: { ...properties, lastmodifieddate: new Date(this.clock).toISOString() } });
  }

  /** Fails the call after the next one of `kind`. */
  failNextAfter(kind: string, failure: HubSpotApiError): void {
    this.failAfter = { kind, failure };
  }

  private record(kind: string, inputs: readonly unknown[]): void {
    this.calls.push({ kind, size: inputs.length });
    const failure = this.failNext;
    this.failNext = null;
    if (this.failAfter?.kind === kind) {
      this.failNext = this.failAfter.failure;
      this.failAfter = null;
    }
    if (failure) throw failure;
    const invalid = inputs.some((input) => {
      const email = (input as { properties?: HubSpotProperties }).properties?.['email'];
      return typeof email === 'string' && !email.includes('@');
    });
    if (invalid) {
      throw new HubSpotApiError(HubSpotApiErrorCode.Validation, 'Property values were not valid', { status: 400, category: 'VALIDATION_ERROR' });
    }
  }

  private write(id: string, properties: HubSpotProperties): HubSpotContact {
    this.clock += 1;
    const held = { ...(this.contacts.get(id)?.properties ?? {}) };
    for (const [name, value] of Object.entries(properties)) held[name] = name === 'email' && value ? value.toLowerCase() : value;
    held['lastmodifieddate'] = new Date(this.clock).toISOString();
    const contact = { id, properties: held };
    this.contacts.set(id, contact);
    return contact;
  }
}

let versions = 0;
function command(overrides: Partial<HubSpotApplyInput>): HubSpotApplyInput {
  versions += 1;
  return { commandId: randomUUID(), entityId: randomUUID(), recordId: null, operation: 'upsert', version: versions, fields: {}, ...overrides };
}

function setup() {
  const hubspot = new FakeHubSpot();
  const attempts = archiveAttemptsStore();
  return { hubspot, attempts, applier: new HubSpotApplier(hubspot, attempts) };
}

describe('HubSpotApplier', () => {
  it('writes 15 updates in one call and reports each with the values HubSpot holds and its position', async () => {
    const { hubspot, applier } = setup();
    for (let index = 1; index <= 15; index += 1) hubspot.seed(String(index), { email: `c${index}@x.com` });
    const commands = Array.from({ length: 15 }, (_, index) =>
      command({ recordId: String(index + 1), fields: { phone: 5550 + index, email: `C${index + 1}@X.com`, vip: true } }),
    );
    const outcomes = await applier.apply(commands);
    expect(hubspot.calls).toEqual([{ kind: 'update', size: 15 }]);
    expect(outcomes.map((outcome) => outcome.commandId)).toEqual(commands.map((each) => each.commandId));
    expect(outcomes[0]).toEqual({
      commandId: commands[0]!.commandId,
      recordId: '1',
      outcome: 'applied',
      fields: { phone: '5550', email: 'c1@x.com', vip: 'true' },
      error: null,
      position: String(Date.parse(hubspot.contacts.get('1')!.properties['lastmodifieddate']!)),
    });
  });

  it('gives an archive retried after a failed batch the time HubSpot archived the contact, not the retry\'s', async () => {
    const { hubspot, applier } = setup();
    hubspot.seed('7', { email: 'gone@x.com' });
    hubspot.seed('8', { email: 'kept@x.com' });
    const entityId = randomUUID();
    const commands = [
      command({ entityId, recordId: '7', operation: 'delete' }),
      command({ entityId, recordId: '7', operation: 'delete' }),
      command({ recordId: '8', fields: { phone: '1' } }),
    ];
    // The first attempt archives the contact, then meets an outage; the retry finds it archived.
    hubspot.failNextAfter('archive', new HubSpotApiError(HubSpotApiErrorCode.Server, 'down', { status: 503 }));
    await expect(applier.apply(commands)).rejects.toMatchObject({ retryable: true });
    const archivedAt = String(Date.parse(hubspot.archived.get('7')!.archivedAt!));
    const outcomes = await applier.apply(commands);
    expect(outcomes.map((outcome) => outcome.position)).toEqual([archivedAt, archivedAt, expect.any(String)]);
  });

  it('knows an archive its own when a restart hands it the same delete again', async () => {
    const { hubspot, attempts, applier } = setup();
    hubspot.seed('7', { email: 'gone@x.com' });
    const deletes = [command({ recordId: '7', operation: 'delete' })];
    // The applier archives the contact and is killed before its result goes out.
    hubspot.failNextAfter('archive', new HubSpotApiError(HubSpotApiErrorCode.Server, 'killed', { status: 503 }));
    await expect(applier.apply(deletes)).rejects.toMatchObject({ retryable: true });
    const [outcome] = await new HubSpotApplier(hubspot, attempts).apply(deletes);
    expect(outcome).toMatchObject({ outcome: 'applied', recordId: '7', position: String(Date.parse(hubspot.archived.get('7')!.archivedAt!)) });
  });

  it('takes no other tenant\'s delete with the same command id for a retry of its own', async () => {
    const { hubspot, applier } = setup();
    hubspot.seed('7', { email: 'one@x.com' });
    hubspot.seed('8', { email: 'two@x.com' });
    await applier.apply([command({ commandId: 'crm:4:50>hubspot', recordId: '8', operation: 'delete' })]);
    // Another tenant's entity, whose contact a person archived first, gets a delete of the same id.
    await hubspot.batchArchive(['7']);
    const [outcome] = await applier.apply([command({ commandId: 'crm:4:50>hubspot', recordId: '7', operation: 'delete' })]);
    expect(outcome?.position).toBe(String(Date.parse(hubspot.archived.get('7')!.archivedAt!) + 1));
  });

  it('places an archive someone else made first just after theirs, so their deletion report reads as theirs', async () => {
    const { hubspot, applier } = setup();
    hubspot.seed('7', { email: 'gone@x.com' });
    // A person archived the contact while Tandem's delete of it was on its way.
    await hubspot.batchArchive(['7']);
    const [outcome] = await applier.apply([command({ recordId: '7', operation: 'delete' })]);
    expect(outcome).toMatchObject({ outcome: 'applied', recordId: '7', position: String(Date.parse(hubspot.archived.get('7')!.archivedAt!) + 1) });
  });

  it('still places an archive someone else made first just after theirs when the batch is tried again', async () => {
    const { hubspot, applier } = setup();
    hubspot.seed('7', { email: 'gone@x.com' });
    await hubspot.batchArchive(['7']);
    // The re-create after the archive meets an outage, so the whole batch comes back.
    const entityId = randomUUID();
    const commands = [command({ entityId, recordId: '7', operation: 'delete' }), command({ entityId, fields: { email: 'back@x.com' } })];
    hubspot.failNextAfter('archive', new HubSpotApiError(HubSpotApiErrorCode.Server, 'down', { status: 503 }));
    await expect(applier.apply(commands)).rejects.toMatchObject({ retryable: true });
    const [archived] = await applier.apply(commands);
    expect(archived).toMatchObject({ outcome: 'applied', recordId: '7', position: String(Date.parse(hubspot.archived.get('7')!.archivedAt!) + 1) });
  });

  it.each([
    ['forgets an attempt HubSpot refused before acting (429): a person\'s archive before the retry stays theirs', new HubSpotApiError(HubSpotApiErrorCode.RateLimited, 'slow down', { status: 429 }), 0, 1],
    ['keeps an attempt that may have reached HubSpot (a timeout): the archive found is taken as its own', new HubSpotApiError(HubSpotApiErrorCode.Timeout, 'no answer'), 0, 0],
    ['takes an archive made after that attempt\'s answer was due (a timeout) for someone else\'s', new HubSpotApiError(HubSpotApiErrorCode.Timeout, 'no answer'), 4 * 60_000, 1],
  ])('%s', async (_case, failure, personLaterMs, afterPersonMs) => {
    const { hubspot, applier } = setup();
    hubspot.seed('7', { email: 'gone@x.com' });
    const deletes = [command({ recordId: '7', operation: 'delete' })];
    hubspot.failNextAfter('read archived', failure);
    await expect(applier.apply(deletes)).rejects.toBe(failure);
    expect(hubspot.contacts.has('7')).toBe(true);
    hubspot.advance(personLaterMs);
    await hubspot.batchArchive(['7']);
    const [outcome] = await applier.apply(deletes);
    expect(outcome).toMatchObject({ outcome: 'applied', recordId: '7', position: String(Date.parse(hubspot.archived.get('7')!.archivedAt!) + afterPersonMs) });
  });

  it('upserts new contacts by email, creates those without one, archives deletes: one call each', async () => {
    const { hubspot, applier } = setup();
    hubspot.seed('7', { email: 'gone@x.com' });
    const commands = [
      command({ fields: { email: 'new@x.com', firstname: 'Ada' } }),
      command({ fields: { firstname: 'No', lastname: 'Email' } }),
      command({ fields: { firstname: 'Also', lastname: 'None', phone: null } }),
      command({ recordId: '7', operation: 'delete' }),
      command({ operation: 'delete' }),
    ];
    const outcomes = await applier.apply(commands);
    expect(hubspot.calls).toEqual([
      { kind: 'read archived', size: 1 },
      { kind: 'archive', size: 1 },
      { kind: 'read archived', size: 1 },
      { kind: 'read', size: 1 },
      { kind: 'upsert', size: 1 },
      { kind: 'create', size: 2 },
    ]);
    expect(outcomes.map((outcome) => outcome.outcome)).toEqual(['applied', 'applied', 'applied', 'applied', 'applied']);
    const created = [outcomes[1]!, outcomes[2]!];
    expect(created.map((outcome) => hubspot.contacts.get(outcome.recordId!)?.properties['lastname'])).toEqual(['Email', 'None']);
    expect(outcomes[2]!.fields).toEqual({ firstname: 'Also', lastname: 'None', phone: null });
    // An archive's position is the time HubSpot gives the archived contact.
    expect(outcomes[3]).toMatchObject({ recordId: '7', fields: {}, position: String(Date.parse(hubspot.archived.get('7')!.archivedAt!)) });
    expect(outcomes[4]).toMatchObject({ recordId: null, outcome: 'applied' });
    expect(hubspot.contacts.has('7')).toBe(false);
  });

  it('a retried create finds the contact it made by email instead of making another', async () => {
    const { hubspot, applier } = setup();
    const create = command({ fields: { email: 'once@x.com', firstname: 'Once' } });
    const first = await applier.apply([create]);
    const second = await applier.apply([create]);
    expect(second[0]).toMatchObject({ outcome: 'failed', recordId: first[0]!.recordId, error: { code: 'record_exists' } });
    expect(hubspot.contacts.size).toBe(1);
  });

  it('does not write a create over a contact a person made with its email meanwhile', async () => {
    const { hubspot, applier } = setup();
    hubspot.seed('9', { email: 'race@x.com', firstname: 'Person' });
    const [outcome] = await applier.apply([command({ fields: { email: 'Race@x.com', firstname: 'Tandem' } })]);
    expect(outcome).toMatchObject({ outcome: 'failed', recordId: '9', error: { code: 'record_exists', retryable: false } });
    expect(hubspot.contacts.get('9')!.properties['firstname']).toBe('Person');
    expect(hubspot.calls.map((call) => call.kind)).toEqual(['read']);
  });

  it('writes a create to the contact with its email once the connector has linked that contact to the entity', async () => {
    const { hubspot, applier } = setup();
    hubspot.seed('9', { email: 'linked@x.com', firstname: 'Person', phone: '1' });
    const entityId = randomUUID();
    const [outcome] = await applier.apply([command({ entityId, matchedRecordId: '9', fields: { email: 'Linked@x.com', firstname: 'Tandem' } })]);
    expect(outcome).toMatchObject({ outcome: 'applied', recordId: '9', fields: { email: 'linked@x.com', firstname: 'Tandem' }, error: null });
    expect(hubspot.contacts.get('9')!.properties).toMatchObject({ firstname: 'Tandem', phone: '1' });
    expect(hubspot.calls.map((call) => call.kind)).toEqual(['read', 'update']);
    expect(hubspot.contacts.size).toBe(1);
  });

  it('still leaves a contact with the email alone when the entity is linked to another one', async () => {
    const { hubspot, applier } = setup();
    hubspot.seed('9', { email: 'other@x.com', firstname: 'Person' });
    const [outcome] = await applier.apply([command({ matchedRecordId: '12', fields: { email: 'other@x.com', firstname: 'Tandem' } })]);
    expect(outcome).toMatchObject({ outcome: 'failed', recordId: '9', error: { code: 'record_exists' } });
    expect(hubspot.contacts.get('9')!.properties['firstname']).toBe('Person');
  });

  it('merges several commands for one entity in order, reporting each, and marks older versions stale', async () => {
    const { hubspot, applier } = setup();
    hubspot.seed('3', { email: 'a@x.com' });
    const entityId = randomUUID();
    const first = command({ entityId, recordId: '3', version: 10, fields: { phone: '1', company: 'Acme' } });
    const second = command({ entityId, recordId: '3', version: 11, fields: { phone: '2' } });
    const older = command({ entityId, recordId: '3', version: 9, fields: { phone: 'old' } });
    const outcomes = await applier.apply([first, second, older]);
    expect(hubspot.calls).toEqual([{ kind: 'update', size: 1 }]);
    expect(hubspot.contacts.get('3')!.properties).toMatchObject({ phone: '2', company: 'Acme' });
    expect(outcomes.map((outcome) => outcome.outcome)).toEqual(['applied', 'applied', 'stale']);
    expect(outcomes[0]!.fields).toEqual({ phone: '2', company: 'Acme' });
    expect(outcomes[1]!.fields).toEqual({ phone: '2' });
  });

  it('a delete then a re-create of an entity archives the old contact before creating the new one', async () => {
    const { hubspot, applier } = setup();
    hubspot.seed('4', { email: 'same@x.com' });
    const entityId = randomUUID();
    const outcomes = await applier.apply([
      command({ entityId, recordId: '4', operation: 'delete' }),
      command({ entityId, fields: { email: 'same@x.com' } }),
    ]);
    expect(hubspot.calls.map((call) => call.kind)).toEqual(['read archived', 'archive', 'read archived', 'read', 'upsert']);
    expect(outcomes[0]).toMatchObject({ outcome: 'applied', recordId: '4' });
    expect(outcomes[1]!.recordId).not.toBe('4');
  });

  it('creates the contact again when a command names none after one that named the contact archived here', async () => {
    const { hubspot, applier } = setup();
    const entityId = randomUUID();
    // The person archived contact 5 while an update of it was queued; the restore sends the whole record.
    const outcomes = await applier.apply([
      command({ entityId, recordId: '5', version: 6, fields: { lastname: 'Ng' } }),
      command({ entityId, version: 7, fields: { email: 'back@x.com', firstname: 'Bea', lastname: 'Ng' } }),
    ]);
    expect(hubspot.calls.map((call) => call.kind)).toEqual(['read', 'upsert']);
    expect(outcomes.map((outcome) => outcome.outcome)).toEqual(['applied', 'applied']);
    const created = hubspot.contacts.get(outcomes[1]!.recordId!);
    expect(created?.properties).toMatchObject({ email: 'back@x.com', firstname: 'Bea', lastname: 'Ng' });
  });

  it('isolates an invalid email in a batch refused whole, so the others still apply', async () => {
    const { hubspot, applier } = setup();
    const commands = Array.from({ length: 10 }, (_, index) => command({ fields: { email: index === 6 ? 'not-an-email' : `ok${index}@x.com` } }));
    const outcomes = await applier.apply(commands);
    expect(outcomes.filter((outcome) => outcome.outcome === 'applied')).toHaveLength(9);
    expect(outcomes[6]).toMatchObject({ outcome: 'failed', recordId: null, error: { code: 'invalid_value', retryable: false } });
    expect(hubspot.contacts.size).toBe(9);
    // One read for the creates' emails, then the refused batch and its halves.
    expect(hubspot.calls.length).toBeLessThanOrEqual(2 + 2 * Math.ceil(Math.log2(10)));
  });

  it('reports an update of a contact that no longer exists as not_found, the rest applied', async () => {
    const { hubspot, applier } = setup();
    hubspot.seed('1', { email: 'a@x.com' });
    const outcomes = await applier.apply([command({ recordId: '1', fields: { phone: '1' } }), command({ recordId: '999', fields: { phone: '2' } })]);
    expect(hubspot.calls).toEqual([{ kind: 'update', size: 2 }]);
    expect(outcomes[0]!.outcome).toBe('applied');
    expect(outcomes[1]).toMatchObject({ outcome: 'failed', recordId: '999', error: { code: 'record_missing', retryable: false } });
  });

  it('puts two upserts of one email into separate calls', async () => {
    const { hubspot, applier } = setup();
    await applier.apply([command({ fields: { email: 'dup@x.com', phone: '1' } }), command({ fields: { email: 'DUP@x.com', company: 'B' } })]);
    expect(hubspot.calls).toEqual([
      { kind: 'read', size: 2 },
      { kind: 'upsert', size: 1 },
      { kind: 'upsert', size: 1 },
    ]);
    expect(hubspot.contacts.size).toBe(1);
  });

  it('writes 250 creates in three calls', async () => {
    const { hubspot, applier } = setup();
    const outcomes = await applier.apply(Array.from({ length: 250 }, (_, index) => command({ fields: { email: `n${index}@x.com` } })));
    expect(hubspot.calls).toEqual([
      { kind: 'read', size: 250 },
      { kind: 'upsert', size: 100 },
      { kind: 'upsert', size: 100 },
      { kind: 'upsert', size: 50 },
    ]);
    expect(new Set(outcomes.map((outcome) => outcome.recordId)).size).toBe(250);
  });

  it('throws transient failures for the caller to retry the whole batch', async () => {
    const { hubspot, applier } = setup();
    hubspot.failNext = new HubSpotApiError(HubSpotApiErrorCode.Server, 'down', { status: 503 });
    await expect(applier.apply([command({ fields: { email: 'a@x.com' } })])).rejects.toMatchObject({ code: 'SERVER', retryable: true });
  });

  it('does not split a batch refused for a reason that is not its inputs', async () => {
    const { hubspot, applier } = setup();
    hubspot.failNext = new HubSpotApiError(HubSpotApiErrorCode.Unauthorized, 'bad token', { status: 401 });
    await expect(applier.apply([command({ fields: { email: 'a@x.com' } }), command({ fields: { email: 'b@x.com' } })])).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
    });
    expect(hubspot.calls).toHaveLength(1);
  });

  it('fails malformed commands without calling HubSpot', async () => {
    const { hubspot, applier } = setup();
    const outcomes = await applier.apply([command({ version: 0 }), command({ recordId: 'abc' }), command({ fields: { n: Number.NaN } })]);
    expect(outcomes.map((outcome) => outcome.error?.code)).toEqual(['invalid_command', 'invalid_command', 'invalid_command']);
    expect(hubspot.calls).toEqual([]);
  });
});
