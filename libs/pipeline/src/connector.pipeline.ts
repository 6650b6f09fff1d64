import type { FieldChange, FieldValue, FieldValues, MessageDraft } from '@tandem/contracts';
import type { FieldMapper } from '@tandem/mapping';
import type { Publisher, TopicNames } from '@tandem/messaging';
import type { CompiledSync } from '@tandem/reconciliation';
import {
  CreateIntentRepository,
  EntityStateRepository,
  IdentityRepository,
  RecordErrorRepository,
  UnseenDeleteRepository,
  type KeyClaim,
  type RecordToResolve,
  type ResolvedIdentity,
  type SqlClient,
  type UnseenDelete,
} from '@tandem/state';
import { decodeStoredEntity, type StoredEntityRecord } from './stored-entity.codec';
import { matchKeyOf } from './match-key.util';
import { StageTimings } from './stage-timings.util';
import { systemMapper } from './sync-catalog';

/** One row-level change as a record source reports it, in the system's own field names. */
export interface RecordChange {
  /**
   * The change's position in the source's own order (a decimal integer), increasing per record, and
   * comparable with the positions the system's applier reports for Tandem's writes.
   */
  sequence: string;
  /** Where the change was made, when that is earlier than `sequence` (learnt of late). */
  madeAt?: string;
  operation: 'insert' | 'update' | 'delete' | 'snapshot';
  recordId: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  changedAt: Date;
  /** For an insert: when the record was made, where the source tells and it may be earlier than `changedAt`. */
  createdAt?: Date;
}

/** A source read in its own change order and acknowledged once published (PostgreSQL capture, pollers). */
export interface RecordChangeSource {
  readBatch(limit: number): Promise<RecordChange[]>;
  /** Called with the changes of the last batch once they are published. */
  acknowledge(changes: readonly RecordChange[]): Promise<unknown>;
  waitForChanges(timeoutMs: number, signal?: AbortSignal): Promise<unknown>;
  /** True when the source never reports Tandem's own writes, so every change it reads is the system's own. */
  readonly omitsTandemWrites?: boolean;
  /** Which of these records Tandem itself wrote, and for which entity; authoritative where the source knows. */
  entitiesWrittenByTandem?(recordIds: string[]): Promise<Map<string, string>>;
  /** Which of these records the source last reported deleted. */
  recordsReportedDeleted?(recordIds: string[]): Promise<Set<string>>;
}

/** How far two systems' clocks may disagree when a record made in one is weighed against a delete in another. */
const CLOCK_SKEW_MS = 2_000;

export interface ConnectorStats {
  read: number;
  published: number;
  unchanged: number;
  mappingErrors: number;
  /** Deletes of records no entity was linked to, which had nothing to propagate, and the states such records passed through. */
  unlinkedDeletes: number;
}

/**
 * Turns a system's record changes into canonical change events: maps fields, links each record to its
 * canonical entity (matching existing entities by normalized key so nothing is duplicated), publishes
 * to the changes topic, and only then acknowledges the source, so a crash republishes rather than loses.
 */
export class ConnectorPipeline {
  readonly stats: ConnectorStats = { read: 0, published: 0, unchanged: 0, mappingErrors: 0, unlinkedDeletes: 0 };
  readonly timings = new StageTimings();
  private readonly mapper: FieldMapper;
  private readonly unseenDeletes: UnseenDeleteRepository;

  constructor(
    private readonly db: SqlClient,
    private readonly sync: CompiledSync,
    private readonly systemId: string,
    private readonly publisher: Publisher,
    private readonly topics: TopicNames,
  ) {
    const system = sync.config.systems.find((linked) => linked.id === systemId);
    if (!system) throw new Error(`sync ${sync.config.id} does not link system "${systemId}"`);
    this.mapper = systemMapper(sync.config, system).mapper;
    this.unseenDeletes = new UnseenDeleteRepository(db);
  }

