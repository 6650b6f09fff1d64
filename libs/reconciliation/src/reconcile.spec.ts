import { RECORD_EXISTS, RECORD_MISSING, SCHEMA_VERSION, type FieldChange, type MessageDraft, type MessageOf } from '@tandem/contracts';
import { FieldMapper } from '@tandem/mapping';
import { SyncConfigSchema, type SyncConfigInput } from '@tandem/sync-config';
import { CompiledSync } from './compiled-sync';
import { emptyEntityState, type EntityState } from './entity-state.model';
import { reconcile, type ReconcilerInput } from './reconcile';

const ENTITY = '3f1b2c4d-5e6f-4a1b-8c2d-9e0f1a2b3c4d';

/** A system holding each canonical field in a column of its own, the email in `emailColumn`. */
function columnsSystem(id: string, emailColumn: string) {
  return {
    id,
    kind: 'postgres',
    mapping: [
      { kind: 'field', native: 'first_name', canonical: 'first_name' },
      { kind: 'field', native: 'last_name', canonical: 'last_name' },
      { kind: 'field', native: emailColumn, canonical: 'email' },
      { kind: 'field', native: 'phone', canonical: 'phone' },
    ],
  } satisfies SyncConfigInput['systems'][number];
}

function compile(conflicts: SyncConfigInput['conflicts'] = {}, extraSystems: SyncConfigInput['systems'] = []): CompiledSync {
  const config = SyncConfigSchema.parse({
    id: 'contacts',
    tenantId: 'acme',
    entityType: 'contact',
    systems: [
      {
        id: 'crm',
        kind: 'postgres',
        mapping: [
          { kind: 'split', native: 'full_name', canonical: ['first_name', 'last_name'] },
          { kind: 'field', native: 'email', canonical: 'email', transforms: [{ type: 'trim' }, { type: 'lowercase' }] },
          { kind: 'field', native: 'phone', canonical: 'phone' },
          { kind: 'field', native: 'notes', canonical: 'notes' },
        ],
      },
      columnsSystem('customer', 'email_address'),
      ...extraSystems,
    ],
    conflicts,
  } satisfies SyncConfigInput);
  return new CompiledSync(config, (system) => {
    const built = FieldMapper.fromConfig(system.mapping);
    if (!built.ok) throw new Error(built.errors.join('; '));
    const { mapper } = built;
    return {
      toNative: (values) => mapper.toNative(values).values,
      toCanonical: (values) => mapper.toCanonical(values).values,
      nativeFieldsAffectedBy: (fields) => mapper.nativeFieldsAffectedBy(fields),
      canonicalFieldsAffectedBy: (fields) => mapper.canonicalFieldsAffectedBy(fields),
    };
  });
}

let clock = Date.parse('2026-01-01T00:00:00Z');
function at(): string {
  clock += 1_000;
  return new Date(clock).toISOString();
}

function change(
  origin: string,
  sequence: number,
  fields: Record<string, FieldChange>,
  operation: 'create' | 'update' | 'delete' = 'update',
  occurredAt = at(),
): MessageOf<'change'> {
  return {
    schemaVersion: SCHEMA_VERSION,
    type: 'change',
    eventId: `${origin}:${sequence}`,
    tenantId: 'acme',
    occurredAt,
    observedAt: occurredAt,
    origin,
    data: { entityType: 'contact', entityId: ENTITY, recordId: `${origin}-1`, operation, fields, sequence: String(sequence), snapshot: false },
  };
}

function result(command: { eventId: string; data: { target: string; version: number } }, recordId: string, position: string | null = null): MessageOf<'apply.result'> {
  const occurredAt = at();
  return {
    schemaVersion: SCHEMA_VERSION,
    type: 'apply.result',
    eventId: `${command.eventId}>result`,
    tenantId: 'acme',
    occurredAt,
    observedAt: occurredAt,
    origin: command.data.target,
    data: {
      commandId: command.eventId,
      target: command.data.target,
      entityType: 'contact',
      entityId: ENTITY,
      recordId,
      version: command.data.version,
      outcome: 'applied',
      fields: {},
      error: null,
      position,
    },
  };
}

/** The same change reported for another record of the system. */
function onRecord(message: MessageOf<'change'>, recordId: string): MessageOf<'change'> {
  return { ...message, data: { ...message.data, recordId } };
}

/** Applies messages in order, feeding each output state into the next. */
function run(sync: CompiledSync, messages: ReconcilerInput[], start: EntityState = emptyEntityState('acme', 'contact', ENTITY)) {
  let state = start;
  return messages.map((message) => {
    const outcome = reconcile(state, message, sync);
    state = outcome.state;
    return outcome;
  });
}

const created = () =>
  change('crm', 1, { first_name: { after: 'Ann' }, last_name: { after: 'Lee' }, email: { after: 'ann@example.com' }, phone: { after: '111' }, notes: { after: null } }, 'create');

/** A contact created in the CRM and confirmed in the customer database. */
function synced(sync: CompiledSync) {
  const [first] = run(sync, [created()]);
  const command = first!.commands[0]!;
  const [confirmed] = run(sync, [result(command, 'cust-1')], first!.state);
  return confirmed!.state;
}

/** A CRM edit found the customer's cust-1 missing; the next edit re-created the entity there as cust-2. */
function recreatedAfterMissing(sync: CompiledSync): EntityState {
  const [edit] = run(sync, [change('crm', 2, { phone: { before: '111', after: '222' } })], synced(sync));
  const command = edit!.commands[0]!;
  const missing: MessageOf<'apply.result'> = {
    ...result(command, 'cust-1'),
    data: { ...result(command, 'cust-1').data, outcome: 'failed', recordId: 'cust-1', error: { code: RECORD_MISSING, message: 'gone', retryable: false } },
  };
  const [next] = run(sync, [missing, change('crm', 3, { phone: { before: '222', after: '333' } })], edit!.state).slice(1);
  return run(sync, [result(next!.commands[0]!, 'cust-2')], next!.state)[0]!.state;
}

/** The customer's phone edit won against a delete: the record is made anew in both systems with it. */
function expectRestoredByCustomerPhone(outcome: ReturnType<typeof reconcile> | undefined, phone: string) {
  expect(outcome!.conflicts.map((c) => [c.data.kind, c.data.outcome?.winner])).toEqual([['delete_update', 'customer']]);
  expect(outcome!.commands.map((c) => [c.data.target, c.data.recordId, c.data.fields['phone']]).sort()).toEqual([
    ['crm', null, phone],
    ['customer', null, phone],
  ]);
}

