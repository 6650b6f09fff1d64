import type { SqlClient } from './sql-client.interface';
import { joinJsonValues, splitJsonValues } from './json-batch.util';
import { toSafeNumber } from './sql-value.util';

/**
 * `record`: the notice carries the record as the source reported it (a poll or backfill page);
 * `changed` / `deleted`: it only says so (a webhook), and the record must be fetched.
 */
export type SourceNoticeKind = 'record' | 'changed' | 'deleted';

export interface SourceNotice {
  recordId: string;
  kind: SourceNoticeKind;
  /** The source's modification time of what the notice describes, where it says. */
  modifiedAtMs: number | null;
  values: Record<string, unknown> | null;
}

export interface StoredSourceNotice extends SourceNotice {
  id: string;
  /** How long ago it arrived, on the database's clock (the one that stamped it). */
  ageMs: number;
}

/** Notices waiting to become change events, in arrival order per system. */
export class SourceInboxRepository {
  constructor(private readonly client: SqlClient) {}

  async add(tenantId: string, systemId: string, notices: SourceNotice[]): Promise<void> {
    if (notices.length === 0) return;
    await this.client.query(
      `INSERT INTO tandem_source_inbox (tenant_id, system_id, record_id, kind, modified_at_ms, record_values)
       SELECT $1, $2, n.record_id, n.kind, n.modified_at_ms, NULLIF(n.record_values, 'null')::json
       FROM unnest($3::text[], $4::text[], $5::bigint[], ${splitJsonValues(6)}) WITH ORDINALITY AS n(record_id, kind, modified_at_ms, record_values, ordinal)
       ORDER BY n.ordinal`,
      [
        tenantId,
        systemId,
        notices.map((notice) => notice.recordId),
        notices.map((notice) => notice.kind),
        notices.map((notice) => notice.modifiedAtMs),
        joinJsonValues(notices.map((notice) => notice.values)),
      ],
    );
  }

  /** The oldest `limit` notices, without taking them: they stay until `remove`. */
  async peek(tenantId: string, systemId: string, limit: number): Promise<StoredSourceNotice[]> {
    const { rows } = await this.client.query<{
      id: string;
      record_id: string;
      kind: SourceNoticeKind;
      modified_at_ms: string | null;
      record_values: Record<string, unknown> | null;
      age_ms: string | number;
    }>(
      `SELECT id, record_id, kind, modified_at_ms, record_values,
              (extract(epoch FROM clock_timestamp() - received_at) * 1000)::bigint AS age_ms
       FROM tandem_source_inbox
       WHERE tenant_id = $1 AND system_id = $2 ORDER BY id LIMIT $3`,
      [tenantId, systemId, limit],
    );
    return rows.map((row) => ({
      id: String(row.id),
      recordId: row.record_id,
      kind: row.kind,
      modifiedAtMs: row.modified_at_ms === null ? null : toSafeNumber(row.modified_at_ms),
      values: row.record_values,
      ageMs: toSafeNumber(row.age_ms),
    }));
  }

  async remove(tenantId: string, systemId: string, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.client.query(
      `DELETE FROM tandem_source_inbox WHERE tenant_id = $1 AND system_id = $2 AND id = ANY($3::bigint[])`,
      [tenantId, systemId, ids],
    );
  }

  async count(tenantId: string, systemId: string): Promise<number> {
    const { rows } = await this.client.query<{ count: string }>(
      `SELECT count(*) AS count FROM tandem_source_inbox WHERE tenant_id = $1 AND system_id = $2`,
      [tenantId, systemId],
    );
    return toSafeNumber(rows[0]?.count ?? 0);
  }
}
