import { randomUUID } from 'node:crypto';
import type { SqlClient } from './sql-client.interface';
import { StateError, StateErrorCode } from './state.error';

export interface RecordToResolve {
  recordId: string;
  /** Already normalized (see `normalizeMatchKey`), or null when the record has nothing to match on. */
  matchKey: string | null;
}

export interface ResolvedIdentity {
  entityId: string;
  /** A new entity was started for this record. */
  created: boolean;
  /** The record joined an entity another record had registered under the same match key. */
  matched: boolean;
}

export interface RecordStanding {
  entityId: string;
  /** Tandem has replaced the record with a new one there; it still belongs to its entity. */
  replaced: boolean;
}

export interface RecordLink {
  entityType: string;
  systemId: string;
  recordId: string;
}

/** Enough for a few racing writers per record; each round only repeats the rows that collided. */
const MAX_LINK_ROUNDS = 5;

/**
 * Which canonical entity each system's record belongs to. Records that already exist on both sides
 * before the first sync are joined through a normalized match key (email, external id), never
 * duplicated; the key registry and the links are written with plain inserts that yield to whoever
 * committed first, so concurrent resolvers agree on one entity.
 */
export class IdentityRepository {
  constructor(private readonly client: SqlClient) {}

  /**
   * Finds or creates the entity of each record of one system, in a few queries per batch:
   * an existing link wins, as does the entity of a record Tandem replaced there; else the entity registered under the record's match key, unless that
   * entity already has another record in this system; else a new entity. Links are written in the
   * same transaction (a savepoint inside the caller's transaction).
   */
  async resolve(
    tenantId: string,
    entityType: string,
    systemId: string,
    records: RecordToResolve[],
  ): Promise<Map<string, ResolvedIdentity>> {
    const unique = new Map<string, string | null>();
    for (const record of records) {
      if (!unique.has(record.recordId) || unique.get(record.recordId) === null) {
        unique.set(record.recordId, record.matchKey);
      }
    }
    if (unique.size === 0) return new Map();
    const scope = { tenantId, entityType, systemId };
    return this.client.transaction((tx) => resolveInTransaction(tx, scope, unique));
  }

  /**
   * Records Tandem itself wrote for known entities (a create, or a re-create after a delete): each
   * becomes the entity's record in that system, replacing an older link, so its own capture is
   * recognised instead of starting a new entity. The record it replaces is remembered as the
   * entity's replaced record there (see `standings`).
   */
  async relink(tenantId: string, entityType: string, systemId: string, given: { recordId: string; entityId: string }[]): Promise<void> {
    if (given.length === 0) return;
    const scope = [tenantId, entityType, systemId];
    // An entity has one record per system: of several given for it (a batch that made one, deleted
    // it and made another), the last is its record and the others are records it replaced.
    const lastOf = new Map(given.map((link) => [link.entityId.toLowerCase(), link.recordId]));
    const links = given.filter((link) => lastOf.get(link.entityId.toLowerCase()) === link.recordId);
    const superseded = given.filter((link) => !links.includes(link));
    const { rows } = await this.client.query<{ record_id: string; entity_id: string }>(
      `SELECT record_id, entity_id::text FROM tandem_record_links
       WHERE tenant_id = $1 AND entity_type = $2 AND system_id = $3 AND record_id = ANY($4::text[])`,
      [...scope, links.map((link) => link.recordId)],
    );
    const current = new Map(rows.map((row) => [row.record_id, row.entity_id.toLowerCase()]));
    // Almost always every link is already right; only the rest is written.
    const changed = links.filter((link) => current.get(link.recordId) !== link.entityId.toLowerCase());
    if (changed.length === 0 && superseded.length === 0) return;
    const recordIds = changed.map((link) => link.recordId);
    const entityIds = changed.map((link) => link.entityId);
    await this.client.transaction(async (tx) => {
      await lockLinksOf(tx, { tenantId, entityType, systemId });
      // The old links of these records, then of these entities: two statements, each read through its
      // own index. Joined by OR, the planner read the system's every link for each batch.
      const unlinked: Array<{ record_id: string; entity_id: string }> = [];
      for (const [column, type, ids] of [['record_id', 'text', recordIds], ['entity_id', 'uuid', entityIds]] as const) {
        const { rows } = await tx.query<{ record_id: string; entity_id: string }>(
          `DELETE FROM tandem_record_links
           WHERE tenant_id = $1 AND entity_type = $2 AND system_id = $3 AND ${column} = ANY($4::${type}[])
           RETURNING record_id, entity_id::text`,
          [...scope, ids],
        );
        unlinked.push(...rows);
      }
      const relinked = new Set(recordIds);
      const replaced = [
        ...unlinked.filter((row) => !relinked.has(row.record_id)),
        ...superseded.map((link) => ({ record_id: link.recordId, entity_id: link.entityId })),
      ];
      await tx.query(
        `DELETE FROM tandem_replaced_links WHERE tenant_id = $1 AND entity_type = $2 AND system_id = $3 AND record_id = ANY($4::text[])`,
        [...scope, recordIds],
      );
      if (replaced.length > 0) {
        await tx.query(
          `INSERT INTO tandem_replaced_links (tenant_id, entity_type, system_id, record_id, entity_id)
           SELECT $1, $2, $3, r.record_id, r.entity_id FROM unnest($4::text[], $5::uuid[]) AS r(record_id, entity_id)
           ON CONFLICT (tenant_id, entity_type, system_id, record_id) DO UPDATE SET entity_id = EXCLUDED.entity_id`,
          [...scope, replaced.map((row) => row.record_id), replaced.map((row) => row.entity_id)],
        );
      }
      await tx.query(
        `INSERT INTO tandem_record_links (tenant_id, entity_type, system_id, record_id, entity_id)
         SELECT $1, $2, $3, n.record_id, n.entity_id FROM unnest($4::text[], $5::uuid[]) AS n(record_id, entity_id)
         ON CONFLICT DO NOTHING`,
        [...scope, recordIds, entityIds],
      );
    });
  }

