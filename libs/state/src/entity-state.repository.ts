import type { SqlClient } from './sql-client.interface';
import { joinJsonValues, splitJsonValues } from './json-batch.util';
import { toSafeNumber } from './sql-value.util';
import { StaleStateError, StateError, StateErrorCode } from './state.error';

export interface LoadedEntityState<S> {
  state: S;
  /** Pass back as `expectedRev` when saving. */
  rev: number;
}

export interface EntityStateWrite<S> {
  tenantId: string;
  entityId: string;
  entityType: string;
  version: number;
  deleted: boolean;
  state: S;
  /** The rev this state was loaded at, or null for an entity not stored yet. */
  expectedRev: number | null;
}

/**
 * The reconciler's canonical state per entity, stored as JSON. `S` is opaque here: this library
 * stores it, the reconciler gives it meaning.
 */
export class EntityStateRepository<S> {
  constructor(private readonly client: SqlClient) {}

  /** One query for the whole batch; entities not stored yet are absent from the map. */
  async loadMany(tenantId: string, entityIds: string[]): Promise<Map<string, LoadedEntityState<S>>> {
    const found = new Map<string, LoadedEntityState<S>>();
    if (entityIds.length === 0) return found;
    const { rows } = await this.client.query<{ entity_id: string; state: S; rev: string }>(
      `SELECT entity_id, state, rev FROM tandem_entities WHERE tenant_id = $1 AND entity_id = ANY($2::uuid[])`,
      [tenantId, entityIds],
    );
    const byCanonicalId = new Map(entityIds.map((id) => [id.toLowerCase(), id]));
    for (const row of rows) {
      found.set(byCanonicalId.get(row.entity_id) ?? row.entity_id, { state: row.state, rev: toSafeNumber(row.rev) });
    }
    return found;
  }

  /**
   * Writes the batch in one statement, each row only if its stored rev still equals `expectedRev`
   * (or, for `expectedRev: null`, only if the entity does not exist yet). If any row does not match,
   * nothing of the batch is kept and `StaleStateError` names those entities. Pass the transaction
   * client so the save commits together with the rest of the batch's work.
   *
   * Returns the new rev of every entity.
   */
  async saveMany(rows: EntityStateWrite<S>[]): Promise<Map<string, number>> {
    const revs = new Map<string, number>();
    if (rows.length === 0) return revs;
    const keyOf = (tenantId: string, entityId: string): string => `${tenantId}\u0000${entityId.toLowerCase()}`;
    // Only these keys are kept while the statement runs: the states, serialized into `params`, can
    // then be collected young instead of outliving a scavenge (a seventh of what the reconciler's
    // collector promoted).
    const keys = rows.map((row) => [row.entityId, keyOf(row.tenantId, row.entityId)] as const);
    const distinct = new Set<string>();
    for (const [entityId, key] of keys) {
      if (distinct.has(key)) throw new StateError(StateErrorCode.DuplicateRow, `entity ${entityId} appears twice in one save`);
      distinct.add(key);
    }
    const params = [
      rows.map((row) => row.tenantId),
      rows.map((row) => row.entityId),
      rows.map((row) => row.entityType),
      rows.map((row) => row.version),
      rows.map((row) => row.deleted),
      joinJsonValues(rows.map((row) => row.state)),
      rows.map((row) => row.expectedRev),
    ];
    // The new rev is expected + 1 (1 for a new entity), so "stored rev = new rev - 1" is the whole
    // optimistic check, and a new entity that already exists (stored rev >= 1) never matches.
    const sql = `
      INSERT INTO tandem_entities AS e (tenant_id, entity_id, entity_type, version, deleted, state, rev, updated_at)
      SELECT r.tenant_id, r.entity_id, r.entity_type, r.version, r.deleted, r.state::json,
             COALESCE(r.expected_rev, 0) + 1, now()
      FROM unnest($1::text[], $2::uuid[], $3::text[], $4::bigint[], $5::boolean[], ${splitJsonValues(6)}, $7::bigint[])
        AS r(tenant_id, entity_id, entity_type, version, deleted, state, expected_rev)
      WHERE r.expected_rev IS NULL
         OR EXISTS (SELECT 1 FROM tandem_entities x WHERE x.tenant_id = r.tenant_id AND x.entity_id = r.entity_id)
      -- A fixed order keeps two overlapping batches from deadlocking on each other's rows.
      ORDER BY r.tenant_id, r.entity_id
      ON CONFLICT (tenant_id, entity_id) DO UPDATE
        SET version = excluded.version, deleted = excluded.deleted, state = excluded.state,
            rev = excluded.rev, updated_at = excluded.updated_at
        WHERE e.rev = excluded.rev - 1
      RETURNING e.tenant_id, e.entity_id, e.rev`;
    return this.client.transaction(async (tx) => {
      const result = await tx.query<{ tenant_id: string; entity_id: string; rev: string }>(sql, params);
      const written = new Map(result.rows.map((row) => [keyOf(row.tenant_id, row.entity_id), toSafeNumber(row.rev)]));
      const stale: string[] = [];
      for (const [entityId, key] of keys) {
        const rev = written.get(key);
        if (rev === undefined) stale.push(entityId);
        else revs.set(entityId, rev);
      }
      // Throwing inside the (nested) transaction rolls back the rows that did match.
      if (stale.length > 0) throw new StaleStateError(stale);
      return revs;
    });
  }
}
