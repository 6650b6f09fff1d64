import type { SqlClient } from './sql-client.interface';
import { toIsoTime, toSafeNumber } from './sql-value.util';

/** One record that could not be synced, kept so a person can see why and redrive it. */
export interface RecordErrorEntry {
  tenantId: string;
  systemId: string;
  entityId: string | null;
  recordId: string | null;
  commandId: string | null;
  /** Stable machine-readable reason, e.g. `apply_rejected`. */
  code: string;
  message: string;
  /** What is needed to retry, e.g. the original message. */
  payload: unknown;
}

export interface StoredRecordError extends RecordErrorEntry {
  id: number;
  createdAt: string;
  redrivenAt: string | null;
}

export interface RecordErrorQuery {
  tenantId: string;
  systemId?: string;
  limit: number;
}

export class RecordErrorRepository {
  constructor(private readonly client: SqlClient) {}

  /** One statement for the batch; returns the new ids in input order. */
  async record(errors: RecordErrorEntry[]): Promise<number[]> {
    if (errors.length === 0) return [];
    const payload = JSON.stringify(
      errors.map((e, ordinal) => ({
        ordinal,
        tenant_id: e.tenantId,
        system_id: e.systemId,
        entity_id: e.entityId,
        record_id: e.recordId,
        command_id: e.commandId,
        code: e.code,
        message: e.message,
        payload: e.payload ?? null,
      })),
    );
    const { rows } = await this.client.query<{ id: string }>(
      `INSERT INTO tandem_record_errors (tenant_id, system_id, entity_id, record_id, command_id, code, message, payload)
       SELECT r.tenant_id, r.system_id, r.entity_id, r.record_id, r.command_id, r.code, r.message, r.payload
       FROM jsonb_to_recordset($1::jsonb) AS r(
         ordinal int, tenant_id text, system_id text, entity_id uuid, record_id text, command_id text, code text,
         message text, payload jsonb
       )
       ORDER BY r.ordinal
       RETURNING id`,
      [payload],
    );
    // Serial ids are drawn in insertion order, which follows the ORDER BY.
    return rows.map((row) => toSafeNumber(row.id)).sort((a, b) => a - b);
  }

  /**
   * The errors logged for these commands of one system and not redriven, by command id: a command
   * delivered again after its failure was answered gets the same answer, not a second attempt.
   */
  async unredrivenByCommand(tenantId: string, systemId: string, commandIds: string[]): Promise<Map<string, Pick<RecordErrorEntry, 'recordId' | 'code' | 'message'>>> {
    if (commandIds.length === 0) return new Map();
    const { rows } = await this.client.query<{ command_id: string; record_id: string | null; code: string; message: string }>(
      `SELECT DISTINCT ON (command_id) command_id, record_id, code, message FROM tandem_record_errors
       WHERE tenant_id = $1 AND system_id = $2 AND command_id = ANY($3::text[]) AND redriven_at IS NULL
       ORDER BY command_id, id DESC`,
      [tenantId, systemId, commandIds],
    );
    return new Map(rows.map((row) => [row.command_id, { recordId: row.record_id, code: row.code, message: row.message }]));
  }

  /** Newest first, redriven ones included (with `redrivenAt` set). */
  async list(query: RecordErrorQuery): Promise<StoredRecordError[]> {
    const params: unknown[] = [query.tenantId];
    let where = 'tenant_id = $1';
    if (query.systemId !== undefined) {
      params.push(query.systemId);
      where += ` AND system_id = $${params.length}`;
    }
    params.push(query.limit);
    const { rows } = await this.client.query<RecordErrorRow>(
      `SELECT id, tenant_id, system_id, entity_id, record_id, command_id, code, message, payload, created_at,
              redriven_at
       FROM tandem_record_errors WHERE ${where} ORDER BY id DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map((row) => ({
      id: toSafeNumber(row.id),
      tenantId: row.tenant_id,
      systemId: row.system_id,
      entityId: row.entity_id,
      recordId: row.record_id,
      commandId: row.command_id,
      code: row.code,
      message: row.message,
      payload: row.payload,
      createdAt: toIsoTime(row.created_at),
      redrivenAt: row.redriven_at === null ? null : toIsoTime(row.redriven_at),
    }));
  }

  /**
   * Marks errors of one tenant as redriven; ids of other tenants or already redriven ones are left
   * alone. Returns the ids it marked.
   */
  async markRedriven(tenantId: string, ids: number[]): Promise<number[]> {
    if (ids.length === 0) return [];
    const { rows } = await this.client.query<{ id: string }>(
      `UPDATE tandem_record_errors SET redriven_at = now()
       WHERE tenant_id = $1 AND id = ANY($2::bigint[]) AND redriven_at IS NULL
       RETURNING id`,
      [tenantId, ids],
    );
    return rows.map((row) => toSafeNumber(row.id)).sort((a, b) => a - b);
  }
}

interface RecordErrorRow {
  id: string;
  tenant_id: string;
  system_id: string;
  entity_id: string | null;
  record_id: string | null;
  command_id: string | null;
  code: string;
  message: string;
  payload: unknown;
  created_at: Date | string;
  redriven_at: Date | string | null;
}