describe('reconcile', () => {
  it('maps a new CRM contact to a create command for the other system', () => {
    const [outcome] = run(compile(), [created()]);
    expect(outcome!.commands).toHaveLength(1);
    expect(outcome!.commands[0]!.data).toMatchObject({
      target: 'customer',
      recordId: null,
      operation: 'upsert',
      fields: { first_name: 'Ann', last_name: 'Lee', email_address: 'ann@example.com', phone: '111' },
    });
    // An empty value and an absent one are the same to the canonical record.
    expect(outcome!.resolved!.data.record).toEqual({ first_name: 'Ann', last_name: 'Lee', email: 'ann@example.com', phone: '111' });
    expect(outcome!.conflicts).toEqual([]);
  });

  it('leaves the state it is given as it was', () => {
    const sync = compile();
    const before = synced(sync);
    const kept = structuredClone(before);
    reconcile(before, change('customer', 7, { phone: { before: '111', after: '222' } }), sync);
    expect(before).toEqual(kept);
  });

  it('recognises the echo of its own write, before or after the apply result', () => {
    const sync = compile();
    const [first] = run(sync, [created()]);
    const echo = change('customer', 7, { first_name: { after: 'Ann' }, last_name: { after: 'Lee' }, email: { after: 'ann@example.com' }, phone: { after: '111' } }, 'create');
    const [beforeResult] = run(sync, [echo], first!.state);
    expect(beforeResult!.commands).toEqual([]);
    expect(beforeResult!.resolved).toBeNull();
    expect(beforeResult!.skipped).toMatch(/no field differs/);
  });

  it('passes a sequential edit through without a conflict', () => {
    const sync = compile();
    const state = synced(sync);
    const [outcome] = run(sync, [change('customer', 2, { phone: { before: '111', after: '222' } })], state);
    expect(outcome!.conflicts).toEqual([]);
    expect(outcome!.commands.map((c) => [c.data.target, c.data.fields])).toEqual([['crm', { phone: '222' }]]);
  });

  it('lets edits to different fields both survive', () => {
    const sync = compile();
    const state = synced(sync);
    const [a, b] = run(sync, [change('crm', 2, { phone: { after: '999' } }), change('customer', 2, { last_name: { after: 'Leigh' } })], state);
    expect(a!.conflicts).toEqual([]);
    expect(b!.conflicts).toEqual([]);
    expect(b!.resolved!.data.record).toMatchObject({ phone: '999', last_name: 'Leigh' });
    expect(b!.commands.map((c) => [c.data.target, c.data.fields])).toEqual([['crm', { full_name: 'Ann Leigh' }]]);
  });

  it('decides a same-field conflict by latest_wins and logs the loser', () => {
    const sync = compile();
    const state = synced(sync);
    const crmEdit = change('crm', 2, { phone: { after: 'crm-phone' } }, 'update', '2026-06-01T10:00:00.000Z');
    const customerEdit = change('customer', 2, { phone: { after: 'customer-phone' } }, 'update', '2026-06-01T10:00:05.000Z');
    const [, second] = run(sync, [crmEdit, customerEdit], state);
    const conflict = second!.conflicts[0]!;
    expect(conflict.data).toMatchObject({
      field: 'phone',
      status: 'resolved',
      strategy: 'latest_wins',
      outcome: { winner: 'customer', value: 'customer-phone' },
    });
    expect(conflict.data.sides.map((side) => [side.system, side.value])).toEqual([
      ['crm', 'crm-phone'],
      ['customer', 'customer-phone'],
    ]);
    // The customer still has the CRM's value in flight, which lands after its own edit: it is sent
    // the winner again so both sides end equal.
    expect(second!.commands.map((c) => [c.data.target, c.data.fields])).toEqual([
      ['crm', { phone: 'customer-phone' }],
      ['customer', { phone: 'customer-phone' }],
    ]);
  });

  it('pushes the winning value back to the system that lost', () => {
    const sync = compile();
    const state = synced(sync);
    const crmEdit = change('crm', 2, { phone: { after: 'crm-phone' } }, 'update', '2026-06-01T10:00:05.000Z');
    const customerEdit = change('customer', 2, { phone: { after: 'customer-phone' } }, 'update', '2026-06-01T10:00:00.000Z');
    const [, second] = run(sync, [crmEdit, customerEdit], state);
    expect(second!.conflicts[0]!.data.outcome).toMatchObject({ winner: 'crm', value: 'crm-phone' });
    expect(second!.commands.map((c) => [c.data.target, c.data.fields])).toEqual([['customer', { phone: 'crm-phone' }]]);
  });

  it('holds a manual conflict with both values and applies the decision to both sides', () => {
    const sync = compile({ fields: { phone: { strategy: 'manual' } } });
    const state = synced(sync);
    const [, second] = run(sync, [change('crm', 2, { phone: { after: 'A' } }), change('customer', 2, { phone: { after: 'B' } })], state);
    const pending = second!.conflicts[0]!;
    expect(pending.data.status).toBe('pending');
    expect(second!.commands).toEqual([]);
    expect(second!.state.fields['phone']!.value).toBe('A');

    const decidedAt = at();
    const [decided] = run(
      sync,
      [
        {
          schemaVersion: SCHEMA_VERSION,
          type: 'conflict.decision',
          eventId: 'decision-1',
          tenantId: 'acme',
          occurredAt: decidedAt,
          observedAt: decidedAt,
          origin: 'reconciler',
          data: { conflictId: pending.data.conflictId, entityType: 'contact', entityId: ENTITY, choice: { kind: 'side', system: 'customer' }, decidedBy: 'lena', decidedAt },
        },
      ],
      second!.state,
    );
    expect(decided!.state.fields['phone']!.value).toBe('B');
    expect(decided!.commands.map((c) => [c.data.target, c.data.fields]).sort()).toEqual([
      ['crm', { phone: 'B' }],
      ['customer', { phone: 'B' }],
    ]);
    expect(decided!.conflicts[0]!.data).toMatchObject({ status: 'resolved', decidedBy: 'lena', outcome: { winner: 'customer', value: 'B' } });
    expect(decided!.state.pendingConflicts).toEqual({});
  });

  it('gives the same messages when it may change the state in place, and they keep what they said', () => {
    const sync = compile({ fields: { phone: { strategy: 'manual' } } });
    // A manual conflict, then each side edits the field again while it waits for a person.
    const messages = [change('crm', 2, { phone: { after: 'A' } }), change('customer', 2, { phone: { after: 'B' } }), change('customer', 3, { phone: { after: 'C' } }), change('crm', 3, { phone: { after: 'D' } })];
    const start = synced(sync);
    const outputs = (owned: boolean) => {
      let state = structuredClone(start);
      const outcomes = messages.map((message) => {
        const outcome = reconcile(state, message, sync, { owned });
        state = outcome.state;
        return outcome;
      });
      // Read only after the last message, as the reconciler publishes a batch's messages at its end.
      return { drafts: JSON.parse(JSON.stringify(outcomes.map(({ commands, resolved, conflicts, skipped }) => ({ commands, resolved, conflicts, skipped })))), state };
    };
    const copied = outputs(false);
    const inPlace = outputs(true);

    expect(inPlace.drafts).toEqual(copied.drafts);
    expect(inPlace.state).toEqual(copied.state);
    expect(copied.drafts[1].conflicts[0].data.sides.map((side: { value: string }) => side.value)).toEqual(['A', 'B']);
    expect(Object.values(inPlace.state.pendingConflicts).flatMap((pending) => pending.sides.map((side) => side.value))).toEqual(['D', 'C']);
  });

  it('drops a redelivered or older change from the same system', () => {
    const sync = compile();
    const state = synced(sync);
    const [outcome] = run(sync, [change('crm', 1, { phone: { after: 'old' } })], state);
    expect(outcome!.skipped).toMatch(/already seen/);
    expect(outcome!.commands).toEqual([]);
  });

  it('propagates a delete, and holds delete against a concurrent update for a person', () => {
    const sync = compile();
    const state = synced(sync);
    const [deleted] = run(sync, [change('crm', 2, {}, 'delete')], state);
    expect(deleted!.commands.map((c) => [c.data.target, c.data.operation, c.data.recordId])).toEqual([['customer', 'delete', 'cust-1']]);
    expect(deleted!.resolved!.data.deleted).toBe(true);

    const [, conflicted] = run(sync, [change('customer', 2, { phone: { after: '555' } }), change('crm', 2, {}, 'delete')], state);
    expect(conflicted!.conflicts[0]!.data).toMatchObject({ kind: 'delete_update', status: 'pending', field: null });
    expect(conflicted!.commands).toEqual([]);
    expect(conflicted!.state.deleted).toBeNull();
  });

  it('restores a deleted record with the concurrent update when a person keeps the update', () => {
    const sync = compile();
    const state = synced(sync);
    const [, pending] = run(sync, [change('crm', 2, {}, 'delete'), change('customer', 2, { last_name: { before: 'Lee', after: 'Updated' } })], state);
    const conflict = pending!.conflicts[0]!;
    expect(conflict.data).toMatchObject({ kind: 'delete_update', status: 'pending' });
    expect(pending!.commands).toEqual([]);

    const decidedAt = at();
    const [decided] = run(
      sync,
      [
        {
          schemaVersion: SCHEMA_VERSION,
          type: 'conflict.decision',
          eventId: 'decision-2',
          tenantId: 'acme',
          occurredAt: decidedAt,
          observedAt: decidedAt,
          origin: 'admin',
          data: { conflictId: conflict.data.conflictId, entityType: 'contact', entityId: ENTITY, choice: { kind: 'side', system: 'customer' }, decidedBy: 'lena', decidedAt },
        },
      ],
      pending!.state,
    );
    expect(decided!.state.deleted).toBeNull();
    // The CRM deleted its record and the customer's was deleted by Tandem in flight: both get it anew.
    expect(decided!.commands.map((c) => [c.data.target, c.data.recordId, c.data.fields]).sort()).toEqual([
      ['crm', null, { full_name: 'Ann Updated', email: 'ann@example.com', phone: '111' }],
      ['customer', null, { first_name: 'Ann', last_name: 'Updated', email_address: 'ann@example.com', phone: '111' }],
    ]);
  });

  it('treats an edit that Tandem\'s write overwrote as concurrent, even when its result came first', () => {
    const sync = compile();
    const state = synced(sync);
    // The CRM's edit goes to the customer; the customer's own edit (its sequence 5) was made before
    // Tandem's write landed there (position 6), but is reported only after the write's result.
    const [crmEdit] = run(sync, [change('crm', 2, { phone: { before: '111', after: 'crm-phone' } }, 'update', '2026-06-01T10:00:00.000Z')], state);
    const [confirmed] = run(sync, [result(crmEdit!.commands[0]!, 'cust-1', '6')], crmEdit!.state);
    const customerEdit = change('customer', 5, { phone: { before: '111', after: 'customer-phone' } }, 'update', '2026-06-01T10:00:01.000Z');
    const [late] = run(sync, [customerEdit], confirmed!.state);
    expect(late!.conflicts[0]!.data).toMatchObject({ field: 'phone', outcome: { winner: 'customer', value: 'customer-phone' } });
    // The customer now holds Tandem's write, not its own edit: it gets the winner back too.
    expect(late!.commands.map((c) => [c.data.target, c.data.fields]).sort()).toEqual([
      ['crm', { phone: 'customer-phone' }],
      ['customer', { phone: 'customer-phone' }],
    ]);

    // An edit made after the write (sequence 7) had seen it: no conflict.
    const [after] = run(sync, [change('customer', 7, { phone: { after: 'later' } })], confirmed!.state);
    expect(after!.conflicts).toEqual([]);
  });

  it('sends a system back its own edit of a field that Tandem\'s later write of the same column replaced', () => {
    const sync = compile();
    const state = synced(sync);
    // The customer changes the last name; the CRM's full_name carries both names, so Tandem's write
    // there (landing at position 6) also writes the first name it knows.
    const [lastName] = run(sync, [change('customer', 2, { last_name: { before: 'Lee', after: 'Ng' } })], state);
    const [landed] = run(sync, [result(lastName!.commands[0]!, 'crm-1', '6')], lastName!.state);
    // The CRM's own first-name edit (its sequence 5) was made before that write and is reported after it.
    const [crmEdit] = run(sync, [change('crm', 5, { first_name: { before: 'Ann', after: 'Bea' } })], landed!.state);
    expect(crmEdit!.state.fields['first_name']?.value).toBe('Bea');
    expect(crmEdit!.commands.map((c) => [c.data.target, c.data.fields]).sort()).toEqual([
      ['crm', { full_name: 'Bea Ng' }],
      ['customer', { first_name: 'Bea' }],
    ]);
  });

  it('takes a state reported at the position its own write left the record for that write, not an edit', () => {
    // Sources like HubSpot report a record's modification stamp, and Tandem's write has one too.
    const sync = compile();
    const state = synced(sync);
    const [crmEdit] = run(sync, [change('crm', 2, { phone: { before: '111', after: 'crm-phone' } }, 'update', '2026-06-01T10:00:00.000Z')], state);
    const [confirmed] = run(sync, [result(crmEdit!.commands[0]!, 'cust-1', '6000')], crmEdit!.state);
    // The customer's own edit at 5000 was overwritten by the write at 6000, and wins by time.
    const customerEdit = change('customer', 5000, { phone: { before: '111', after: 'customer-phone' } }, 'update', '2026-06-01T10:00:01.000Z');
    const [conflict] = run(sync, [customerEdit], confirmed!.state);
    expect(conflict!.conflicts[0]!.data.outcome).toMatchObject({ winner: 'customer' });
    // Then the state at 6000, holding Tandem's write: not a newer edit from the customer.
    const [echo] = run(sync, [change('customer', 6000, { phone: { before: 'customer-phone', after: 'crm-phone' } })], conflict!.state);
    expect(echo!.commands).toEqual([]);
    expect(echo!.state.fields['phone']?.value).toBe('customer-phone');
  });

  it('takes the state a write already on its way leaves behind for that write, when an edit it lands over won', () => {
    const sync = compile();
    const state = synced(sync);
    // The CRM's edit is sent to the customer; before it lands, the customer's own later edit wins.
    const [crmEdit] = run(sync, [change('crm', 2, { phone: { before: '111', after: 'crm-phone' } }, 'update', '2026-06-01T10:00:00.000Z')], state);
    const [customerEdit] = run(sync, [change('customer', 5, { phone: { before: '111', after: 'customer-phone' } }, 'update', '2026-06-01T10:00:01.000Z')], crmEdit!.state);
    expect(customerEdit!.state.fields['phone']?.value).toBe('customer-phone');
    // The CRM's write lands there at 6, over the edit; the customer then reports that state.
    const [landed] = run(sync, [result(crmEdit!.commands.find((c) => c.data.target === 'customer')!, 'cust-1', '6')], customerEdit!.state);
    const [reported] = run(sync, [change('customer', 6, { phone: { before: 'customer-phone', after: 'crm-phone' } })], landed!.state);
    // That is Tandem's write, not a newer edit: the customer's winning edit stands, on its way back there.
    expect(reported!.state.fields['phone']?.value).toBe('customer-phone');
    expect(reported!.commands).toEqual([]);
    const pushedBack = customerEdit!.commands.find((c) => c.data.target === 'customer');
    expect(pushedBack?.data.fields).toEqual({ phone: 'customer-phone' });
  });

  it('judges an edit learnt of late by where it was made, not by the sequence it was published at', () => {
    // HubSpot-like: the customer's edit at 5000 was overwritten by Tandem's write at 6000, and the
    // connector heard of the edit only after reporting the state at 6000, so it publishes it at 6001.
    const sync = compile();
    const state = synced(sync);
    const [crmEdit] = run(sync, [change('crm', 2, { phone: { before: '111', after: 'crm-phone' } }, 'update', '2026-06-01T10:00:01.000Z')], state);
    const [confirmed] = run(sync, [result(crmEdit!.commands[0]!, 'cust-1', '6000')], crmEdit!.state);
    const [reported] = run(sync, [change('customer', 6000, { phone: { before: '111', after: 'crm-phone' } })], confirmed!.state);
    const lateEdit = (madeAt: string | undefined) => {
      const message = change('customer', 6001, { phone: { before: 'crm-phone', after: 'customer-phone' } }, 'update', '2026-06-01T10:00:00.000Z');
      return { ...message, data: { ...message.data, ...(madeAt ? { madeAt } : {}) } };
    };

    // Made at 5000, it had not seen the CRM's newer edit: a conflict, which the later CRM edit wins.
    const [late] = run(sync, [lateEdit('5000')], reported!.state);
    expect(late!.conflicts.map((c) => c.data.outcome)).toEqual([{ winner: 'crm', value: 'crm-phone', deleted: false }]);
    expect(late!.state.fields['phone']?.value).toBe('crm-phone');
    // Taken at its sequence it would have looked like an edit made over the CRM's value, and won unrecorded.
    const [asIfNew] = run(sync, [lateEdit(undefined)], reported!.state);
    expect(asIfNew!.conflicts).toEqual([]);
    expect(asIfNew!.state.fields['phone']?.value).toBe('customer-phone');
  });

  it('takes no edit learnt of late that the same system\'s own later edit had replaced', () => {
    // HubSpot-like: a person set the last name to L1 at 5000 and to L2 at 7000; the connector
    // fetched the record at L2 first and heard of the edit at 5000 afterwards, publishing it at 7001.
    const sync = compile();
    const state = synced(sync);
    // A CRM edit of the last name is still on its way to the customer database.
    const [crmEdit] = run(sync, [change('crm', 2, { last_name: { before: 'Lee', after: 'Crm' } }, 'update', '2026-06-01T10:00:02.000Z')], state);
    const [own] = run(sync, [change('customer', 7000, { last_name: { before: 'Lee', after: 'L2' } }, 'update', '2026-06-01T10:00:07.000Z')], crmEdit!.state);
    expect(own!.state.fields['last_name']).toMatchObject({ value: 'L2', system: 'customer' });
    const message = change('customer', 7001, { last_name: { before: 'L2', after: 'L1' } }, 'update', '2026-06-01T10:00:05.000Z');

    const [late] = run(sync, [{ ...message, data: { ...message.data, madeAt: '5000' } }], own!.state);

    expect(late!.state.fields['last_name']).toMatchObject({ value: 'L2', system: 'customer' });
    expect(late!.commands.flatMap((command) => Object.values(command.data.fields))).not.toContain('L1');
  });

  it('forgets the record id of a system that reports the record missing, so the next write creates it', () => {
    const sync = compile();
    const state = synced(sync);
    const [edit] = run(sync, [change('crm', 2, { phone: { before: '111', after: '222' } })], state);
    const command = edit!.commands[0]!;
    expect(command.data.recordId).toBe('cust-1');
    const missing: MessageOf<'apply.result'> = {
      ...result(command, 'cust-1'),
      data: { ...result(command, 'cust-1').data, outcome: 'failed', recordId: 'cust-1', error: { code: RECORD_MISSING, message: 'gone', retryable: false } },
    };
    const [failed] = run(sync, [missing], edit!.state);
    expect(failed!.state.systems['customer']?.recordId).toBeNull();
    const [next] = run(sync, [change('crm', 3, { phone: { before: '222', after: '333' } })], failed!.state);
    expect(next!.commands[0]!.data).toMatchObject({ target: 'customer', recordId: null, operation: 'upsert' });
  });

  it('takes a failure answered again for a command delivered twice for nothing', () => {
    const sync = compile();
    const [edit] = run(sync, [change('crm', 2, { phone: { before: '111', after: '222' } })], synced(sync));
    const answer = result(edit!.commands[0]!, 'cust-1');
    const failed = { ...answer, data: { ...answer.data, outcome: 'failed' as const, recordId: null, error: { code: RECORD_MISSING, message: 'gone', retryable: false } } };
    // Taken once, while the write was pending; the second answer changes nothing.
    const [taken, repeated] = run(sync, [failed, failed], edit!.state);
    expect(taken!.state.systems['customer']!.missingRecordId).toBe('cust-1');
    expect(repeated!.skipped).toMatch(/already taken/);
    expect(repeated!.state).toEqual(taken!.state);
    expect(repeated!.commands).toEqual([]);
  });

  it('sends a write that found its record missing to the record that has since replaced it there', () => {
    const sync = compile();
    const state = synced(sync);
    const [edit] = run(sync, [change('crm', 2, { phone: { before: '111', after: '222' } })], state);
    const command = edit!.commands[0]!;
    // Meanwhile the customer's record was re-created (a restore) as cust-2; the write to cust-1 fails.
    const replaced = structuredClone(edit!.state);
    replaced.systems['customer']!.recordId = 'cust-2';
    const missing: MessageOf<'apply.result'> = {
      ...result(command, 'cust-1'),
      data: { ...result(command, 'cust-1').data, outcome: 'failed', recordId: 'cust-1', error: { code: RECORD_MISSING, message: 'gone', retryable: false } },
    };
    const [failed] = run(sync, [missing], replaced);
    expect(failed!.state.systems['customer']?.recordId).toBe('cust-2');
    expect(failed!.commands.map((c) => c.data)).toEqual([expect.objectContaining({ target: 'customer', recordId: 'cust-2', fields: { phone: '222' } })]);
  });

  it('sends what a create carried to the record its system reported meanwhile, when the create found that record', () => {
    const sync = compile();
    const [first] = run(sync, [created()]);
    const create = first!.commands.find((c) => c.data.target === 'customer')!;
    expect(create.data.recordId).toBeNull();
    // Before the create lands, the customer's own record with that email is reported and linked.
    const own = onRecord(change('customer', 1, { first_name: { after: 'Ann' }, last_name: { after: 'Lee' }, email: { after: 'ann@example.com' }, phone: { after: '999' } }, 'create'), 'cust-9');
    const [reported] = run(sync, [own], first!.state);
    expect(reported!.state.systems['customer']?.recordId).toBe('cust-9');
    const exists: MessageOf<'apply.result'> = {
      ...result(create, 'cust-9'),
      data: { ...result(create, 'cust-9').data, outcome: 'failed', recordId: 'cust-9', error: { code: RECORD_EXISTS, message: 'exists', retryable: false } },
    };
    const [failed] = run(sync, [exists], reported!.state);
    const resent = failed!.commands.find((c) => c.data.target === 'customer');
    expect(resent?.data).toMatchObject({ recordId: 'cust-9', fields: { first_name: 'Ann', last_name: 'Lee', email_address: 'ann@example.com', phone: '999' } });
  });

  it('takes a system\'s delete of the record a write found missing for its delete, against the update, once re-created', () => {
    const sync = compile({ deleteVsUpdate: 'update_wins' });
    const recreated = recreatedAfterMissing(sync);
    // The customer's delete of its old record comes in late: recorded as losing to the update.
    const [lateDelete] = run(sync, [onRecord(change('customer', 4, {}, 'delete'), 'cust-1')], recreated);
    expect(lateDelete!.conflicts.map((c) => [c.data.kind, c.data.outcome])).toEqual([['delete_update', { winner: 'crm', value: null, deleted: false }]]);
    expect(lateDelete!.state.deleted).toBeNull();
    expect(lateDelete!.commands).toEqual([]);

    // Where deletes win, the entity goes, the record Tandem made there too.
    const deletesWin = compile({ deleteVsUpdate: 'delete_wins' });
    const [won] = run(deletesWin, [onRecord(change('customer', 4, {}, 'delete'), 'cust-1')], recreated);
    expect(won!.state.deleted).not.toBeNull();
    expect(won!.commands.map((c) => [c.data.target, c.data.operation, c.data.recordId]).sort()).toEqual([
      ['crm', 'delete', 'crm-1'],
      ['customer', 'delete', 'cust-2'],
    ]);
  });

  it('weighs a system\'s delete of the record a write found gone and made anew, once the write says so', () => {
    const sync = compile({ deleteVsUpdate: 'update_wins' });
    const [first] = run(sync, [created()]);
    const create = first!.commands.find((c) => c.data.target === 'customer')!;
    // A crm edit goes out before the create's result: it too is addressed to no record yet.
    const [edit] = run(sync, [change('crm', 2, { phone: { before: '111', after: '222' } })], first!.state);
    const update = edit!.commands.find((c) => c.data.target === 'customer')!;
    expect(update.data.recordId).toBeNull();

    // The create made cust-1; the customer deleted it; the edit found it gone and made cust-2.
    const [, madeAnew] = run(sync, [result(create, 'cust-1'), result(update, 'cust-2')], edit!.state);
    expect(madeAnew!.state.systems['customer']?.recordId).toBe('cust-2');

    // The customer's delete of cust-1 then arrives: a delete against the edit, recorded, not ignored.
    const [lateDelete] = run(sync, [onRecord(change('customer', 4, {}, 'delete'), 'cust-1')], madeAnew!.state);
    expect(lateDelete!.conflicts.map((c) => [c.data.kind, c.data.outcome])).toEqual([['delete_update', { winner: 'crm', value: null, deleted: false }]]);
    expect(lateDelete!.state.deleted).toBeNull();
  });

  it('makes the record anew where writes found it missing and the system\'s delete of it then loses to the update', () => {
    const sync = compile({ deleteVsUpdate: 'update_wins' });
    const [first, second] = run(sync, [change('crm', 2, { phone: { before: '111', after: '222' } }), change('crm', 3, { phone: { before: '222', after: '333' } })], synced(sync));
    const missingFor = (command: MessageDraft<'apply.command'>): MessageOf<'apply.result'> => ({
      ...result(command, 'cust-1'),
      data: { ...result(command, 'cust-1').data, outcome: 'failed', recordId: 'cust-1', error: { code: RECORD_MISSING, message: 'gone', retryable: false } },
    });
    // Both edits went to cust-1; the first finds it gone, then the customer's delete of it comes in,
    // then the second write fails too. No write in flight makes the record again.
    const [, lateDelete, secondFailed] = run(
      sync,
      [missingFor(first!.commands[0]!), onRecord(change('customer', 4, {}, 'delete'), 'cust-1'), missingFor(second!.commands[0]!)],
      second!.state,
    );
    expect(lateDelete!.conflicts.map((c) => [c.data.kind, c.data.outcome])).toEqual([['delete_update', { winner: 'crm', value: null, deleted: false }]]);
    expect(lateDelete!.state.deleted).toBeNull();
    expect(lateDelete!.commands.map((c) => c.data)).toEqual([
      expect.objectContaining({ target: 'customer', recordId: null, operation: 'upsert', fields: { first_name: 'Ann', last_name: 'Lee', email_address: 'ann@example.com', phone: '333' } }),
    ]);
    expect(secondFailed!.state.deleted).toBeNull();
  });

  /**
   * After the customer's delete of cust-1 lost to an update, an edit it made on cust-1 before that
   * delete is heard of late: cust-1 stays gone, every write goes to the record made anew, and the
   * delete heard again is not a second delete.
   */
  function expectDeletedRecordStaysGone(sync: CompiledSync, state: EntityState) {
    const lateEdit = onRecord(change('customer', 30, { last_name: { before: 'Lee', after: 'Lim' } }), 'cust-1');
    const [late] = run(sync, [{ ...lateEdit, data: { ...lateEdit.data, madeAt: '15' } }], state);
    expect(late!.state.systems['customer']?.recordId).toBeNull();
    const [next] = run(sync, [change('crm', 6, { phone: { after: '333' } })], late!.state);
    expect(next!.commands.map((c) => [c.data.target, c.data.recordId]).sort()).toEqual([['customer', null]]);
    const [again] = run(sync, [onRecord(change('customer', 20, {}, 'delete'), 'cust-1')], next!.state);
    expect(again!.conflicts).toEqual([]);
    expect(again!.state.deleted).toBeNull();
  }

  it('keeps a record whose delete lost to an update from being the system\'s record again, by a late edit of it', () => {
    const sync = compile({ deleteVsUpdate: 'update_wins' });
    // The customer deleted cust-1 without having seen the CRM's edit (verify seed 179).
    const [edit] = run(sync, [change('crm', 2, { phone: { before: '111', after: '222' } })], synced(sync));
    const [weighed] = run(sync, [onRecord(change('customer', 20, {}, 'delete'), 'cust-1')], edit!.state);
    expect(weighed!.conflicts.map((c) => c.data.kind)).toEqual(['delete_update']);
    expectDeletedRecordStaysGone(sync, weighed!.state);
  });

  it('keeps a record whose delete lost to an update from being the system\'s record again, by a write confirmed on it late', () => {
    const sync = compile({ deleteVsUpdate: 'update_wins' });
    // The CRM's edit went to cust-1 and landed there; the customer then deleted cust-1, and that
    // delete was weighed before the edit's result came back (verify seed 202).
    const [edit] = run(sync, [change('crm', 2, { phone: { before: '111', after: '222' } })], synced(sync));
    const [weighed, landed] = run(sync, [onRecord(change('customer', 20, {}, 'delete'), 'cust-1'), result(edit!.commands[0]!, 'cust-1')], edit!.state);
    expect(weighed!.conflicts.map((c) => c.data.kind)).toEqual(['delete_update']);
    expect(landed!.state.systems['customer']?.recordId).toBeNull();
    const [next] = run(sync, [change('crm', 6, { phone: { after: '333' } })], landed!.state);
    expect(next!.commands.map((c) => [c.data.target, c.data.recordId])).toEqual([['customer', null]]);
  });

  it('keeps a record a write found missing, whose delete it then took, from being the system\'s record again, by a late edit of it', () => {
    const sync = compile({ deleteVsUpdate: 'update_wins' });
    const [edit] = run(sync, [change('crm', 2, { phone: { before: '111', after: '222' } })], synced(sync));
    const missing = result(edit!.commands[0]!, 'cust-1');
    // The edit found cust-1 gone. The customer's reports of it then come in: an edit (sent on to the
    // record Tandem makes anew) and its delete, which loses to the update (verify seed 169).
    const [, , weighed] = run(sync, [
      { ...missing, data: { ...missing.data, outcome: 'failed', error: { code: RECORD_MISSING, message: 'gone', retryable: false } } },
      onRecord(change('customer', 10, { first_name: { before: 'Ann', after: 'Anna' } }), 'cust-1'),
      onRecord(change('customer', 20, {}, 'delete'), 'cust-1'),
    ], edit!.state);
    expect(weighed!.conflicts.map((c) => c.data.kind)).toEqual(['delete_update']);
    expectDeletedRecordStaysGone(sync, weighed!.state);
  });

  it('weighs the late deletes of two records writes found missing one after the other, and takes neither back by a late edit', () => {
    const sync = compile({ deleteVsUpdate: 'update_wins' });
    // cust-1 and then cust-2, which replaced it, were found missing by CRM edits; cust-3 holds the
    // entity now. The customer's connector, far behind, then reports an edit of cust-1 and the
    // deletes of both (verify seed 183).
    const recreated = recreatedAfterMissing(sync);
    const [edit] = run(sync, [change('crm', 5, { phone: { before: '333', after: '444' } })], recreated);
    const answer = result(edit!.commands[0]!, 'cust-2');
    const [, again] = run(sync, [
      { ...answer, data: { ...answer.data, outcome: 'failed', error: { code: RECORD_MISSING, message: 'gone', retryable: false } } },
      change('crm', 6, { phone: { before: '444', after: '555' } }),
    ], edit!.state);
    const made = run(sync, [result(again!.commands[0]!, 'cust-3')], again!.state)[0]!.state;
    expect(made.systems['customer']!.recordId).toBe('cust-3');

    const [lateEdit, firstDelete, secondDelete] = run(sync, [
      onRecord(change('customer', 10, { last_name: { before: 'Lee', after: 'Lim' } }), 'cust-1'),
      onRecord(change('customer', 11, {}, 'delete'), 'cust-1'),
      onRecord(change('customer', 12, {}, 'delete'), 'cust-2'),
    ], made);
    expect(lateEdit!.state.systems['customer']!.recordId).toBe('cust-3');
    expect([firstDelete, secondDelete].map((outcome) => outcome!.conflicts.map((c) => [c.data.kind, c.data.outcome?.deleted]))).toEqual([
      [['delete_update', false]],
      [['delete_update', false]],
    ]);
    expect(secondDelete!.state.systems['customer']!.recordId).toBe('cust-3');
  });

  it('keeps the record Tandem re-created as the system\'s when a late edit of the missing one comes in', () => {
    const sync = compile({ deleteVsUpdate: 'update_wins' });
    const recreated = recreatedAfterMissing(sync);

    // The customer edited cust-1 before deleting it; both reports arrive now, the edit first.
    const [lateEdit, lateDelete] = run(sync, [
      onRecord(change('customer', 4, { last_name: { before: 'Lee', after: 'Lim' } }), 'cust-1'),
      onRecord(change('customer', 5, {}, 'delete'), 'cust-1'),
    ], recreated);

    expect(lateEdit!.state.systems['customer']?.recordId).toBe('cust-2');
    expect(lateEdit!.commands.map((c) => [c.data.target, c.data.recordId, c.data.fields]).sort()).toEqual([
      ['crm', 'crm-1', { full_name: 'Ann Lim' }],
      ['customer', 'cust-2', { last_name: 'Lim' }],
    ]);
    expect(lateDelete!.conflicts.map((c) => c.data.kind)).toEqual(['delete_update']);
    expect(lateDelete!.state.deleted).toBeNull();
  });

  it('takes a system\'s delete of the record Tandem\'s create made there, reported before the create\'s result', () => {
    const sync = compile({ deleteVsUpdate: 'update_wins' });
    const [first] = run(sync, [created()]);
    const create = first!.commands[0]!;
    expect(create.data).toMatchObject({ target: 'customer', recordId: null });

    // The applier made cust-1 and linked it; a person deleted it before its apply result came back.
    const [deleted, confirmed] = run(sync, [onRecord(change('customer', 1, {}, 'delete'), 'cust-1'), result(create, 'cust-1')], first!.state);

    expect(deleted!.skipped).toBeNull();
    expect(deleted!.conflicts).toEqual([]);
    expect(deleted!.state.deleted).toMatchObject({ system: 'customer' });
    expect(deleted!.commands.map((c) => [c.data.target, c.data.operation, c.data.recordId])).toEqual([['crm', 'delete', 'crm-1']]);
    // The create's result then names the record the delete removed: nothing is sent again.
    expect(confirmed!.commands).toEqual([]);
    expect(confirmed!.state.deleted).not.toBeNull();
  });

  it('weighs a system\'s delete of its own copy that Tandem never saw alive against the entity, once', () => {
    const sync = compile({ deleteVsUpdate: 'update_wins' });
    const state = synced(sync);
    // The customer database made its own record of the person and deleted it before its connector
    // read it; matched by email, its delete names that record, not cust-1.
    const stray = onRecord(change('customer', 7, {}, 'delete'), 'cust-9');
    const unlinked = { ...stray, data: { ...stray.data, matchedByKey: true as const } };
    const [kept, again] = run(sync, [unlinked, { ...unlinked, eventId: 'customer:7:again' }], state);
    expect(kept!.conflicts.map((c) => [c.data.kind, c.data.sides.map((side) => [side.system, side.deleted]), c.data.outcome])).toEqual([
      ['delete_update', [['crm', false], ['customer', true]], { winner: 'crm', value: null, deleted: false }],
    ]);
    expect(kept!.state.deleted).toBeNull();
    expect(kept!.commands).toEqual([]);
    expect(kept!.state.systems['customer']!.recordId).toBe('cust-1');
    expect(again!.skipped).toMatch(/already taken/);
    expect(again!.conflicts).toEqual([]);

    // Where deletes win, the entity goes everywhere, its record there too.
    const [won] = run(compile({ deleteVsUpdate: 'delete_wins' }), [unlinked], state);
    expect(won!.state.deleted).not.toBeNull();
    expect(won!.commands.map((c) => [c.data.target, c.data.operation, c.data.recordId]).sort()).toEqual([
      ['crm', 'delete', 'crm-1'],
      ['customer', 'delete', 'cust-1'],
    ]);
    // Of an entity already deleted, it takes nothing.
    const [late] = run(sync, [unlinked], won!.state);
    expect(late!.skipped).toMatch(/already deleted/);
    expect(late!.commands).toEqual([]);
  });

  it('weighs a delete kept for a key no entity held against the create that brought the key, while Tandem\'s create there is on its way', () => {
    // The customer made and deleted its own record of Ann (cust-9) while the CRM made her; the CRM's
    // connector, behind, published her create first, and after it that delete (verify seed 138).
    const stray = onRecord(change('customer', 7, {}, 'delete'), 'cust-9');
    const unseen = { ...stray, data: { ...stray.data, matchedByKey: true as const } };
    const sync = compile({ deleteVsUpdate: 'update_wins' });
    const [first, kept] = run(sync, [created(), unseen]);
    expect(first!.commands.map((c) => [c.data.target, c.data.operation, c.data.recordId])).toEqual([['customer', 'upsert', null]]);
    expect(kept!.conflicts.map((c) => [c.data.kind, c.data.sides.map((side) => [side.system, side.deleted]), c.data.outcome])).toEqual([
      ['delete_update', [['crm', false], ['customer', true]], { winner: 'crm', value: null, deleted: false }],
    ]);
    expect(kept!.state.deleted).toBeNull();
    const [confirmed] = run(sync, [result(first!.commands[0]!, 'cust-1')], kept!.state);
    expect(confirmed!.state.systems['customer']!.recordId).toBe('cust-1');
    expect(confirmed!.commands).toEqual([]);

    // Where deletes win, Ann goes from the CRM, and from the customer once Tandem's create lands.
    const deletesWin = compile({ deleteVsUpdate: 'delete_wins' });
    const [made, won] = run(deletesWin, [created(), unseen]);
    expect(won!.state.deleted).toMatchObject({ system: 'customer' });
    expect(won!.commands.map((c) => [c.data.target, c.data.operation, c.data.recordId])).toEqual([['crm', 'delete', 'crm-1']]);
    const [landed] = run(deletesWin, [result(made!.commands[0]!, 'cust-1')], won!.state);
    expect(landed!.commands.map((c) => [c.data.target, c.data.operation, c.data.recordId])).toEqual([['customer', 'delete', 'cust-1']]);
  });

  it('deletes a record created while the entity was deleted, and takes its echo for no update', () => {
    const sync = compile({ deleteVsUpdate: 'update_wins' });
    const [first] = run(sync, [created()]);
    const create = first!.commands[0]!;
    // The CRM deletes before the customer's create is confirmed: the delete cannot name that record yet.
    const [deleted] = run(sync, [change('crm', 2, {}, 'delete')], first!.state);
    expect(deleted!.commands).toEqual([]);

    // Once the create's result names the record, it is deleted too.
    const echo = change('customer', 10, { first_name: { after: 'Ann' }, last_name: { after: 'Lee' }, email: { after: 'ann@example.com' }, phone: { after: '111' } }, 'create');
    const [confirmed, lateEcho] = run(sync, [result(create, 'customer-1', '10'), echo], deleted!.state);
    expect(confirmed!.commands.map((c) => [c.data.target, c.data.operation, c.data.recordId])).toEqual([['customer', 'delete', 'customer-1']]);
    // Its echo (as a source reporting Tandem's writes sends it) is not an update of the deleted record.
    expect(lateEcho!.conflicts).toEqual([]);
    expect(lateEcho!.commands).toEqual([]);
    expect(lateEcho!.state.deleted).not.toBeNull();

    // An echo ahead of the result names the record as well: the delete goes out with it, once.
    const [echoFirst, result2] = run(sync, [echo, result(create, 'customer-1', '10')], deleted!.state);
    expect(echoFirst!.conflicts).toEqual([]);
    expect(echoFirst!.state.deleted).not.toBeNull();
    expect(echoFirst!.commands.map((c) => [c.data.target, c.data.operation, c.data.recordId])).toEqual([['customer', 'delete', 'customer-1']]);
    expect(result2!.commands).toEqual([]);
  });

  it('deletes the record a late create made in a system after that system deleted its own record of the entity', () => {
    const sync = compile({ deleteVsUpdate: 'update_wins' });
    const fields = { first_name: { after: 'Ann' }, last_name: { after: 'Lee' }, email: { after: 'ann@example.com' }, phone: { after: '111' } };
    const [first] = run(sync, [onRecord(change('customer', 1, fields, 'create'), 'cust-1')]);
    const createInCrm = first!.commands.find((c) => c.data.target === 'crm')!;
    // The CRM made its own record of the contact and deleted it before Tandem's create reached it...
    const [, deleted] = run(sync, [change('crm', 1, fields, 'create'), change('crm', 2, {}, 'delete')], first!.state);
    expect(deleted!.state.deleted).not.toBeNull();
    // ...which then found no record holding the email and made a new one: it goes too.
    const [late] = run(sync, [result(createInCrm, 'crm-2', '3')], deleted!.state);
    expect(late!.commands.map((c) => [c.data.target, c.data.operation, c.data.recordId])).toEqual([['crm', 'delete', 'crm-2']]);
  });

  it('takes a system\'s report of Tandem\'s delete, confirmed after a restore, for that delete, not a new one', () => {
    const sync = compile({ deleteVsUpdate: 'update_wins' });
    const state = synced(sync);
    // A CRM edit and then its delete are on their way to the customer database.
    const [edited, deleted] = run(sync, [change('crm', 2, { last_name: { before: 'Lee', after: 'Li' } }), change('crm', 3, {}, 'delete')], state);
    const [editThere, deleteThere] = [edited!.commands[0]!, deleted!.commands[0]!];
    // The customer's edit, made before that delete reached it, wins: the entity is restored.
    const [restored] = run(sync, [onRecord(change('customer', 5, { phone: { before: '111', after: '555' } }, 'update'), 'cust-1')], deleted!.state);
    expect(restored!.state.deleted).toBeNull();
    // The edit and the delete land, and the customer reports the delete after their results.
    const [, landed, echo] = run(
      sync,
      [result(editThere, 'cust-1', '6'), result(deleteThere, 'cust-1', '7'), onRecord(change('customer', 7, {}, 'delete'), 'cust-1')],
      restored!.state,
    );
    expect(landed!.state.deleted).toBeNull();
    expect(echo!.state.deleted).toBeNull();
    expect(echo!.commands.filter((c) => c.data.operation === 'delete')).toEqual([]);
  });

  it('takes a delete a source that omits Tandem\'s writes reports of the record a restore replaced for the system\'s own', () => {
    const sync = compile({ deleteVsUpdate: 'update_wins' });
    const [deleted] = run(sync, [change('crm', 2, {}, 'delete')], synced(sync));
    // The customer edits its record before Tandem's delete reaches it, then deletes it itself.
    const [restored] = run(sync, [onRecord(change('customer', 5, { phone: { before: '111', after: '555' } }, 'update'), 'cust-1')], deleted!.state);
    const ownDelete = onRecord(change('customer', 6, {}, 'delete'), 'cust-1');
    const [recorded] = run(sync, [{ ...ownDelete, data: { ...ownDelete.data, notFromTandem: true } }], restored!.state);
    expect(recorded!.skipped).toBeNull();
    expect(recorded!.conflicts.map((c) => [c.data.kind, c.data.sides.map((side) => [side.system, side.deleted])])).toEqual([
      ['delete_update', [['crm', false], ['customer', true]]],
    ]);
    // From a source that may report Tandem's own writes it waits for Tandem's delete to say where it
    // landed: after the reported deletion, the deletion was the system's own...
    const [held] = run(sync, [ownDelete], restored!.state);
    expect(held!.skipped).toMatch(/before Tandem's delete of it was confirmed/);
    const deleteThere = deleted!.commands.find((c) => c.data.target === 'customer')!;
    const [landedLater] = run(sync, [result(deleteThere, 'cust-1', '7')], held!.state);
    expect(landedLater!.conflicts.map((c) => [c.data.kind, c.data.sides.map((side) => [side.system, side.deleted])])).toEqual([
      ['delete_update', [['crm', false], ['customer', true]]],
    ]);
    // ...and before it, the report of Tandem's own delete.
    const [landedBefore] = run(sync, [result(deleteThere, 'cust-1', '6')], held!.state);
    expect(landedBefore!.conflicts).toEqual([]);
    // Heard of after Tandem's delete was confirmed, the same holds at once.
    const [, echo] = run(sync, [result(deleteThere, 'cust-1', '6'), ownDelete], restored!.state);
    expect(echo!.skipped).toMatch(/no longer customer's record/);
    const [, own] = run(sync, [result(deleteThere, 'cust-1', '7'), ownDelete], restored!.state);
    expect(own!.conflicts.map((c) => c.data.kind)).toEqual(['delete_update']);
  });

  it('takes a late delete of the record a write found missing, though a newer record there reported a later time', () => {
    const sync = compile({ deleteVsUpdate: 'update_wins' });
    const [edit] = run(sync, [change('crm', 2, { phone: { before: '111', after: '222' } })], synced(sync));
    const command = edit!.commands[0]!;
    const missing: MessageOf<'apply.result'> = {
      ...result(command, 'cust-1'),
      data: { ...result(command, 'cust-1').data, outcome: 'failed', error: { code: RECORD_MISSING, message: 'gone', retryable: false } },
    };
    const [, next] = run(sync, [missing, change('crm', 3, { phone: { before: '222', after: '333' } })], edit!.state);
    const [recreated] = run(sync, [result(next!.commands[0]!, 'cust-2', '9000')], next!.state);
    // Positions are each record's own modification times: the new record reports one after the old one's delete.
    const [reported] = run(sync, [onRecord(change('customer', 9000, { phone: { after: '333' } }, 'create'), 'cust-2')], recreated!.state);
    const [lateDelete] = run(sync, [onRecord(change('customer', 8000, {}, 'delete'), 'cust-1')], reported!.state);
    expect(lateDelete!.skipped).toBeNull();
    expect(lateDelete!.conflicts.map((c) => c.data.kind)).toEqual(['delete_update']);
    // A redelivered change of one record is still dropped.
    const [again] = run(sync, [onRecord(change('customer', 8000, {}, 'delete'), 'cust-1')], lateDelete!.state);
    expect(again!.skipped).toMatch(/already seen/);
  });

  it('keeps every system\'s own delete that a restoring update overturns in the conflict log', () => {
    const sync = compile({ deleteVsUpdate: 'update_wins' }, [columnsSystem('erp', 'email')]);
    const [first] = run(sync, [created()]);
    const [, toErp] = first!.commands;
    const state = run(sync, [result(first!.commands[0]!, 'cust-1', '1'), result(toErp!, 'erp-1', '1')], first!.state).at(-1)!.state;
    // The customer and then the CRM delete the contact themselves; the ERP's edit had seen neither.
    const own = (message: MessageOf<'change'>) => ({ ...message, data: { ...message.data, notFromTandem: true as const } });
    const [, crmDelete] = run(sync, [own(onRecord(change('customer', 2, {}, 'delete'), 'cust-1')), own(change('crm', 2, {}, 'delete'))], state);
    expect(crmDelete!.skipped).toBe('already deleted');
    const [restored] = run(sync, [own(onRecord(change('erp', 3, { phone: { before: '111', after: '777' } }), 'erp-1'))], crmDelete!.state);
    expect(restored!.state.deleted).toBeNull();
    expect(restored!.conflicts.map((c) => [c.data.kind, c.data.sides.map((side) => [side.system, side.deleted]), c.data.outcome?.winner])).toEqual([
      ['delete_update', [['crm', true], ['erp', false]], 'erp'],
      ['delete_update', [['customer', true], ['erp', false]], 'erp'],
    ]);
  });

  it('records a system\'s own delete, reported while Tandem\'s delete was on its way there, as overturned by a restore', () => {
    const sync = compile({ deleteVsUpdate: 'update_wins' }, [columnsSystem('erp', 'email')]);
    const [first] = run(sync, [created()]);
    const [, toErp] = first!.commands;
    const state = run(sync, [result(first!.commands[0]!, 'cust-1', '1'), result(toErp!, 'erp-1', '1')], first!.state).at(-1)!.state;
    // The customer deletes the contact; before Tandem's delete reaches the ERP, a person deletes it there too.
    const own = (message: MessageOf<'change'>) => ({ ...message, data: { ...message.data, notFromTandem: true as const } });
    const [deleted] = run(sync, [own(onRecord(change('customer', 2, {}, 'delete'), 'cust-1'))], state);
    const deleteInErp = deleted!.commands.find((c) => c.data.target === 'erp')!;
    const erpDelete = onRecord(change('erp', 5, {}, 'delete'), 'erp-1');
    // The CRM's edit had seen neither delete: it wins, and the entity is restored.
    const crmEdit = change('crm', 2, { phone: { before: '111', after: '777' } });
    const [heard, restored] = run(sync, [erpDelete, crmEdit], deleted!.state);
    expect(heard!.skipped).toBe('already deleted');
    expect(restored!.state.deleted).toBeNull();
    const sidesOf = (outcome: { conflicts: MessageDraft<'conflict'>[] }) => outcome.conflicts.map((c) => [c.data.kind, c.data.sides.map((side) => [side.system, side.deleted]), c.data.outcome?.winner]);
    // Tandem's delete lands in the ERP after the ERP's report: that deletion was the ERP's own.
    const [landedAfter] = run(sync, [result(deleteInErp, 'erp-1', '7')], restored!.state);
    expect(sidesOf(landedAfter!)).toEqual([['delete_update', [['crm', false], ['erp', true]], 'crm']]);
    // Landed before it, the report was of Tandem's delete: nothing of the ERP's was overturned.
    const [landedBefore] = run(sync, [result(deleteInErp, 'erp-1', '4')], restored!.state);
    expect(landedBefore!.conflicts).toEqual([]);
    // Confirmed while the entity is still deleted, the ERP's own delete is overturned by a later restore.
    const [, stillDeleted] = run(sync, [erpDelete, result(deleteInErp, 'erp-1', '7')], deleted!.state);
    const [restoredLater] = run(sync, [crmEdit], stillDeleted!.state);
    expect(sidesOf(restoredLater!)).toEqual([
      ['delete_update', [['erp', true], ['crm', false]], 'crm'],
      ['delete_update', [['customer', true], ['crm', false]], 'crm'],
    ]);
  });

  it('records a system\'s own delete of the record a write then found missing, heard while the entity was deleted, as overturned by a restore', () => {
    const sync = compile({ deleteVsUpdate: 'update_wins' }, [columnsSystem('erp', 'email')]);
    const [first] = run(sync, [created()]);
    const [toCustomer, toErp] = first!.commands;
    const state = run(sync, [result(toCustomer!, 'cust-1', '1'), result(toErp!, 'erp-1', '1')], first!.state).at(-1)!.state;
    // A customer edit goes out to the ERP; then the customer deletes the contact, and Tandem's delete follows it.
    const [edited] = run(sync, [onRecord(change('customer', 2, { phone: { before: '111', after: '222' } }), 'cust-1')], state);
    const editInErp = edited!.commands.find((c) => c.data.target === 'erp')!;
    const [deleted] = run(sync, [onRecord(change('customer', 3, {}, 'delete'), 'cust-1')], edited!.state);
    // A person deletes the ERP's copy first: the edit finds it missing, so Tandem's delete had not removed it yet.
    const erpDelete = onRecord(change('erp', 5, {}, 'delete'), 'erp-1');
    const missing = { ...result(editInErp, 'erp-1'), data: { ...result(editInErp, 'erp-1').data, outcome: 'failed' as const, error: { code: RECORD_MISSING, message: 'gone', retryable: false } } };
    // The CRM's edit had seen neither delete: it wins, and restores the entity over both, on record.
    const crmEdit = change('crm', 2, { last_name: { before: 'Lee', after: 'Li' } });
    const sidesOf = (outcome: { conflicts: MessageDraft<'conflict'>[] }) => outcome.conflicts.map((c) => [c.data.kind, c.data.sides.map((side) => [side.system, side.deleted]), c.data.outcome?.winner]);
    const overturned = [
      ['delete_update', [['customer', true], ['crm', false]], 'crm'],
      ['delete_update', [['erp', true], ['crm', false]], 'crm'],
    ];
    for (const heard of [[erpDelete, missing], [missing, erpDelete]]) {
      const restored = run(sync, [...heard, crmEdit], deleted!.state).at(-1)!;
      expect(restored.state.deleted).toBeNull();
      expect(sidesOf(restored).sort()).toEqual(overturned);
      // Tandem's delete landing there afterwards, and the report heard again, weigh nothing more.
      const deleteInErp = deleted!.commands.find((c) => c.data.target === 'erp')!;
      const after = run(sync, [result(deleteInErp, 'erp-1', '7'), erpDelete], restored.state);
      expect(after.flatMap((outcome) => outcome.conflicts)).toEqual([]);
      expect(after.at(-1)!.state.deleted).toBeNull();
    }
  });

  it('weighs a system\'s own delete of the record a restore replaced, made just before Tandem\'s delete of it landed', () => {
    const sync = compile({ deleteVsUpdate: 'update_wins' }, [columnsSystem('erp', 'email')]);
    const [first] = run(sync, [created()]);
    const [toCustomer, toErp] = first!.commands;
    const state = run(sync, [result(toCustomer!, 'cust-1', '1'), result(toErp!, 'erp-1', '1')], first!.state).at(-1)!.state;
    // The CRM deletes the contact. A person deletes the ERP's copy at 6, and Tandem's delete finds it
    // gone: it is placed just after, at 7. A customer edit, made before the delete reached it, restores it.
    const [deleted] = run(sync, [change('crm', 2, {}, 'delete')], state);
    const deleteInErp = deleted!.commands.find((c) => c.data.target === 'erp')!;
    const customerEdit = onRecord(change('customer', 3, { phone: { before: '111', after: '777' } }), 'cust-1');
    const [, restored] = run(sync, [result(deleteInErp, 'erp-1', '7'), customerEdit], deleted!.state);
    expect(restored!.state.deleted).toBeNull();
    // The person's delete, reported now, was the ERP's own: it meets the customer's edit, on record.
    const [erpDelete] = run(sync, [onRecord(change('erp', 6, {}, 'delete'), 'erp-1')], restored!.state);
    expect(erpDelete!.conflicts.map((c) => [c.data.kind, c.data.sides.map((side) => [side.system, side.deleted]), c.data.outcome?.winner])).toEqual([
      ['delete_update', [['customer', false], ['erp', true]], 'customer'],
    ]);
    expect(erpDelete!.state.deleted).toBeNull();
    // Reported at 7, it is Tandem's own delete landing: nothing to weigh.
    const [echo] = run(sync, [onRecord(change('erp', 7, {}, 'delete'), 'erp-1')], restored!.state);
    expect(echo!.conflicts).toEqual([]);
    expect(echo!.skipped).toMatch(/no longer erp's record/);
  });

  it('takes a state reported at the position an earlier confirmed write left the record for that write, after later writes', () => {
    // HubSpot reports each state a webhook announced, with the modification stamp of Tandem's write.
    const sync = compile();
    const [firstEdit] = run(sync, [change('crm', 2, { phone: { before: '111', after: 'first' } }, 'update', '2026-06-01T10:00:00.000Z')], synced(sync));
    const [firstLanded] = run(sync, [result(firstEdit!.commands[0]!, 'cust-1', '6000')], firstEdit!.state);
    const [secondEdit] = run(sync, [change('crm', 3, { phone: { before: 'first', after: 'second' } }, 'update', '2026-06-01T10:00:01.000Z')], firstLanded!.state);
    const [secondLanded] = run(sync, [result(secondEdit!.commands[0]!, 'cust-1', '7000')], secondEdit!.state);
    // The state at 6000 is reported only now, stamped later than the CRM's edits.
    const [report] = run(sync, [onRecord(change('customer', 6000, { phone: { before: '111', after: 'first' } }, 'update', '2026-06-01T10:00:05.000Z'), 'cust-1')], secondLanded!.state);
    expect(report!.conflicts).toEqual([]);
    expect(report!.commands).toEqual([]);
    expect(report!.state.fields['phone']?.value).toBe('second');
    // A field that write did not carry, reported at its position, is an edit of the system's.
    const [other] = run(sync, [onRecord(change('customer', 6000, { last_name: { before: 'Lee', after: 'Li' } }, 'update', '2026-06-01T10:00:05.000Z'), 'cust-1')], secondLanded!.state);
    expect(other!.state.fields['last_name']?.value).toBe('Li');
  });

  it('treats an edit made before a shared column first carried the winning value as concurrent, though it was written again later', () => {
    const sync = compile();
    const [first] = run(sync, [created()]);
    const toCustomer = first!.commands[0]!;
    const state = run(sync, [result(toCustomer, 'cust-1', '1'), onRecord(change('crm', 1, {}, 'update'), 'crm-1')], first!.state)[0]!.state;
    // The customer changes the first name, then the last name: each write of full_name to the CRM carries both.
    const [firstName] = run(sync, [onRecord(change('customer', 2, { first_name: { before: 'Ann', after: 'Anna' } }), 'cust-1')], state);
    const [landed] = run(sync, [result(firstName!.commands[0]!, 'crm-1', '10')], firstName!.state);
    const [lastName] = run(sync, [onRecord(change('customer', 3, { last_name: { before: 'Lee', after: 'Li' } }), 'cust-1')], landed!.state);
    const [again] = run(sync, [result(lastName!.commands[0]!, 'crm-1', '12')], lastName!.state);
    // The CRM's own first-name edit, made at 9 before the first write landed, is heard of only now.
    const [late] = run(sync, [change('crm', 9, { first_name: { before: 'Ann', after: 'Annie' } })], again!.state);
    expect(late!.conflicts.map((c) => [c.data.field, c.data.sides.map((side) => side.value)])).toEqual([['first_name', ['Anna', 'Annie']]]);
  });

  it('takes a report of what Tandem\'s write left over a system\'s winning edit, before that edit is back, for no edit', () => {
    const sync = compile();
    const [crmEdit] = run(sync, [change('crm', 2, { phone: { before: '111', after: '222' } })], synced(sync));
    const [landed] = run(sync, [result(crmEdit!.commands[0]!, 'cust-1', '6')], crmEdit!.state);
    // The customer's edit at 5, made before the CRM's value landed at 6, wins and goes back to it.
    const [won] = run(sync, [onRecord(change('customer', 5, { phone: { before: '111', after: '555' } }), 'cust-1')], landed!.state);
    expect(won!.state.fields['phone']?.value).toBe('555');
    expect(won!.commands.map((c) => [c.data.target, c.data.fields['phone']])).toContainEqual(['customer', '555']);
    // Before it lands, the customer reports another edit: its phone is still the CRM's value Tandem wrote.
    const [next] = run(sync, [onRecord(change('customer', 7, { last_name: { before: 'Lee', after: 'Li' }, phone: { before: '555', after: '222' } }), 'cust-1')], won!.state);
    expect(next!.state.fields['phone']?.value).toBe('555');
    expect(next!.state.fields['last_name']?.value).toBe('Li');
    expect(next!.conflicts).toEqual([]);
  });

  it('takes the state writes answered as stale left where their write landed for Tandem\'s, not for the system\'s edit', () => {
    // Two CRM edits went to the customer in one write, which landed at 6; its answers were lost with
    // a crash, and the redelivered commands came back stale, naming where that write landed.
    const sync = compile();
    const [phoneEdit, nameEdit] = run(sync, [change('crm', 2, { phone: { before: '111', after: '222' } }), change('crm', 3, { last_name: { before: 'Lee', after: 'Li' } })], synced(sync));
    const stale = (outcome: typeof phoneEdit) => {
      const answer = result(outcome!.commands[0]!, 'cust-1', '6');
      return { ...answer, data: { ...answer.data, outcome: 'stale' as const } };
    };
    const [, confirmed] = run(sync, [stale(phoneEdit), stale(nameEdit)], nameEdit!.state);
    // Meanwhile a person changed the phone in the CRM again; the customer's report of the write at 6 is Tandem's state.
    const [later] = run(sync, [change('crm', 4, { phone: { before: '222', after: '333' } })], confirmed!.state);
    const [report] = run(sync, [onRecord(change('customer', 6, { phone: { before: '111', after: '222' }, last_name: { before: 'Lee', after: 'Li' } }), 'cust-1')], later!.state);
    expect(report!.conflicts).toEqual([]);
    expect(report!.state.fields['phone']?.value).toBe('333');
    expect(report!.state.fields['last_name']?.value).toBe('Li');
  });

  it('records an update made before Tandem\'s delete landed as a delete-versus-update conflict, and re-creates its record', () => {
    const sync = compile({ deleteVsUpdate: 'update_wins' });
    const state = synced(sync);
    const [deleted] = run(sync, [change('crm', 2, {}, 'delete')], state);
    const [landed] = run(sync, [result(deleted!.commands[0]!, 'cust-1', '6')], deleted!.state);
    // The customer's edit at 5 committed late, before the delete (position 6) removed its record.
    const [late] = run(sync, [change('customer', 5, { phone: { before: '111', after: '555' } }, 'update')], landed!.state);
    expect(late!.conflicts.map((c) => [c.data.kind, c.data.outcome])).toEqual([['delete_update', { winner: 'customer', value: null, deleted: false }]]);
    expect(late!.state.deleted).toBeNull();
    expect(late!.commands.map((c) => [c.data.target, c.data.recordId, c.data.fields]).sort()).toEqual([
      ['crm', null, { full_name: 'Ann Lee', email: 'ann@example.com', phone: '555' }],
      ['customer', null, { first_name: 'Ann', last_name: 'Lee', email_address: 'ann@example.com', phone: '555' }],
    ]);
    // The deletion of the record it replaces, reported afterwards, deletes nothing.
    const [oldDelete] = run(sync, [change('customer', 8, {}, 'delete')], late!.state);
    expect(oldDelete!.skipped).toMatch(/no longer customer's record/);
    expect(oldDelete!.state.deleted).toBeNull();

    // An edit made after the delete landed (position 7) had seen it: a restore, not a conflict.
    const [restored] = run(sync, [change('customer', 7, { phone: { after: '777' } }, 'update')], landed!.state);
    expect(restored!.conflicts).toEqual([]);
    expect(restored!.state.deleted).toBeNull();
  });

  it('weighs an edit made before Tandem\'s delete landed on a record first reported after it, created, edited and deleted', () => {
    // The connector saw the record only once it was archived: it publishes the state Tandem's create
    // left, the person's edit, and the archive, in that order.
    const sync = compile({ deleteVsUpdate: 'update_wins' });
    const [deleted] = run(sync, [change('crm', 2, {}, 'delete')], synced(sync));
    const [landed] = run(sync, [result(deleted!.commands[0]!, 'cust-1', '6')], deleted!.state);
    const madeByTandem = { first_name: { after: 'Ann' }, last_name: { after: 'Lee' }, email: { after: 'ann@example.com' }, phone: { after: '111' } };
    const [echo, edit, archive] = run(
      sync,
      [change('customer', 3, madeByTandem, 'create'), change('customer', 5, { phone: { before: '111', after: '555' } }), change('customer', 6, {}, 'delete')].map((message) => onRecord(message, 'cust-1')),
      landed!.state,
    );
    expect(echo!.commands).toEqual([]);
    expect(echo!.conflicts).toEqual([]);
    expectRestoredByCustomerPhone(edit, '555');
    expect(archive!.state.deleted).toBeNull();
    expect(archive!.commands).toEqual([]);
  });

  it('weighs an edit heard of only after the system reported Tandem\'s delete, by where it was made', () => {
    const sync = compile({ deleteVsUpdate: 'update_wins' });
    const [deleted] = run(sync, [change('crm', 2, {}, 'delete')], synced(sync));
    const [landed] = run(sync, [result(deleted!.commands[0]!, 'cust-1', '6')], deleted!.state);
    const [echo] = run(sync, [onRecord(change('customer', 6, {}, 'delete'), 'cust-1')], landed!.state);
    // The edit's notice came after the deletion was reported: published next (7), made at 5.
    const late = onRecord(change('customer', 7, { phone: { before: '111', after: '555' } }), 'cust-1');
    const [edit] = run(sync, [{ ...late, data: { ...late.data, madeAt: '5' } }], echo!.state);
    expectRestoredByCustomerPhone(edit, '555');
  });

  it('keeps where Tandem\'s delete landed when the system reports that delete at an earlier position', () => {
    // A connector that could not read when the record went reports the delete at 4; it landed at 6.
    const sync = compile({ deleteVsUpdate: 'update_wins' });
    const [deleted] = run(sync, [change('crm', 2, {}, 'delete')], synced(sync));
    const [landed] = run(sync, [result(deleted!.commands[0]!, 'cust-1', '6')], deleted!.state);
    const [echo, edit] = run(
      sync,
      [change('customer', 4, {}, 'delete'), change('customer', 5, { phone: { before: '111', after: '555' } })].map((message) => onRecord(message, 'cust-1')),
      landed!.state,
    );
    expect(echo!.state.systems['customer']?.deletedPosition).toBe('6');
    // Made at 5, before the delete landed: it had not seen the delete, which is a conflict on record.
    expectRestoredByCustomerPhone(edit, '555');
  });

  it('keeps an edit a system made before Tandem\'s delete reached it when the delete\'s position is unknown', () => {
    // HubSpot reports no position for an archive; the edit and then the archive come from its connector.
    const sync = compile({ deleteVsUpdate: 'update_wins' });
    const state = synced(sync);
    const [deleted] = run(sync, [change('crm', 2, {}, 'delete')], state);
    const [archived] = run(sync, [result(deleted!.commands[0]!, 'cust-1', null)], deleted!.state);
    const archive = onRecord(change('customer', 6, {}, 'delete'), 'cust-1');
    const [edit, archiveEcho] = run(sync, [onRecord(change('customer', 5, { phone: { before: '111', after: '555' } }), 'cust-1'), archive], archived!.state);
    expectRestoredByCustomerPhone(edit, '555');
    expect(archiveEcho!.state.deleted).toBeNull();
    expect(archiveEcho!.commands).toEqual([]);

    // Its report of the archive tells where the delete landed: a later edit there is a restore.
    const [echoed] = run(sync, [archive], archived!.state);
    const [restored] = run(sync, [change('customer', 7, { phone: { after: '777' } })], echoed!.state);
    expect(restored!.conflicts).toEqual([]);
    expect(restored!.state.deleted).toBeNull();
  });

  it('sends edits made on a record its queued delete will remove to the record that replaces it', () => {
    // The customer database's applier is down: the delete of its record waits in its queue.
    const sync = compile({ deleteVsUpdate: 'update_wins' });
    const state = synced(sync);
    const [deleted] = run(sync, [change('crm', 2, {}, 'delete')], state);
    const [kept, later] = run(
      sync,
      [change('customer', 5, { phone: { before: '111', after: '555' } }), change('customer', 6, { first_name: { before: 'Ann', after: 'Ada' } })],
      deleted!.state,
    );
    expect(kept!.conflicts.map((c) => [c.data.kind, c.data.outcome?.winner])).toEqual([['delete_update', 'customer']]);
    // Its later edit, still on the doomed record, goes to the new record rather than back to the old one.
    expect(later!.state.systems['customer']!.recordId).toBeNull();
    expect(later!.commands.map((c) => [c.data.target, c.data.recordId, c.data.fields['first_name'] ?? c.data.fields['full_name']]).sort()).toEqual([
      ['crm', null, 'Ada Lee'],
      ['customer', null, 'Ada'],
    ]);
  });

  it('takes the record a re-create found there for the entity\'s, when that record was reported while the delete was on its way', () => {
    const sync = compile({ deleteVsUpdate: 'update_wins' });
    const [deleted] = run(sync, [change('crm', 2, {}, 'delete')], synced(sync));
    const [kept] = run(sync, [change('customer', 5, { phone: { before: '111', after: '555' } })], deleted!.state);
    const remove = deleted!.commands.find((c) => c.data.target === 'customer')!;
    const recreate = kept!.commands.find((c) => c.data.target === 'customer')!;
    expect([remove.data.operation, recreate.data.recordId]).toEqual(['delete', null]);
    // The applier made cust-2 and died before its results went out; cust-2's report came meanwhile.
    const [reported] = run(sync, [onRecord(change('customer', 7, { phone: { after: '555' } }, 'create'), 'cust-2')], kept!.state);
    expect(reported!.state.systems['customer']!.recordId).toBeNull();
    // Its second try deletes cust-1 again and finds cust-2 holding the email.
    const exists: MessageOf<'apply.result'> = {
      ...result(recreate, 'cust-2'),
      data: { ...result(recreate, 'cust-2').data, outcome: 'failed', error: { code: RECORD_EXISTS, message: 'exists', retryable: false } },
    };
    const [, failed] = run(sync, [result(remove, 'cust-1'), exists], reported!.state);

    expect(failed!.state.systems['customer']!.recordId).toBe('cust-2');
    // What the create carried goes to cust-2, instead of every later write being a create that finds it.
    expect(failed!.commands.map((c) => [c.data.target, c.data.recordId, c.data.fields['phone']])).toEqual([['customer', 'cust-2', '555']]);
  });

  it('deletes the re-created record of a system whose delete was confirmed only after the restore', () => {
    const sync = compile({ deleteVsUpdate: 'update_wins' });
    const state = synced(sync);
    const [deleted] = run(sync, [change('crm', 2, {}, 'delete')], state);
    // The customer's edit, made before the delete reached it, restores the entity everywhere.
    const [restored] = run(sync, [change('customer', 5, { phone: { before: '111', after: '555' } })], deleted!.state);
    const recreate = (target: string) => restored!.commands.find((c) => c.data.target === target)!;
    const [, , confirmed] = run(
      sync,
      [result(deleted!.commands[0]!, 'cust-1', '6'), result(recreate('customer'), 'cust-2', '7'), result(recreate('crm'), 'crm-2', '3')],
      restored!.state,
    );
    expect(confirmed!.state.systems['customer']).toMatchObject({ recordId: 'cust-2', deletedAt: null });
    // The CRM deletes its new record: the customer's new record goes too.
    const [again] = run(sync, [onRecord(change('crm', 4, {}, 'delete'), 'crm-2')], confirmed!.state);
    expect(again!.state.deleted).not.toBeNull();
    expect(again!.commands.map((c) => [c.data.target, c.data.operation, c.data.recordId])).toEqual([['customer', 'delete', 'cust-2']]);
  });

  it('keeps a late edit of a record its confirmed delete removed from naming that record again', () => {
    // As HubSpot reports: edits made before Tandem's archive arrive after it, with no positions.
    const sync = compile({ deleteVsUpdate: 'update_wins' });
    const state = synced(sync);
    const [deleted] = run(sync, [change('crm', 2, {}, 'delete')], state);
    const [archived] = run(sync, [result(deleted!.commands[0]!, 'customer-1', null)], deleted!.state);
    const [restored, secondEdit, archiveEcho] = run(
      sync,
      [change('customer', 5, { phone: { before: '111', after: '555' } }), change('customer', 6, { first_name: { before: 'Ann', after: 'Ada' } }), change('customer', 7, {}, 'delete')],
      archived!.state,
    );
    expect(restored!.state.deleted).toBeNull();
    expect(secondEdit!.state.systems['customer']!.recordId).toBeNull();
    expect(secondEdit!.commands.map((c) => [c.data.target, c.data.recordId]).sort()).toEqual([
      ['crm', null],
      ['customer', null],
    ]);
    // The archive of the old record, reported afterwards, deletes nothing.
    expect(archiveEcho!.skipped).toMatch(/no longer customer's record/);
    expect(archiveEcho!.state.deleted).toBeNull();
  });

  it('deletes a re-created record when an older delete of the record it replaced is confirmed after a new delete', () => {
    const sync = compile({ deleteVsUpdate: 'update_wins' });
    const state = synced(sync);
    const [deleted] = run(sync, [change('crm', 2, {}, 'delete')], state);
    const [restored] = run(sync, [change('customer', 5, { phone: { before: '111', after: '555' } })], deleted!.state);
    const recreate = (target: string) => restored!.commands.find((c) => c.data.target === target)!;
    const [crmCreated] = run(sync, [result(recreate('crm'), 'crm-2', '3')], restored!.state);
    // The CRM deletes its new record while the customer still has both the old delete and the create queued.
    const [again] = run(sync, [onRecord(change('crm', 4, {}, 'delete'), 'crm-2')], crmCreated!.state);
    expect(again!.state.deleted).not.toBeNull();
    const [, created] = run(sync, [result(deleted!.commands[0]!, 'cust-1', '6'), result(recreate('customer'), 'cust-2', '7')], again!.state);
    expect(created!.commands.map((c) => [c.data.target, c.data.operation, c.data.recordId])).toEqual([['customer', 'delete', 'cust-2']]);
  });

  it('takes nothing from a delete answered again as stale, after its first answer was taken', () => {
    const sync = compile({ deleteVsUpdate: 'update_wins' });
    const [deleted] = run(sync, [change('crm', 2, {}, 'delete')], synced(sync));
    const removeCustomer = deleted!.commands.find((c) => c.data.target === 'customer')!;
    const [archived] = run(sync, [result(removeCustomer, 'cust-1', '6')], deleted!.state);
    // The customer's edit, made before the delete reached it, restores the entity everywhere.
    const [restored] = run(sync, [change('customer', 5, { phone: { before: '111', after: '555' } })], archived!.state);
    const recreate = (target: string) => restored!.commands.find((c) => c.data.target === target)!;
    const [crmCreated] = run(sync, [result(recreate('crm'), 'crm-2', '3')], restored!.state);
    // The CRM deletes its new record while the customer's re-create is on its way.
    const [again] = run(sync, [onRecord(change('crm', 4, {}, 'delete'), 'crm-2')], crmCreated!.state);
    expect(again!.state.deleted).not.toBeNull();
    // A restarted applier answers the old delete again, as stale; then the re-create's answer comes.
    const answeredAgain = result(removeCustomer, 'cust-1', '6');
    const [repeated, created] = run(sync, [{ ...answeredAgain, data: { ...answeredAgain.data, outcome: 'stale' as const } }, result(recreate('customer'), 'cust-2', '7')], again!.state);
    expect(repeated!.skipped).toMatch(/already taken/);
    expect(repeated!.commands).toEqual([]);
    expect(created!.commands.map((c) => [c.data.target, c.data.operation, c.data.recordId])).toEqual([['customer', 'delete', 'cust-2']]);
  });

  it('sends a losing system the winner with a version newer than the write it already has on its way', () => {
    const sync = compile();
    const state = synced(sync);
    const [crmEdit] = run(sync, [change('crm', 2, { phone: { before: '111', after: 'crm-phone' } }, 'update', '2026-06-01T10:00:01.000Z')], state);
    // The customer's older edit loses by latest_wins and gets the winner back.
    const [lost] = run(sync, [change('customer', 3, { phone: { before: '111', after: 'old' } }, 'update', '2026-06-01T10:00:00.000Z')], crmEdit!.state);
    const [pushed] = lost!.commands;
    expect(pushed?.data).toMatchObject({ target: 'customer', fields: { phone: 'crm-phone' } });
    expect(pushed!.data.version).toBeGreaterThan(crmEdit!.commands[0]!.data.version);
  });

  it('takes a person\'s own record, matched while Tandem\'s create there is on its way, for the entity\'s record', () => {
    const sync = compile();
    const [first] = run(sync, [created()]);
    // The same contact entered in the customer database at once; its connector matched it by email.
    const [own, deleted] = run(
      sync,
      [
        change('customer', 1, { first_name: { after: 'Ann' }, last_name: { after: 'Lee' }, email: { after: 'ann@example.com' }, phone: { after: '111' } }, 'create'),
        change('customer', 2, {}, 'delete'),
      ],
      first!.state,
    );
    expect(own!.state.systems['customer']!.recordId).toBe('customer-1');
    // The person then deletes it: that is the entity's delete, not a report about a replaced record.
    expect(deleted!.skipped).toBeNull();
    expect(deleted!.state.deleted).not.toBeNull();
  });

  it('decides the same outcome wherever it runs', () => {
    const sync = compile();
    const state = synced(sync);
    const messages = [change('crm', 2, { phone: { after: 'x' } }, 'update', '2026-06-01T10:00:00.000Z'), change('customer', 2, { phone: { after: 'y' } }, 'update', '2026-06-01T10:00:00.000Z')];
    expect(run(sync, messages, state)).toEqual(run(sync, messages, state));
    // Equal source times: the tiebreak is the system id, the same on every replica.
    expect(run(sync, messages, state)[1]!.conflicts[0]!.data.outcome!.winner).toBe('customer');
  });
});
