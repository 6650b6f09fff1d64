import type { ConflictRecord } from '@tandem/contracts';
import type { SqlClient } from './sql-client.interface';
import { toIsoTime } from './sql-value.util';

type ConflictData = ConflictRecord['data'];

/** A conflict as the reconciler reports it: the message data plus its tenant and time. */
export type ConflictEntry = ConflictData & { tenantId: string; occurredAt: string };

export interface StoredConflict extends ConflictEntry {
  recordedAt: string;
  updatedAt: string;
}

export interface ConflictQuery {
  tenantId: string;
  status?: ConflictData['status'];
  entityId?: string;
  limit: number;
}

/**
 * The conflict log: every conflict with both sides, the rule that decided it and when, so no
 * overwritten value is lost. A conflict recorded as pending and decided later is one row, updated.
 */
export class ConflictLogRepository {
  constructor(private readonly client: SqlClient) {}

  /**
   * Upserts by conflict id in one statement. A redelivered "pending" never reopens a conflict that
   * was already resolved; a later resolution (a person reversing a decision) does replace the outcome.
   */
  async record(conflicts: ConflictEntry[]): Promise<void> {
    if (conflicts.length === 0) return;
    const latest = new Map<string, ConflictEntry>();
    for (const conflict of conflicts) {
      const earlier = latest.get(conflict.conflictId);
      if (earlier?.status === 'resolved' && conflict.status === 'pending') continue;
      latest.set(conflict.conflictId, conflict);
    }
    const payload = JSON.stringify(
      [...latest.values()].map((c) => ({
        conflict_id: c.conflictId,
        tenant_id: c.tenantId,
        entity_type: c.entityType,
        entity_id: c.entityId,
        field: c.field,
        kind: c.kind,
        risk: c.risk,
        strategy: c.strategy,
        status: c.status,
        sides: c.sides,
        outcome: c.outcome,
        decided_by: c.decidedBy,
        occurred_at: c.occurredAt,
      })),
    );
    await this.client.query(
      `INSERT INTO tandem_conflicts AS c (
         conflict_id, tenant_id, entity_type, entity_id, field, kind, risk, strategy, status, sides, outcome,
         decided_by, occurred_at
       )
       SELECT r.conflict_id, r.tenant_id, r.entity_type, r.entity_id, r.field, r.kind, r.risk, r.strategy, r.status,
              r.sides, r.outcome, r.decided_by, r.occurred_at
       FROM jsonb_to_recordset($1::jsonb) AS r(
         conflict_id text, tenant_id text, entity_type text, entity_id uuid, field text, kind text, risk text,
         strategy text, status text, sides jsonb, outcome jsonb, decided_by text, occurred_at timestamptz
       )
       ORDER BY r.conflict_id
       ON CONFLICT (conflict_id) DO UPDATE
         SET risk = excluded.risk, strategy = excluded.strategy, status = excluded.status, sides = excluded.sides,
             outcome = excluded.outcome, decided_by = excluded.decided_by, updated_at = now()
         WHERE NOT (c.status = 'resolved' AND excluded.status = 'pending')`,
      [payload],
    );
  }

  /** Newest first. */
  async list(query: ConflictQuery): Promise<StoredConflict[]> {
    const params: unknown[] = [query.tenantId];
    const filters = ['tenant_id = $1'];
    if (query.status !== undefined) {
      params.push(query.status);
      filters.push(`status = $${params.length}`);
    }
    if (query.entityId !== undefined) {
      params.push(query.entityId);
      filters.push(`entity_id = $${params.length}::uuid`);
    }
    params.push(query.limit);
    const { rows } = await this.client.query<ConflictRow>(
      `SELECT ${COLUMNS} FROM tandem_conflicts WHERE ${filters.join(' AND ')}
       ORDER BY occurred_at DESC, conflict_id LIMIT $${params.length}`,
      params,
    );
    return rows.map(toConflict);
  }

  async get(conflictId: string): Promise<StoredConflict | null> {
    const { rows } = await this.client.query<ConflictRow>(
      `SELECT ${COLUMNS} FROM tandem_conflicts WHERE conflict_id = $1`,
      [conflictId],
    );
    const [row] = rows;
    return row ? toConflict(row) : null;
  }
}

const COLUMNS = `conflict_id, tenant_id, entity_type, entity_id, field, kind, risk, strategy, status, sides, outcome,
  decided_by, occurred_at, recorded_at, updated_at`;

interface ConflictRow {
  conflict_id: string;
  tenant_id: string;
  entity_type: ConflictData['entityType'];
  entity_id: string;
  field: string | null;
  kind: ConflictData['kind'];
  risk: ConflictData['risk'];
  strategy: ConflictData['strategy'];
  status: ConflictData['status'];
  sides: ConflictData['sides'];
  outcome: ConflictData['outcome'];
  decided_by: string | null;
  occurred_at: Date | string;
  recorded_at: Date | string;
  updated_at: Date | string;
}

function toConflict(row: ConflictRow): StoredConflict {
  return {
    conflictId: row.conflict_id,
    tenantId: row.tenant_id,
    entityType: row.entity_type,
    entityId: row.entity_id,
    field: row.field,
    kind: row.kind,
    risk: row.risk,
    strategy: row.strategy,
    status: row.status,
    sides: row.sides,
    outcome: row.outcome,
    decidedBy: row.decided_by,
    occurredAt: toIsoTime(row.occurred_at),
    recordedAt: toIsoTime(row.recorded_at),
    updatedAt: toIsoTime(row.updated_at),
  };
}
