import type { SqlClient } from './sql-client.interface';
import { toSafeNumber } from './sql-value.util';

export interface SourceRecord {
  recordId: string;
  modifiedAtMs: number;
  deleted: boolean;
  values: Record<string, unknown>;
}

/** The last state a notice-driven source reported of each record. */
export class SourceRecordRepository {
  constructor(private readonly client: SqlClient) {}

  async load(tenantId: string, systemId: string, recordIds: string[]): Promise<Map<string, SourceRecord>> {
    if (recordIds.length === 0) return new Map();
    const { rows } = await this.client.query<{
      record_id: string;
      modified_at_ms: string;
      deleted: boolean;
      record_values: Record<string, unknown>;
    }>(
      `SELECT record_id, modified_at_ms, deleted, record_values FROM tandem_source_records
       WHERE tenant_id = $1 AND system_id = $2 AND record_id = ANY($3::text[])`,
      [tenantId, systemId, recordIds],
    );
    return new Map(
      rows.map((row) => [
        row.record_id,
        { recordId: row.record_id, modifiedAtMs: toSafeNumber(row.modified_at_ms), deleted: row.deleted, values: row.record_values },
      ]),
    );
  }

  /** Stores each record unless what is stored is newer, so a late writer never moves a record back. */
  async save(tenantId: string, systemId: string, records: SourceRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.client.query(
      `INSERT INTO tandem_source_records AS r (tenant_id, system_id, record_id, modified_at_ms, deleted, record_values)
       SELECT $1, $2, n.record_id, n.modified_at_ms, n.deleted, n.record_values
       FROM json_to_recordset($3::json) AS n(record_id text, modified_at_ms bigint, deleted boolean, record_values json)
       ON CONFLICT (tenant_id, system_id, record_id) DO UPDATE
         SET modified_at_ms = excluded.modified_at_ms, deleted = excluded.deleted, record_values = excluded.record_values
         WHERE r.modified_at_ms <= excluded.modified_at_ms`,
      [
        tenantId,
        systemId,
        JSON.stringify(
          records.map((record) => ({
            record_id: record.recordId,
            modified_at_ms: record.modifiedAtMs,
            deleted: record.deleted,
            record_values: record.values,
          })),
        ),
      ],
    );
  }
}
