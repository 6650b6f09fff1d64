import { APPLIED_DDL } from './apply-statement.util';
import type { Pool, PoolClient } from 'pg';
import {
  CAPTURE_SCHEMA_DDL,
  captureTriggers,
  dropTriggerStatement,
  parseTriggerArgs,
} from './change-capture-ddl.util';
import { NotificationListener, type WaitResult } from './notification-listener.service';
import { runQuery, withTransaction } from './pg-client.util';
import { PostgresSystemError, PostgresSystemErrorCode } from './postgres-system.error';
import { parseTableConfig } from './table-config.util';
import type { PostgresTable, PostgresTableInput } from './postgres-table.schema';
import { changeChannel, quotedTableName, quoteIdentifier, quoteLiteral, tableKey } from './sql-identifier.util';
import { readTableColumns } from './table-columns.util';
import { prepareTandemSchema, retryOnContention } from './tandem-schema.util';

export type CapturedOperation = 'insert' | 'update' | 'delete' | 'snapshot';

/** One row of `tandem.changes`: a committed change (or snapshot copy) of one record of the watched table. */
export interface CapturedChange {
  /** `tandem.changes.seq` as a decimal string; per record, a later change has a larger sequence. */
  sequence: string;
  operation: CapturedOperation;
  /** The id column's value as text (as jsonb renders it). */
  recordId: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  changedAt: Date;
}

export interface SnapshotProgress {
  rowsDone: number;
  /** Row count when the snapshot started; set to `rowsDone` when it finishes. */
  rowsTotal: number;
}

export interface SnapshotResult extends SnapshotProgress {
  /** False when the snapshot stopped early because `signal` was aborted; call again to resume. */
  done: boolean;
}

export interface SnapshotOptions {
  chunkSize: number;
  /** Called after each chunk has committed; if it throws, the snapshot stops and resumes from there. */
  onProgress?: (progress: SnapshotProgress) => void | Promise<void>;
  /** Checked between chunks. */
  signal?: AbortSignal;
}

export interface PostgresChangeCaptureOptions {
  /** The watched database; owned by the caller, who also handles its idle-client `error` events. */
  pool: Pool;
  table: PostgresTableInput;
  /** Records LISTEN connection failures; waits degrade to their timeout until it is back. */
  onListenerError: (error: PostgresSystemError) => void;
  /** Least time between LISTEN reconnect attempts. Default 1000 ms. */
  listenerReconnectDelayMs?: number;
}

const OPERATIONS: ReadonlySet<string> = new Set<CapturedOperation>(['insert', 'update', 'delete', 'snapshot']);
const SEQUENCE_PATTERN = /^\d{1,19}$/;

interface ChangeRow {
  seq: string;
  op: string;
  record_id: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  changed_at: Date;
}

interface ProgressRow {
  last_id: string | null;
  rows_done: string;
  rows_total: string;
  done: boolean;
}

/**
 * Trigger-based change capture for one table. Changes are read in `seq` order and consumed by
 * deleting them once published, so a transaction that commits after later ones is read on a later
 * call instead of being skipped by a cursor. Per record the order is right: concurrent transactions
 * cannot modify the same row (row lock), so the later one takes a later `seq` and commits later.
 */
export class PostgresChangeCapture {
  /** The triggers skip the applier's transactions: no change read here is one of Tandem's writes. */
  readonly omitsTandemWrites = true;
  private readonly pool: Pool;
  private readonly table: PostgresTable;
  private readonly key: string;
  private readonly listener: NotificationListener;

  constructor(options: PostgresChangeCaptureOptions) {
    this.pool = options.pool;
    this.table = parseTableConfig(options.table);
    this.key = tableKey(this.table);
    this.listener = new NotificationListener({
      connection: { ...options.pool.options, application_name: 'tandem-change-listener' },
      channel: changeChannel(this.table),
      onError: options.onListenerError,
      reconnectDelayMs: options.listenerReconnectDelayMs ?? 1_000,
    });
  }

  /** Creates schema `tandem`, its tables and the capture triggers; safe to run on every start. */
  async install(): Promise<void> {
    await retryOnContention(() => withTransaction(this.pool, `installing change capture on ${this.key}`, async (client) => {
      await prepareTandemSchema(client);
      await readTableColumns(client, this.table, [this.table.idColumn]);
      for (const statement of CAPTURE_SCHEMA_DDL) {
        await runQuery(client, 'creating the change tables', statement);
      }
      // The applier's bookkeeping, read by entitiesWrittenByTandem, exists before either runs.
      await runQuery(client, 'creating tandem.applied', APPLIED_DDL);
      await this.installTriggers(client);
    }));
  }

