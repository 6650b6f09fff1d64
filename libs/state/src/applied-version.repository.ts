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
}

/**
 * The newest command version an applier wrote per entity, for targets that cannot keep it with the
 * write itself (an API): a redelivered older command is then known as stale rather than written
 * over newer edits.
 */
export class AppliedVersionRepository {
  constructor(private readonly client: SqlClient) {}

  /** Per entity id (lower-case), the newest version written to the system; unknown entities are absent. */
  async newest(tenantId: string, systemId: string, entityIds: string[]): Promise<Map<string, Omit<AppliedVersion, 'tenantId' | 'entityId'>>> {
    if (entityIds.length === 0) return new Map();
    const { rows } = await this.client.query<{ entity_id: string; version: string; record_id: string | null; position: string | null }>(
      `SELECT entity_id::text, version, record_id, position FROM tandem_applied_versions
       WHERE tenant_id = $1 AND system_id = $2 AND entity_id = ANY($3::uuid[])`,
      [tenantId, systemId, entityIds],
    );
    return new Map(rows.map((row) => [row.entity_id.toLowerCase(), { version: toSafeNumber(row.version), recordId: row.record_id, position: row.position }]));
  }

  /** Raises each entity's newest version (with its record and position); a lower one never replaces a higher one. */
  async record(systemId: string, versions: AppliedVersion[]): Promise<void> {
    if (versions.length === 0) return;
    const newest = new Map<string, AppliedVersion>();
    for (const entry of versions) {
      const key = `${entry.tenantId}\u0000${entry.entityId.toLowerCase()}`;
      if ((newest.get(key)?.version ?? 0) < entry.version) newest.set(key, entry);
    }
    // Sorted so that two appliers writing overlapping batches take their row locks in one order.
    const rows = [...newest.values()].sort((a, b) => (a.tenantId + a.entityId < b.tenantId + b.entityId ? -1 : 1));
    await this.client.query(
      `INSERT INTO tandem_applied_versions AS v (tenant_id, system_id, entity_id, version, record_id, position)
       SELECT n.tenant_id, $1, n.entity_id, n.version, n.record_id, n.position
       FROM unnest($2::text[], $3::uuid[], $4::bigint[], $5::text[], $6::text[]) AS n(tenant_id, entity_id, version, record_id, position)
       ON CONFLICT (tenant_id, system_id, entity_id) DO UPDATE
       SET version = GREATEST(v.version, excluded.version),
           record_id = CASE WHEN excluded.version >= v.version THEN excluded.record_id ELSE v.record_id END,
           position = CASE WHEN excluded.version >= v.version THEN excluded.position ELSE v.position END`,
      [systemId, rows.map((row) => row.tenantId), rows.map((row) => row.entityId), rows.map((row) => row.version), rows.map((row) => row.recordId), rows.map((row) => row.position)],
    );
  }
}