  /**
   * Holds, until the caller's transaction ends, the right to change the links of one system's
   * records. A connector taking a record for an entity and an applier linking the record it made
   * for that entity change the same links in different orders, and would otherwise deadlock.
   */
  async lockLinks(tenantId: string, entityType: string, systemId: string): Promise<void> {
    await lockLinksOf(this.client, { tenantId, entityType, systemId });
  }

  /** The entity each normalized match key is registered to; keys no record has registered are absent. */
  async entitiesByMatchKey(tenantId: string, entityType: string, keys: string[]): Promise<Map<string, string>> {
    if (keys.length === 0) return new Map();
    const { rows } = await this.client.query<{ match_key: string; entity_id: string }>(
      `SELECT match_key, entity_id::text FROM tandem_match_keys
       WHERE tenant_id = $1 AND entity_type = $2 AND match_key = ANY($3::text[])`,
      [tenantId, entityType, keys],
    );
    return new Map(rows.map((row) => [row.match_key, row.entity_id.toLowerCase()]));
  }

  /**
   * The entity each of these records of one system is linked to, or stood for until Tandem replaced
   * it there (`replaced`); records of neither are absent. One statement, so one snapshot: a relink
   * moves a record from its link to the replaced links in one transaction, and two reads could see
   * it in neither.
   */
  async standings(tenantId: string, entityType: string, systemId: string, recordIds: string[]): Promise<Map<string, RecordStanding>> {
    if (recordIds.length === 0) return new Map();
    return readStandings(this.client, { tenantId, entityType, systemId }, recordIds);
  }

  /** The entity each record of one system is linked to; unlinked records are absent. */
  async linkedEntities(tenantId: string, entityType: string, systemId: string, recordIds: string[]): Promise<Map<string, string>> {
    if (recordIds.length === 0) return new Map();
    return readLinks(this.client, { tenantId, entityType, systemId }, recordIds);
  }

