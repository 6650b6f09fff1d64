import { SCHEMA_VERSION, type FieldValues, type MessageDraft, type MessageOf } from '@tandem/contracts';
import { SyncConfigSchema } from '@tandem/sync-config';
import fc from 'fast-check';
import { CompiledSync, type SystemMapper } from './compiled-sync';
import { emptyEntityState } from './entity-state.model';
import { reconcile, type ReconcilerInput } from './reconcile';

const ENTITY = '3f1b2c4d-5e6f-4a1b-8c2d-9e0f1a2b3c4d';
const FIELDS = ['phone', 'city'] as const;
const SYSTEMS = ['a', 'b'] as const;
type SystemName = (typeof SYSTEMS)[number];

const identity = (values: FieldValues) => ({ ...values });
const config = SyncConfigSchema.parse({
  id: 'model',
  tenantId: 't',
  entityType: 'contact',
  systems: SYSTEMS.map((id) => ({ id, kind: 'postgres', mapping: FIELDS.map((field) => ({ kind: 'field', native: field, canonical: field })) })),
});
const sameColumns: SystemMapper = { toNative: identity, toCanonical: identity, nativeFieldsAffectedBy: (f) => [...f], canonicalFieldsAffectedBy: (f) => [...f] };
/** One column holding both fields, as a full name holds first and last name: writing one field writes both. */
const oneColumn: SystemMapper = {
  toNative: (values) => ('phone' in values || 'city' in values ? { both: `${values['phone'] ?? ''}|${values['city'] ?? ''}` } : {}),
  toCanonical: (values) => {
    if (!('both' in values)) return {};
    const [phone, city] = String(values['both']).split('|');
    return { phone: phone || null, city: city || null };
  },
  nativeFieldsAffectedBy: (fields) => (fields.some((field) => (FIELDS as readonly string[]).includes(field)) ? ['both'] : []),
  canonicalFieldsAffectedBy: (columns) => (columns.includes('both') ? [...FIELDS] : []),
};
const separate = new CompiledSync(config, () => sameColumns);
const combined = new CompiledSync(config, (system) => (system.id === 'b' ? oneColumn : sameColumns));
/** Concurrent edits of the phone wait for a person, and go on changing the pending conflict's sides. */
const manualPhone = new CompiledSync(SyncConfigSchema.parse({ ...config, conflicts: { fields: { phone: { strategy: 'manual' } } } }), () => sameColumns);

/**
 * A small model of two databases synced through the reconciler: each has a record, a change counter
 * (its capture sequence), a connector that publishes captured changes with some lag, and an applier
 * that writes commands in order without capturing them. The reconciler's inbox is one ordered queue,
 * as one partition is, so an apply result can overtake a change its system captured earlier.
 */
class Model {
  /** Each system's record in its own columns. */
  readonly records: Record<SystemName, FieldValues> = { a: {}, b: {} };
  private readonly counters: Record<SystemName, number> = { a: 0, b: 0 };
  private readonly applied: Record<SystemName, number> = { a: 0, b: 0 };
  private readonly inbox: ReconcilerInput[] = [];
  /** Changes captured in a system and not yet published by its connector, which may lag. */
  private readonly captured: Record<SystemName, ReconcilerInput[]> = { a: [], b: [] };
  private readonly commands: Record<SystemName, MessageOf<'apply.command'>[]> = { a: [], b: [] };
  state = emptyEntityState('t', 'contact', ENTITY);
  /** Every message the reconciler gave, with its JSON when it was given. */
  readonly emitted: Array<{ draft: MessageDraft; json: string }> = [];
  private clock = Date.parse('2026-01-01T00:00:00Z');
  private ids = 0;

  constructor(
    private readonly sync: CompiledSync,
    private readonly owned = false,
  ) {
    // The record exists in `a` first and is synced before the random part starts.
    this.edit('a', 'phone', 'p0');
    this.edit('a', 'city', 'c0');
    this.drain();
  }

  edit(system: SystemName, field: string, value: string): void {
    const canonical = this.view(system);
    const before = canonical[field] ?? null;
    if (before === value) return;
    this.records[system] = { ...this.records[system], ...this.mapper(system).toNative({ ...canonical, [field]: value }) };
    this.counters[system] += 1;
    this.captured[system].push(stamp({
      type: 'change',
      eventId: `${system}:${this.counters[system]}`,
      tenantId: 't',
      occurredAt: this.tick(),
      origin: system,
      data: { entityType: 'contact', entityId: ENTITY, recordId: `${system}-1`, operation: this.counters[system] === 1 ? 'create' : 'update', fields: { [field]: { before, after: value } }, sequence: String(this.counters[system]), snapshot: false },
    }) as ReconcilerInput);
  }

  publishNext(system: SystemName): boolean {
    const change = this.captured[system].shift();
    if (!change) return false;
    this.inbox.push(change);
    return true;
  }