  /** Up to `limit` committed, unacknowledged changes in `seq` order. Reading does not consume them. */
  async readBatch(limit: number): Promise<CapturedChange[]> {
    if (!Number.isInteger(limit) || limit < 1) {
      throw invalidArgument(`batch limit must be a positive integer, got ${limit}`);
    }
    const { rows } = await runQuery<ChangeRow>(
      this.pool,
      `reading changes of ${this.key}`,
      // Ordered by the qualified column: a bare `seq` would name the text output column and sort '10' before '9'.
      `SELECT c.seq::text AS seq, c.op, c.record_id, c.before, c.after, c.changed_at
         FROM tandem.changes AS c WHERE c.table_name = $1 ORDER BY c.seq LIMIT $2`,
      [this.key, limit],
    );
    return rows.map((row) => toCapturedChange(row));
  }

  /** Deletes changes the caller has durably published: this is the checkpoint. */
  async acknowledge(changes: ReadonlyArray<{ sequence: string }>): Promise<number> {
    const sequences = changes.map((change) => change.sequence);
    const invalid = sequences.find((sequence) => !SEQUENCE_PATTERN.test(sequence));
    if (invalid !== undefined) {
      throw invalidArgument(`not a change sequence: ${JSON.stringify(invalid)}`);
    }
    if (sequences.length === 0) return 0;
    const { rowCount } = await runQuery(
      this.pool,
      `acknowledging changes of ${this.key}`,
      'DELETE FROM tandem.changes WHERE table_name = $1 AND seq = ANY($2::bigint[])',
      [this.key, sequences],
    );
    return rowCount ?? 0;
  }

  /** Resolves when a change notification arrives, the timeout passes, or `signal` aborts. */
  waitForChanges(timeoutMs: number, signal?: AbortSignal): Promise<WaitResult> {
    return this.listener.wait(timeoutMs, signal);
  }

  /**
   * The entities of records Tandem's applier wrote in this table, read from `tandem.applied`, which
   * the applier writes in the same transaction as the row: a record Tandem created is known to be
   * its entity's from the moment it is visible, before any link could be written elsewhere.
   */
  async entitiesWrittenByTandem(recordIds: string[]): Promise<Map<string, string>> {
    const { rows } = await runQuery<{ record_id: string; entity_id: string }>(
      this.pool,
      `reading records written by Tandem in ${this.key}`,
      `SELECT record_id, entity_id::text FROM tandem.applied
       WHERE table_name = $1 AND record_id = ANY($2::text[])`,
      [this.key, recordIds],
    );
    return new Map(rows.map((row) => [row.record_id, row.entity_id]));
  }

  /** Unacknowledged changes of this table, for lag metrics. */
  async pendingCount(): Promise<number> {
    const { rows } = await runQuery<{ count: string }>(
      this.pool,
      `counting changes of ${this.key}`,
      'SELECT count(*) AS count FROM tandem.changes WHERE table_name = $1',
      [this.key],
    );
    return Number(rows[0]?.count ?? 0);
  }

  /**
   * Copies the rows that already exist into `tandem.changes` as `snapshot` changes, chunk by chunk in
   * id order, recording progress in the same transaction as each chunk so a restart resumes after the
   * last committed chunk and a finished snapshot is never repeated. Install first, so that changes
   * made during the snapshot are captured by the triggers.
   */
  async snapshot({ chunkSize, onProgress, signal }: SnapshotOptions): Promise<SnapshotResult> {
    if (!Number.isInteger(chunkSize) || chunkSize < 1) {
      throw invalidArgument(`chunk size must be a positive integer, got ${chunkSize}`);
    }
    await runQuery(
      this.pool,
      `starting the snapshot of ${this.key}`,
      // The guard keeps a resumed or finished snapshot from counting the whole table again.
      `INSERT INTO tandem.snapshot_progress (table_name, last_id, rows_done, rows_total, done)
       SELECT $1, NULL, 0, (SELECT count(*) FROM ${quotedTableName(this.table)}), false
        WHERE NOT EXISTS (SELECT 1 FROM tandem.snapshot_progress WHERE table_name = $1)
       ON CONFLICT (table_name) DO NOTHING`,
      [this.key],
    );
    for (;;) {
      if (signal?.aborted) return { ...(await this.readProgress()), done: false };
      const result = await withTransaction(this.pool, `snapshotting ${this.key}`, (client) =>
        this.snapshotChunk(client, chunkSize),
      );
      if (!result.alreadyDone) await onProgress?.({ rowsDone: result.rowsDone, rowsTotal: result.rowsTotal });
      if (result.done) return { rowsDone: result.rowsDone, rowsTotal: result.rowsTotal, done: true };
    }
  }

  /** Closes the LISTEN connection; the pool stays the caller's. */
  close(): Promise<void> {
    return this.listener.close();
  }

