import type { SqlClient } from './sql-client.interface';
import { joinJsonValues, splitJsonValues } from './json-batch.util';
import { toIsoTime, toSafeNumber } from './sql-value.util';

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