  /** Moves one batch from the source to Kafka; returns how many source changes it consumed. */
  async pump(source: RecordChangeSource, limit: number): Promise<number> {
    const changes = await this.timings.time('read', () => source.readBatch(limit));
    if (changes.length === 0) return 0;
    this.stats.read += changes.length;
    const { config } = this.sync;
    const errors: Parameters<RecordErrorRepository['record']>[0] = [];
    const mapped = changes.map((change) => {
      const before = change.before ? this.toCanonical(change.before, change, errors) : null;
      const after = change.after ? this.toCanonical(change.after, change, errors) : null;
      return { change, before, after, fields: changedFields(change.operation, before, after) };
    });
    const changed = mapped.filter((entry) => entry.change.operation === 'delete' || Object.keys(entry.fields).length > 0);
    this.stats.unchanged += mapped.length - changed.length;
    const relevant = await this.withoutStatesOfUnseenCopies(changed);

    const identity = await this.timings.time('identify', () => this.identify(source, relevant));
    // A deleted record no entity ever had, nor shares a key with (made and removed there before Tandem saw it), takes nothing with it.
    // Neither do the states such a record passed through (counted with its delete).
    const linked = relevant.filter(({ change }) => identity.has(change.recordId));
    this.stats.unlinkedDeletes += changed.length - linked.length;
    const events: MessageDraft<'change'>[] = linked.map(({ change, fields }) => {
      const { entityId, matched } = identity.get(change.recordId)!;
      return recordChangeEvent(config.tenantId, this.systemId, change.changedAt, {
        entityType: config.entityType,
        entityId,
        recordId: change.recordId,
        operation: change.operation === 'delete' ? 'delete' : change.operation === 'update' ? 'update' : 'create',
        fields,
        sequence: change.sequence,
        ...(change.madeAt === undefined ? {} : { madeAt: change.madeAt }),
        snapshot: change.operation === 'snapshot',
        ...(source.omitsTandemWrites ? { notFromTandem: true as const } : {}),
        ...(change.operation === 'delete' && matched ? { matchedByKey: true as const } : {}),
      });
    });
    const claimed = await this.timings.time('identify', () => this.unseenDeletesOfKeys(linked, identity));
    events.push(
      ...claimed.map((unseen) =>
        recordChangeEvent(config.tenantId, unseen.systemId, unseen.deletedAt, {
          entityType: config.entityType,
          entityId: unseen.entityId,
          recordId: unseen.recordId,
          operation: 'delete',
          fields: {},
          sequence: unseen.sequence,
          snapshot: false,
          matchedByKey: true,
        }),
      ),
    );
    await this.timings.time('publish', () => this.publisher.publish(this.topics.changes, events));
    await this.unseenDeletes.forget(config.tenantId, config.entityType, claimed);
    if (errors.length > 0) await new RecordErrorRepository(this.db).record(errors);
    await this.timings.time('acknowledge', () => source.acknowledge(changes));
    this.stats.published += events.length;
    return changes.length;
  }

  /** Pumps until aborted, waking on the source's notifications and polling as a safety net. */
  async run(source: RecordChangeSource, signal: AbortSignal, { batchSize = 1_000, idleWaitMs = 1_000 } = {}): Promise<void> {
    while (!signal.aborted) {
      const moved = await this.pump(source, batchSize);
      if (moved === 0) await source.waitForChanges(idleWaitMs, signal);
    }
  }

  /**
   * Links each record to its entity: records Tandem wrote are known first-hand, the rest by link or
   * match. A record Tandem has replaced with a new one there still belongs to its entity (its late
   * edits are that entity's). A deleted record is only looked up: one without a link starts no entity,
   * and joins one only by the key of what it last held (`matched`). A record is linked and adopted
   * (see `adoptTandemCreates`) in one transaction: once linked to an entity it started, it is never
   * adopted, so a failure in between must leave it unlinked.
   */
  private async identify(source: RecordChangeSource, relevant: Array<{ change: RecordChange; before: FieldValues | null; after: FieldValues | null }>) {
    const { config } = this.sync;
    const scope = [config.tenantId, config.entityType, this.systemId] as const;
    const records = relevant
      .filter(({ change }) => change.operation !== 'delete')
      .map(({ change, after }) => ({ recordId: change.recordId, matchKey: matchKeyOf(config.matchOn, after) }));
    const deletedNow = new Set(relevant.filter(({ change }) => change.operation === 'delete').map(({ change }) => change.recordId));
    const resolved = await this.db.transaction(async (tx) => {
      const identities = new IdentityRepository(tx);
      await identities.lockLinks(...scope);
      if (source.entitiesWrittenByTandem && relevant.length > 0) {
        const written = await source.entitiesWrittenByTandem([...new Set(relevant.map(({ change }) => change.recordId))]);
        await identities.relink(...scope, [...written].map(([recordId, entityId]) => ({ recordId, entityId })));
      }
      return this.adoptTandemCreates(source, tx, records, await identities.resolve(...scope, records), deletedNow);
    });
    const identities = new IdentityRepository(this.db);
    const deleted = [...new Set(relevant.filter(({ change }) => change.operation === 'delete' && !resolved.has(change.recordId)).map(({ change }) => change.recordId))];
    for (const [recordId, { entityId }] of await identities.standings(...scope, deleted)) resolved.set(recordId, { entityId, created: false, matched: false });
    const unlinked = relevant.filter(({ change }) => change.operation === 'delete' && !resolved.has(change.recordId));
    for (const [recordId, entityId] of await this.matchUnlinkedDeletes(identities, unlinked)) resolved.set(recordId, { entityId, created: false, matched: true });
    return resolved;
  }