  /** The record that stands for the entity in one system, or null when it has none there yet. */
  async recordIdFor(tenantId: string, entityType: string, systemId: string, entityId: string): Promise<string | null> {
    const { rows } = await this.client.query<{ record_id: string }>(
      `SELECT record_id FROM tandem_record_links
       WHERE tenant_id = $1 AND entity_type = $2 AND system_id = $3 AND entity_id = $4`,
      [tenantId, entityType, systemId, entityId],
    );
    return rows[0]?.record_id ?? null;
  }

  /** The record of each entity in one system, keyed like `entityIds`; entities with none there are absent. */
  async recordIdsFor(tenantId: string, entityType: string, systemId: string, entityIds: string[]): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    if (entityIds.length === 0) return found;
    const { rows } = await this.client.query<{ entity_id: string; record_id: string }>(
      `SELECT entity_id, record_id FROM tandem_record_links
       WHERE tenant_id = $1 AND entity_type = $2 AND system_id = $3 AND entity_id = ANY($4::uuid[])`,
      [tenantId, entityType, systemId, entityIds],
    );
    const byCanonicalId = new Map(entityIds.map((id) => [id.toLowerCase(), id]));
    for (const row of rows) found.set(byCanonicalId.get(row.entity_id) ?? row.entity_id, row.record_id);
    return found;
  }

  /** Every linked record of each entity; entities without links are absent. */
  async linksOf(tenantId: string, entityIds: string[]): Promise<Map<string, RecordLink[]>> {
    const links = new Map<string, RecordLink[]>();
    if (entityIds.length === 0) return links;
    const { rows } = await this.client.query<{
      entity_id: string;
      entity_type: string;
      system_id: string;
      record_id: string;
    }>(
      `SELECT entity_id, entity_type, system_id, record_id FROM tandem_record_links
       WHERE tenant_id = $1 AND entity_id = ANY($2::uuid[])
       ORDER BY entity_id, system_id`,
      [tenantId, entityIds],
    );
    const byCanonicalId = new Map(entityIds.map((id) => [id.toLowerCase(), id]));
    for (const row of rows) {
      const entityId = byCanonicalId.get(row.entity_id) ?? row.entity_id;
      const list = links.get(entityId) ?? [];
      list.push({ entityType: row.entity_type, systemId: row.system_id, recordId: row.record_id });
      links.set(entityId, list);
    }
    return links;
  }
}

interface Scope {
  tenantId: string;
  entityType: string;
  systemId: string;
}

async function resolveInTransaction(
  tx: SqlClient,
  scope: Scope,
  records: Map<string, string | null>,
): Promise<Map<string, ResolvedIdentity>> {
  const resolved = new Map<string, ResolvedIdentity>();
  const linked = new Map<string, string>();
  for (const [recordId, { entityId, replaced }] of await readStandings(tx, scope, [...records.keys()])) {
    resolved.set(recordId, { entityId, created: false, matched: false });
    // A record Tandem replaced keeps its entity and registers nothing: the new record speaks for it.
    if (replaced) records.delete(recordId);
    else linked.set(recordId, entityId);
  }

  const keyed = await registerMatchKeys(tx, scope, records, linked);

  // Decide an entity for every unlinked record; a keyed entity is taken at most once per system.
  const candidates = [...records].flatMap(([recordId, key]) => {
    const entry = key === null || linked.has(recordId) ? undefined : keyed.get(key);
    return entry ? [entry.entityId] : [];
  });
  const taken = await entitiesLinkedInSystem(tx, scope, candidates);
  const pending = new Map<string, Attempt>();
  for (const [recordId, key] of records) {
    if (linked.has(recordId)) continue;
    const entry = key === null ? undefined : keyed.get(key);
    if (key !== null && entry && !taken.has(entry.entityId)) {
      taken.add(entry.entityId);
      pending.set(recordId, {
        identity: { entityId: entry.entityId, created: entry.createdHere, matched: !entry.createdHere },
        createdKey: entry.createdHere ? key : null,
      });
    } else {
      pending.set(recordId, freshAttempt());
    }
  }

  for (let round = 1; pending.size > 0; round += 1) {
    if (round > MAX_LINK_ROUNDS) {
      throw new StateError(
        StateErrorCode.IdentityContention,
        `could not link ${pending.size} ${scope.systemId} record(s) after ${MAX_LINK_ROUNDS} rounds: ` +
          [...pending.keys()].slice(0, 10).join(', '),
      );
    }
    for (const recordId of await insertLinks(tx, scope, pending)) {
      const attempt = pending.get(recordId);
      if (attempt) resolved.set(recordId, attempt.identity);
      pending.delete(recordId);
    }
    if (pending.size === 0) break;
    // What collided was committed by a concurrent resolver: either the record itself is linked now
    // (adopt its entity), or the chosen entity got another record of this system (start a new one).
    const nowLinked = await readLinks(tx, scope, [...pending.keys()]);
    const repoints: Repoint[] = [];
    for (const [recordId, attempt] of pending) {
      const entityId = nowLinked.get(recordId);
      if (entityId === undefined) {
        pending.set(recordId, freshAttempt());
        continue;
      }
      if (attempt.createdKey !== null) {
        repoints.push({ key: attempt.createdKey, from: attempt.identity.entityId, to: entityId });
      }
      resolved.set(recordId, { entityId, created: false, matched: false });
      pending.delete(recordId);
    }
    await repointMatchKeys(tx, scope, repoints);
  }
  return resolved;
}

