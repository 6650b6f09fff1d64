import type { SqlClient } from './sql-client.interface';
import { joinJsonValues, splitJsonValues } from './json-batch.util';
import { toIsoTime, toSafeNumber } from './sql-value.util';

/** Arbitrary but fixed: replicas pruning the sync log take turns under it. */
export const SYNC_LOG_PRUNE_LOCK_KEY = 7_406_120_032;

/** One sync action, e.g. `change.received`, `apply.sent`, `conflict.resolved`, with its details. */
export interface SyncLogEntry {
  tenantId: string;
  entityId: string | null;
  systemId: string | null;
  action: string;
  detail: Record<string, unknown>;
}

export interface StoredSyncLogEntry extends SyncLogEntry {
  id: number;
  at: string;
}

/** What one pruning run removes: entries logged before `cutoff`, and only those before entry `beforeId`. */
export interface PruneBounds {
  cutoff: string;
  /**
   * The first entry logged at or after the cutoff (null: none is). Ids follow time closely, so the
   * oldest entries are found by walking the primary key up to it, where a search on time alone
   * would read the whole table once the old ones are gone.
   */
  beforeId: number | null;
}

/** The structured log of every sync action, read per entity to explain what happened to a record. */
export class SyncLogRepository {
  constructor(private readonly client: SqlClient) {}

  /** One statement for the batch, stored in the given order. */
  async append(entries: SyncLogEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.client.query(
      `INSERT INTO tandem_sync_log (tenant_id, entity_id, system_id, action, detail)
       SELECT r.tenant_id, r.entity_id, r.system_id, r.action, r.detail::jsonb
       FROM unnest($1::text[], $2::uuid[], $3::text[], $4::text[], ${splitJsonValues(5)}) WITH ORDINALITY
         AS r(tenant_id, entity_id, system_id, action, detail, ordinal)
       ORDER BY r.ordinal`,
      [
        entries.map((e) => e.tenantId),
        entries.map((e) => e.entityId),
        entries.map((e) => e.systemId),
        entries.map((e) => e.action),
        joinJsonValues(entries.map((e) => e.detail)),
      ],
    );
  }

  /** The bounds of a run removing the entries older than `retentionDays` days, taken at the server's time. */
  async pruneBounds(retentionDays: number): Promise<PruneBounds> {
    const { rows } = await this.client.query<{ cutoff: Date | string; before_id: string | null }>(
      `SELECT c.cutoff, (SELECT id FROM tandem_sync_log WHERE at >= c.cutoff ORDER BY id LIMIT 1) AS before_id
       FROM (SELECT now() - make_interval(days => $1::int) AS cutoff) AS c`,
      [retentionDays],
    );
    const row = rows[0]!;
    return { cutoff: toIsoTime(row.cutoff), beforeId: row.before_id === null ? null : toSafeNumber(row.before_id) };
  }

  /**
   * Deletes up to `limit` of the oldest entries within `bounds`, in a transaction of its own that
   * holds the prune lock. Returns how many went, or null when another replica holds the lock.
   */
  async pruneChunk(bounds: PruneBounds, limit: number): Promise<number | null> {
    return this.client.transaction(async (tx) => {
      const { rows } = await tx.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS locked', [SYNC_LOG_PRUNE_LOCK_KEY]);
      if (!rows[0]?.locked) return null;
      const { rowCount } = await tx.query(
        `DELETE FROM tandem_sync_log WHERE id IN (
           SELECT id FROM tandem_sync_log
           WHERE id < COALESCE($2::bigint, 9223372036854775807) AND at < $1::timestamptz
           ORDER BY id LIMIT $3::int)`,
        [bounds.cutoff, bounds.beforeId, limit],
      );
      return rowCount;
    });
  }

  /** Newest first. */
  async forEntity(tenantId: string, entityId: string, limit: number): Promise<StoredSyncLogEntry[]> {
    const { rows } = await this.client.query<{
      id: string;
      tenant_id: string;
      entity_id: string | null;
      system_id: string | null;
      action: string;
      detail: Record<string, unknown>;
      at: Date | string;
    }>(
      `SELECT id, tenant_id, entity_id, system_id, action, detail, at FROM tandem_sync_log
       WHERE tenant_id = $1 AND entity_id = $2::uuid
       ORDER BY id DESC LIMIT $3`,
      [tenantId, entityId, limit],
    );
    return rows.map((row) => ({
      id: toSafeNumber(row.id),
      tenantId: row.tenant_id,
      entityId: row.entity_id,
      systemId: row.system_id,
      action: row.action,
      detail: row.detail,
      at: toIsoTime(row.at),
    }));
  }
}