  /**
   * A record first seen already deleted comes with the states its notices announced before the
   * delete. Linked to an entity (Tandem made it), those are edits made there before Tandem's delete
   * or a person's landed. Linked to none, it is a copy of an entity the system made and removed
   * before Tandem saw it: only its delete counts (see `matchUnlinkedDeletes`), and its states would
   * start an entity of their own.
   */
  private async withoutStatesOfUnseenCopies<T extends { change: RecordChange }>(changes: T[]): Promise<T[]> {
    const lastOperation = new Map(changes.map(({ change }) => [change.recordId, change.operation]));
    const withStates = [...new Set(changes.filter(({ change }) => change.operation !== 'delete' && lastOperation.get(change.recordId) === 'delete').map(({ change }) => change.recordId))];
    if (withStates.length === 0) return changes;
    const { tenantId, entityType } = this.sync.config;
    const standings = await new IdentityRepository(this.db).standings(tenantId, entityType, this.systemId, withStates);
    const unseen = new Set(withStates.filter((recordId) => !standings.has(recordId)));
    return changes.filter(({ change }) => change.operation === 'delete' || !unseen.has(change.recordId));
  }

  /**
   * Deletes of records no entity is linked to, matched by the key of what they last held: a copy of an
   * entity the system made and removed before Tandem saw it (while Tandem was creating the entity
   * there). Its delete is the system's own, and the reconciler weighs it against the entity. A key
   * no entity holds yet may be another system's record that its connector has not published: the
   * delete is kept for that connector (`unseenDeletesOfKeys`). It is kept before the keys are read,
   * and that connector registers the key before it reads what is kept, so one of the two sees the other.
   */
  private async matchUnlinkedDeletes(
    identities: IdentityRepository,
    unlinked: Array<{ change: RecordChange; before: FieldValues | null }>,
  ): Promise<Map<string, string>> {
    const { tenantId, entityType, matchOn } = this.sync.config;
    const keyed: UnseenDelete[] = unlinked.flatMap(({ change, before }) => {
      const matchKey = matchKeyOf(matchOn, before);
      return matchKey === null ? [] : [{ systemId: this.systemId, recordId: change.recordId, matchKey, sequence: change.sequence, deletedAt: change.changedAt }];
    });
    if (keyed.length === 0) return new Map();
    await this.unseenDeletes.record(tenantId, entityType, keyed);
    const owners = await identities.entitiesByMatchKey(tenantId, entityType, [...new Set(keyed.map(({ matchKey }) => matchKey))]);
    const matched = keyed.filter(({ matchKey }) => owners.has(matchKey));
    // Published below for the owner; a crash before that reads the delete again and matches it again.
    await this.unseenDeletes.forget(tenantId, entityType, matched);
    return new Map(matched.map(({ recordId, matchKey }) => [recordId, owners.get(matchKey)!] as const));
  }

  /**
   * Deletes other systems made of a copy of an entity these records hold the key of, before Tandem
   * saw either, kept because no entity held the key then. A delete falls to the entity only if its
   * record here was made before it (allowing for the two systems' clocks): a record made after was
   * made once that copy was gone, and is no edit the delete raced.
   */
  private async unseenDeletesOfKeys(linked: Array<{ change: RecordChange; after: FieldValues | null }>, identity: Map<string, ResolvedIdentity>) {
    const { tenantId, entityType, matchOn } = this.sync.config;
    const claims = new Map<string, KeyClaim>();
    for (const { change, after } of linked) {
      const matchKey = change.operation === 'delete' ? null : matchKeyOf(matchOn, after);
      if (matchKey === null || claims.has(change.recordId)) continue;
      const madeAt = new Date((change.createdAt ?? change.changedAt).getTime() - CLOCK_SKEW_MS);
      claims.set(change.recordId, { entityId: identity.get(change.recordId)!.entityId, matchKey, madeAt });
    }
    return this.unseenDeletes.claimedBy(tenantId, entityType, this.systemId, [...claims.values()]);
  }