  reconcileNext(): boolean {
    const message = this.inbox.shift();
    if (!message) return false;
    const outcome = reconcile(this.state, message, this.sync, { owned: this.owned });
    this.state = outcome.state;
    for (const draft of [...outcome.commands, ...(outcome.resolved ? [outcome.resolved] : []), ...outcome.conflicts]) this.emitted.push({ draft, json: JSON.stringify(draft) });
    for (const command of outcome.commands) this.commands[command.data.target as SystemName].push(stamp(command));
    return true;
  }

  applyNext(system: SystemName): boolean {
    const command = this.commands[system].shift();
    if (!command) return false;
    const fresh = command.data.version > this.applied[system];
    if (fresh) {
      this.records[system] = { ...this.records[system], ...command.data.fields };
      this.applied[system] = command.data.version;
    }
    // The applier's write takes a position in the system's change order, but is not captured.
    this.counters[system] += 1;
    this.push({
      type: 'apply.result',
      eventId: `${command.eventId}>result${this.ids++}`,
      tenantId: 't',
      occurredAt: this.tick(),
      origin: system,
      data: { commandId: command.eventId, target: system, entityType: 'contact', entityId: ENTITY, recordId: `${system}-1`, version: command.data.version, outcome: fresh ? 'applied' : 'stale', fields: command.data.fields, error: null, position: String(this.counters[system]) },
    });
    return true;
  }

  drain(): void {
    while (this.publishNext('a') || this.publishNext('b') || this.reconcileNext() || this.applyNext('a') || this.applyNext('b'));
  }

  /** A system's record as its connector maps it. */
  view(system: SystemName): FieldValues {
    return this.mapper(system).toCanonical(this.records[system]);
  }

  canonical(): FieldValues {
    return Object.fromEntries(Object.entries(this.state.fields).map(([field, state]) => [field, state.value]));
  }

  private mapper(system: SystemName): SystemMapper {
    return this.sync.systems.get(system)!.mapper;
  }

  private push(draft: MessageDraft): void {
    this.inbox.push(stamp(draft) as ReconcilerInput);
  }

  private tick(): string {
    this.clock += 1_000;
    return new Date(this.clock).toISOString();
  }
}

function stamp<T extends MessageDraft>(draft: T) {
  return { ...draft, schemaVersion: SCHEMA_VERSION, observedAt: draft.occurredAt } as unknown as Extract<ReconcilerInput | MessageOf<'apply.command'>, { type: T['type'] }>;
}

const step = fc.oneof(
  fc.record({ kind: fc.constant('edit' as const), system: fc.constantFrom(...SYSTEMS), field: fc.constantFrom(...FIELDS), value: fc.constantFrom('x', 'y', 'z', 'w') }),
  fc.record({ kind: fc.constant('reconcile' as const) }),
  fc.record({ kind: fc.constant('publish' as const), system: fc.constantFrom(...SYSTEMS) }),
  fc.record({ kind: fc.constant('apply' as const), system: fc.constantFrom(...SYSTEMS) }),
);

type Step = typeof step extends fc.Arbitrary<infer T> ? T : never;

/** Plays the steps, then delivers everything still in flight. */
function play(model: Model, steps: Step[]): Model {
  for (const s of steps) {
    if (s.kind === 'edit') model.edit(s.system, s.field, s.value);
    else if (s.kind === 'reconcile') model.reconcileNext();
    else if (s.kind === 'publish') model.publishNext(s.system);
    else model.applyNext(s.system);
  }
  model.drain();
  return model;
}

/** The two ways the second system's columns hold the fields. */
const MAPPINGS: Array<[string, CompiledSync]> = [
  ['one column per field', separate],
  ['both fields in one column of the second system', combined],
];

describe('reconcile under random interleavings', () => {
  it.each(MAPPINGS)('leaves both systems equal to the canonical record once everything is delivered (%s)', (_, sync) => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
        const model = play(new Model(sync), steps);
        expect(model.view('a')).toEqual(model.canonical());
        expect(model.view('b')).toEqual(model.canonical());
      }),
      { numRuns: 2_000 },
    );
  });

  it.each([...MAPPINGS, ['manual conflicts on the phone', manualPhone] as [string, CompiledSync]])('gives the same messages and state when it may change the state in place, and its messages keep what they said (%s)', (_, sync) => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
        const copied = play(new Model(sync), steps);
        const inPlace = play(new Model(sync, true), steps);
        expect(inPlace.emitted.map(({ json }) => json)).toEqual(copied.emitted.map(({ json }) => json));
        expect(inPlace.state).toEqual(copied.state);
        // Published only at a batch's end: a message must not change with the messages after it.
        for (const { draft, json } of inPlace.emitted) expect(JSON.stringify(draft)).toBe(json);
      }),
      { numRuns: 1_000 },
    );
  });
});