interface Attempt {
  identity: ResolvedIdentity;
  /** The match key this resolver registered for the attempted entity, if it did. */
  createdKey: string | null;
}

function freshAttempt(): Attempt {
  return { identity: { entityId: randomUUID(), created: true, matched: false }, createdKey: null };
}

async function lockLinksOf(tx: SqlClient, scope: Scope): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))', [scope.tenantId, `${scope.entityType}/${scope.systemId}`]);
}

async function readStandings(tx: SqlClient, scope: Scope, recordIds: string[]): Promise<Map<string, RecordStanding>> {
  const { rows } = await tx.query<{ record_id: string; entity_id: string; replaced: boolean }>(
    `SELECT record_id, entity_id::text, true AS replaced FROM tandem_replaced_links
     WHERE tenant_id = $1 AND entity_type = $2 AND system_id = $3 AND record_id = ANY($4::text[])
     UNION ALL
     SELECT record_id, entity_id::text, false FROM tandem_record_links
     WHERE tenant_id = $1 AND entity_type = $2 AND system_id = $3 AND record_id = ANY($4::text[])`,
    [scope.tenantId, scope.entityType, scope.systemId, recordIds],
  );
  return new Map(rows.map((row) => [row.record_id, { entityId: row.entity_id, replaced: row.replaced }]));
}

async function readLinks(tx: SqlClient, scope: Scope, recordIds: string[]): Promise<Map<string, string>> {
  const { rows } = await tx.query<{ record_id: string; entity_id: string }>(
    `SELECT record_id, entity_id FROM tandem_record_links
     WHERE tenant_id = $1 AND entity_type = $2 AND system_id = $3 AND record_id = ANY($4::text[])`,
    [scope.tenantId, scope.entityType, scope.systemId, recordIds],
  );
  return new Map(rows.map((row) => [row.record_id, row.entity_id]));
}

/**
 * Registers every match key of the batch, proposing the record's linked entity or a fresh one, and
 * reads back who owns each key an unlinked record carries. Insert-then-select (not a single statement) because a concurrent
 * winner's row only becomes visible to the next statement.
 */