  /**
   * A record that started a new entity although its match key belongs to an entity Tandem is creating
   * a record for in this system is that create, seen before the applier could link it (sources that
   * cannot tell Tandem's writes see them at once), or after the applier died in between. It joins
   * that entity instead of duplicating it everywhere. Tandem is creating one when the applier
   * announced the create, or the entity has no record here and a write on its way, or was told this
   * record is its own. So does one whose key's entity holds, as its record here, one this source
   * reported deleted (before, or in this batch: a restart may read the delete again with the
   * re-create it caused): the reconciler publishes a re-create before it stores the state that
   * expects it, so the create may be seen first, and either way the entity has no live record here
   * to keep the new one apart.
   */
  private async adoptTandemCreates(
    source: RecordChangeSource,
    tx: SqlClient,
    records: RecordToResolve[],
    resolved: Map<string, ResolvedIdentity>,
    deletedNow: ReadonlySet<string>,
  ): Promise<Map<string, ResolvedIdentity>> {
    const { tenantId, entityType } = this.sync.config;
    const identities = new IdentityRepository(tx);
    const started = records.filter(({ recordId, matchKey }) => matchKey !== null && resolved.get(recordId)?.created === true);
    if (started.length === 0) return resolved;
    const owners = await identities.entitiesByMatchKey(tenantId, entityType, [...new Set(started.map(({ matchKey }) => matchKey!))]);
    const candidates = started.flatMap(({ recordId, matchKey }) => {
      const owner = owners.get(matchKey!);
      return owner !== undefined && owner !== resolved.get(recordId)?.entityId.toLowerCase() ? [{ recordId, entityId: owner }] : [];
    });
    if (candidates.length === 0) return resolved;
    const owning = [...new Set(candidates.map(({ entityId }) => entityId))];
    const intents = new CreateIntentRepository(tx, this.systemId);
    const announced = await intents.creating(tenantId, owning);
    const states = await new EntityStateRepository<StoredEntityRecord>(tx).loadMany(tenantId, owning);
    const systems = new Map(candidates.map(({ entityId }) => {
      const loaded = states.get(entityId);
      return [entityId, loaded && decodeStoredEntity(loaded.state).entity.systems[this.systemId]] as const;
    }));
    const held = [...systems.values()].flatMap((system) => (system?.recordId && !deletedNow.has(system.recordId) ? [system.recordId] : []));
    const deletedHere = held.length > 0 && source.recordsReportedDeleted ? await source.recordsReportedDeleted(held) : new Set<string>();
    for (const recordId of deletedNow) deletedHere.add(recordId);
    const adopted = candidates.filter(({ recordId, entityId }) => {
      if (announced.has(entityId)) return true;
      const system = systems.get(entityId);
      if (system === undefined) return false;
      if (system.recordId === null) return system.pending.some((write) => !write.deletes);
      return system.recordId === recordId || deletedHere.has(system.recordId);
    });
    await identities.relink(tenantId, entityType, this.systemId, adopted);
    await intents.settle(tenantId, adopted.map(({ entityId }) => entityId));
    for (const { recordId, entityId } of adopted) resolved.set(recordId, { entityId, created: false, matched: true });
    return resolved;
  }

  private toCanonical(row: Record<string, unknown>, change: RecordChange, errors: Parameters<RecordErrorRepository['record']>[0]): FieldValues {
    const native: FieldValues = {};
    for (const field of this.mapper.nativeFields) if (field in row) native[field] = toFieldValue(row[field]);
    const { values, errors: fieldErrors } = this.mapper.toCanonical(native);
    for (const error of fieldErrors) {
      this.stats.mappingErrors += 1;
      errors.push({
        tenantId: this.sync.config.tenantId,
        systemId: this.systemId,
        entityId: null,
        recordId: change.recordId,
        commandId: null,
        code: `mapping_${error.code.toLowerCase()}`,
        message: `field ${error.field}: ${error.reason}`,
        payload: { sequence: change.sequence, row },
      });
    }
    return values;
  }
}

/**
 * A change of one record as the system that made it reports it. Its id is the same whichever
 * connector publishes it (a kept unseen delete is published by another system's), so a repeat is known.
 */
function recordChangeEvent(tenantId: string, origin: string, changedAt: Date, data: MessageDraft<'change'>['data']): MessageDraft<'change'> {
  return { type: 'change', eventId: `${origin}:${data.recordId}:${data.sequence}`, tenantId, occurredAt: changedAt.toISOString(), origin, data };
}

function changedFields(operation: RecordChange['operation'], before: FieldValues | null, after: FieldValues | null): Record<string, FieldChange> {
  const fields: Record<string, FieldChange> = {};
  if (operation === 'delete' || !after) return fields;
  for (const [field, value] of Object.entries(after)) {
    if (!before) {
      fields[field] = { after: value };
    } else if ((before[field] ?? null) !== value) {
      fields[field] = { before: before[field] ?? null, after: value };
    }
  }
  return fields;
}

/** Database values as canonical scalars: dates as ISO text, structures as JSON text. */
function toFieldValue(value: unknown): FieldValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (value instanceof Date) return value.toISOString();
  return JSON.stringify(value);
}
