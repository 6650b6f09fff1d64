import type { SqlClient } from './sql-client.interface';
import { toSafeNumber } from './sql-value.util';

export interface SourceRecord {
  recordId: string;
  modifiedAtMs: number;
  deleted: boolean;
  values: Record<string, unknown>;
  /** Modification times of the states of this record already published, oldest first (a window). */
  reportedMs: number[];
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
      reported_ms: string[];
    }>(
      `SELECT record_id, modified_at_ms, deleted, record_values, reported_ms FROM tandem_source_records
       WHERE tenant_id = $1 AND system_id = $2 AND record_id = ANY($3::text[])`,
      [tenantId, systemId, recordIds],
    );
    return new Map(
      rows.map((row) => [
        row.record_id,
        {
          recordId: row.record_id,
          modifiedAtMs: toSafeNumber(row.modified_at_ms),
          deleted: row.deleted,
          values: row.record_values,
          reportedMs: row.reported_ms.map(toSafeNumber),
        },
      ]),
    );
  }

  /** Stores each record unless what is stored is newer, so a late writer never moves a record back. */
  async save(tenantId: string, systemId: string, records: SourceRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.client.query(
      `INSERT INTO tandem_source_records AS r (tenant_id, system_id, record_id, modified_at_ms, deleted, record_values, reported_ms)
       SELECT $1, $2, n.record_id, n.modified_at_ms, n.deleted, n.record_values, n.reported_ms
       FROM json_to_recordset($3::json) AS n(record_id text, modified_at_ms bigint, deleted boolean, record_values json, reported_ms bigint[])
       ON CONFLICT (tenant_id, system_id, record_id) DO UPDATE
         SET modified_at_ms = excluded.modified_at_ms, deleted = excluded.deleted, record_values = excluded.record_values,
             reported_ms = excluded.reported_ms
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
            reported_ms: record.reportedMs,
          })),
        ),
      ],
    );
  }
}