async function registerMatchKeys(
  tx: SqlClient,
  scope: Scope,
  records: Map<string, string | null>,
  linked: Map<string, string>,
): Promise<Map<string, { entityId: string; createdHere: boolean }>> {
  const proposals = new Map<string, { entityId: string; fresh: boolean }>();
  for (const [recordId, key] of records) {
    if (key === null) continue;
    const linkedEntity = linked.get(recordId);
    // Keys of already linked records are registered too, so a record that only later gained an email
    // is still found by the other systems.
    if (linkedEntity !== undefined) proposals.set(key, { entityId: linkedEntity, fresh: false });
    else if (!proposals.has(key)) proposals.set(key, { entityId: randomUUID(), fresh: true });
  }
  const keyed = new Map<string, { entityId: string; createdHere: boolean }>();
  if (proposals.size === 0) return keyed;
  // Sorted so two batches sharing keys take their row locks in the same order.
  const keys = [...proposals.keys()].sort();
  const proposedEntities = keys.map((key) => proposals.get(key)?.entityId ?? null);
  const inserted = await tx.query<{ match_key: string }>(
    `INSERT INTO tandem_match_keys (tenant_id, entity_type, match_key, entity_id)
     SELECT $1, $2, k.match_key, k.entity_id FROM unnest($3::text[], $4::uuid[]) AS k(match_key, entity_id)
     ON CONFLICT DO NOTHING
     RETURNING match_key`,
    [scope.tenantId, scope.entityType, keys, proposedEntities],
  );
  // A key this statement inserted belongs to what it proposed; only the others are read back.
  const insertedKeys = new Set(inserted.rows.map((row) => row.match_key));
  for (const key of insertedKeys) {
    const { entityId, fresh } = proposals.get(key)!;
    keyed.set(key, { entityId, createdHere: fresh });
  }
  // A key only linked records carry (every update of a known record) is registered, not read back.
  const wanted = new Set([...records].flatMap(([recordId, key]) => (key === null || linked.has(recordId) ? [] : [key])));
  const registered = keys.filter((key) => !insertedKeys.has(key) && wanted.has(key));
  if (registered.length === 0) return keyed;
  const { rows } = await tx.query<{ match_key: string; entity_id: string }>(
    `SELECT match_key, entity_id FROM tandem_match_keys
     WHERE tenant_id = $1 AND entity_type = $2 AND match_key = ANY($3::text[])`,
    [scope.tenantId, scope.entityType, registered],
  );
  for (const row of rows) keyed.set(row.match_key, { entityId: row.entity_id, createdHere: false });
  return keyed;
}

async function entitiesLinkedInSystem(tx: SqlClient, scope: Scope, entityIds: string[]): Promise<Set<string>> {
  if (entityIds.length === 0) return new Set();
  const { rows } = await tx.query<{ entity_id: string }>(
    `SELECT entity_id FROM tandem_record_links
     WHERE tenant_id = $1 AND entity_type = $2 AND system_id = $3 AND entity_id = ANY($4::uuid[])`,
    [scope.tenantId, scope.entityType, scope.systemId, entityIds],
  );
  return new Set(rows.map((row) => row.entity_id));
}

/** Inserts the links that collide with nothing; returns the record ids that were linked. */
async function insertLinks(tx: SqlClient, scope: Scope, pending: Map<string, Attempt>): Promise<string[]> {
  const sorted = [...pending].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const { rows } = await tx.query<{ record_id: string }>(
    `INSERT INTO tandem_record_links (tenant_id, entity_type, system_id, record_id, entity_id)
     SELECT $1, $2, $3, l.record_id, l.entity_id FROM unnest($4::text[], $5::uuid[]) AS l(record_id, entity_id)
     ON CONFLICT DO NOTHING
     RETURNING record_id`,
    [
      scope.tenantId,
      scope.entityType,
      scope.systemId,
      sorted.map(([recordId]) => recordId),
      sorted.map(([, attempt]) => attempt.identity.entityId),
    ],
  );
  return rows.map((row) => row.record_id);
}

interface Repoint {
  key: string;
  from: string;
  to: string;
}

/**
 * These keys were registered in this transaction for entities that lost the race for their record:
 * point them at the entity the record really belongs to, so later matches do not land on an orphan.
 */
async function repointMatchKeys(tx: SqlClient, scope: Scope, repoints: Repoint[]): Promise<void> {
  if (repoints.length === 0) return;
  await tx.query(
    `UPDATE tandem_match_keys m SET entity_id = r.to_entity
     FROM unnest($3::text[], $4::uuid[], $5::uuid[]) AS r(match_key, from_entity, to_entity)
     WHERE m.tenant_id = $1 AND m.entity_type = $2 AND m.match_key = r.match_key AND m.entity_id = r.from_entity`,
    [
      scope.tenantId,
      scope.entityType,
      repoints.map((r) => r.key),
      repoints.map((r) => r.from),
      repoints.map((r) => r.to),
    ],
  );
}
