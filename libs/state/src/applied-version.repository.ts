import type { SqlClient } from './sql-client.interface';
import { toSafeNumber } from './sql-value.util';

export interface AppliedVersion {
  tenantId: string;
  entityId: string;
  version: number;
  /** The record that version was written to there; null when it named none (a delete of nothing). */
  recordId: string | null;
  /** Where the write landed in the system's change order, where the system tells. */
  position: string | null;
  /** The version was a delete (of `recordId`). */
  deletes: boolean;
}

/** What an applier wrote last for an entity: its newest version, and its newest delete. */
export interface NewestWrites {
  version: number;
  recordId: string | null;
  position: string | null;
  lastDelete: { version: number; recordId: string | null; position: string | null } | null;
}

/**
 * The newest command version an applier wrote per entity, for targets that cannot keep it with the
 * write itself (an API): a redelivered older command is then known as stale rather than written
 * over newer edits.
 */
export class AppliedVersionRepository {
  constructor(private readonly client: SqlClient) {}

  /** Per entity id (lower-case), the newest version written to the system; unknown entities are absent. */
  async newest(tenantId: string, systemId: string, entityIds: string[]): Promise<Map<string, NewestWrites>> {
    if (entityIds.length === 0) return new Map();
    const { rows } = await this.client.query<{
      entity_id: string;
      version: string;
      record_id: string | null;
      position: string | null;
      delete_version: string | null;
      delete_record_id: string | null;
      delete_position: string | null;
    }>(
      `SELECT entity_id::text, version, record_id, position, delete_version, delete_record_id, delete_position FROM tandem_applied_versions
       WHERE tenant_id = $1 AND system_id = $2 AND entity_id = ANY($3::uuid[])`,
      [tenantId, systemId, entityIds],
    );
    return new Map(
      rows.map((row) => [
        row.entity_id.toLowerCase(),
        {
          version: toSafeNumber(row.version),
          recordId: row.record_id,
          position: row.position,
          lastDelete: row.delete_version === null ? null : { version: toSafeNumber(row.delete_version), recordId: row.delete_record_id, position: row.delete_position },
        },
      ]),
    );
  }

  /**
   * Raises each entity's newest version (with its record and position), and its newest delete; a
   * lower version never replaces a higher one.
   */
  async record(systemId: string, versions: AppliedVersion[]): Promise<void> {
    if (versions.length === 0) return;
    const newest = new Map<string, { entry: AppliedVersion; lastDelete: AppliedVersion | null }>();
    for (const entry of versions) {
      const key = `${entry.tenantId}\u0000${entry.entityId.toLowerCase()}`;
      const held = newest.get(key) ?? { entry, lastDelete: null };
      if (held.entry.version < entry.version) held.entry = entry;
      if (entry.deletes && (held.lastDelete?.version ?? 0) < entry.version) held.lastDelete = entry;
      newest.set(key, held);
    }
    // Sorted so that two appliers writing overlapping batches take their row locks in one order.
    const rows = [...newest.values()].sort((a, b) => (a.entry.tenantId + a.entry.entityId < b.entry.tenantId + b.entry.entityId ? -1 : 1));
    await this.client.query(
      `INSERT INTO tandem_applied_versions AS v (tenant_id, system_id, entity_id, version, record_id, position, delete_version, delete_record_id, delete_position)
       SELECT n.tenant_id, $1, n.entity_id, n.version, n.record_id, n.position, n.delete_version, n.delete_record_id, n.delete_position
       FROM unnest($2::text[], $3::uuid[], $4::bigint[], $5::text[], $6::text[], $7::bigint[], $8::text[], $9::text[])
         AS n(tenant_id, entity_id, version, record_id, position, delete_version, delete_record_id, delete_position)
       ON CONFLICT (tenant_id, system_id, entity_id) DO UPDATE
       SET version = GREATEST(v.version, excluded.version),
           record_id = CASE WHEN excluded.version >= v.version THEN excluded.record_id ELSE v.record_id END,
           position = CASE WHEN excluded.version >= v.version THEN excluded.position ELSE v.position END,
           delete_version = CASE WHEN excluded.delete_version >= COALESCE(v.delete_version, 0) THEN excluded.delete_version ELSE v.delete_version END,
           delete_record_id = CASE WHEN excluded.delete_version >= COALESCE(v.delete_version, 0) THEN excluded.delete_record_id ELSE v.delete_record_id END,
           delete_position = CASE WHEN excluded.delete_version >= COALESCE(v.delete_version, 0) THEN excluded.delete_position ELSE v.delete_position END`,
      [
        systemId,
        rows.map(({ entry }) => entry.tenantId),
        rows.map(({ entry }) => entry.entityId),
        rows.map(({ entry }) => entry.version),
        rows.map(({ entry }) => entry.recordId),
        rows.map(({ entry }) => entry.position),
        rows.map(({ lastDelete }) => lastDelete?.version ?? null),
        rows.map(({ lastDelete }) => lastDelete?.recordId ?? null),
        rows.map(({ lastDelete }) => lastDelete?.position ?? null),
      ],
    );
  }
}