  private async installTriggers(client: PoolClient): Promise<void> {
    const { rows } = await runQuery<{ tgname: string; tgargs: Buffer }>(
      client,
      'reading existing capture triggers',
      'SELECT tgname, tgargs FROM pg_trigger WHERE tgrelid = $1::regclass AND NOT tgisinternal',
      [quotedTableName(this.table)],
    );
    const existing = new Map(rows.map((row) => [row.tgname, parseTriggerArgs(row.tgargs)]));
    for (const trigger of captureTriggers(this.table)) {
      // Replacing a trigger locks the table against the customer's readers, so leave correct ones be.
      const args = existing.get(trigger.name);
      if (args && args.join('\0') === trigger.args.join('\0')) continue;
      await runQuery(client, `replacing trigger ${trigger.name}`, dropTriggerStatement(this.table, trigger.name));
      await runQuery(client, `creating trigger ${trigger.name}`, trigger.create);
    }
  }

  private async readProgress(): Promise<SnapshotProgress> {
    const { rows } = await runQuery<ProgressRow>(
      this.pool,
      `reading snapshot progress of ${this.key}`,
      'SELECT last_id, rows_done, rows_total, done FROM tandem.snapshot_progress WHERE table_name = $1',
      [this.key],
    );
    const row = rows[0];
    return { rowsDone: Number(row?.rows_done ?? 0), rowsTotal: Number(row?.rows_total ?? 0) };
  }

  private async snapshotChunk(
    client: PoolClient,
    chunkSize: number,
  ): Promise<SnapshotProgress & { done: boolean; alreadyDone: boolean }> {
    // FOR UPDATE makes concurrent snapshot runs of the same table take turns instead of copying twice.
    const { rows: progressRows } = await runQuery<ProgressRow>(
      client,
      'locking snapshot progress',
      'SELECT last_id, rows_done, rows_total, done FROM tandem.snapshot_progress WHERE table_name = $1 FOR UPDATE',
      [this.key],
    );
    const progress = progressRows[0];
    if (!progress) {
      throw new PostgresSystemError(PostgresSystemErrorCode.Rejected, `snapshot progress of ${this.key} disappeared`);
    }
    if (progress.done) {
      return { rowsDone: Number(progress.rows_done), rowsTotal: Number(progress.rows_total), done: true, alreadyDone: true };
    }
    const id = quoteIdentifier(this.table.idColumn);
    // The id parameter takes the id column's type, so ids compare as integers, uuids... not as text.
    // FOR SHARE waits for a concurrent update of a row to commit and then reads the new version, so the
    // snapshot copy gets a later seq than that update's own change row.
    const after = progress.last_id === null ? '' : `WHERE t.${id} > $3`;
    const values: unknown[] = [this.key, chunkSize];
    if (progress.last_id !== null) values.push(progress.last_id);
    const { rows } = await runQuery<{ copied: number; last_id: string | null }>(
      client,
      'copying a snapshot chunk',
      `WITH chunk AS (
         SELECT t.* FROM ${quotedTableName(this.table)} AS t ${after} ORDER BY t.${id} LIMIT $2 FOR SHARE
       ), copied AS (
         INSERT INTO tandem.changes (table_name, op, record_id, before, after)
         SELECT $1, 'snapshot', to_jsonb(c) ->> ${quoteLiteral(this.table.idColumn)}, NULL, to_jsonb(c)
           FROM chunk AS c ORDER BY c.${id}
       )
       SELECT (SELECT count(*) FROM chunk)::int AS copied,
              (SELECT c.${id}::text FROM chunk AS c ORDER BY c.${id} DESC LIMIT 1) AS last_id`,
      values,
    );
    const copied = rows[0]?.copied ?? 0;
    // Row locks are taken below the LIMIT, so a short chunk means the end of the table was reached.
    const done = copied < chunkSize;
    const { rows: updated } = await runQuery<{ rows_done: string; rows_total: string }>(
      client,
      'recording snapshot progress',
      `UPDATE tandem.snapshot_progress
          SET last_id = coalesce($2, last_id),
              rows_done = rows_done + $3,
              rows_total = CASE WHEN $4 THEN rows_done + $3 ELSE greatest(rows_total, rows_done + $3) END,
              done = $4
        WHERE table_name = $1
        RETURNING rows_done, rows_total`,
      [this.key, rows[0]?.last_id ?? null, copied, done],
    );
    const row = updated[0];
    return { rowsDone: Number(row?.rows_done ?? 0), rowsTotal: Number(row?.rows_total ?? 0), done, alreadyDone: false };
  }
}

function toCapturedChange(row: ChangeRow): CapturedChange {
  if (!OPERATIONS.has(row.op)) {
    throw new PostgresSystemError(PostgresSystemErrorCode.Rejected, `change ${row.seq} has unknown operation ${row.op}`);
  }
  return {
    sequence: row.seq,
    operation: row.op as CapturedOperation,
    recordId: row.record_id,
    before: row.before,
    after: row.after,
    changedAt: row.changed_at,
  };
}

function invalidArgument(message: string): PostgresSystemError {
  return new PostgresSystemError(PostgresSystemErrorCode.InvalidArgument, message);
}
