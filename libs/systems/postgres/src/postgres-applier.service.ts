import { RECORD_MISSING, type ApplyCommand, type FieldValue, type FieldValues } from '@tandem/contracts';
import { preparedStatementNamer, type StatementNamer } from '@tandem/state';
import type { Pool, PoolClient, QueryResult, QueryResultRow } from 'pg';
import {
  APPLIED_DDL,
  deleteStatement,
  insertRowsText,
  insertStatement,
  markAppliedStatement,
  updateRowsText,
  updateStatement,
  type AppliedMark,
  type WriteStatement,
} from './apply-statement.util';
import { connectClient, releaseAfterFailure, releaseClient, runQuery, withTransaction } from './pg-client.util';
import { classifyPostgresFailure, sqlStateCode, toPostgresSystemError } from './postgres-failure.util';
import type { PostgresTable, PostgresTableInput } from './postgres-table.schema';
import { quotedTableName, quoteIdentifier, quoteLiteral, tableKey } from './sql-identifier.util';
import { parseTableConfig } from './table-config.util';
import { readTableColumns } from './table-columns.util';
import { prepareTandemSchema, retryOnContention } from './tandem-schema.util';

/** The `data` of an `ApplyCommand` this adapter needs, with the envelope's eventId as `commandId`. */
export type ApplyCommandInput = Pick<ApplyCommand['data'], 'entityId' | 'recordId' | 'operation' | 'version' | 'fields'> & {
  commandId: string;
  /**
   * For a create: a record of the table already linked to the entity (entered here too and matched
   * since the create was decided). It is updated instead, or the row inserted when it is gone.
   */
  matchedRecordId?: string | null;
  /**
   * For a create with no record linked here: the column carrying the sync's match key and the
   * normalized key. A row holding it that Tandem did not write (a person entered the same contact
   * while this table's changes were not read yet) is updated instead of inserting a second one.
   */
  matchBy?: { column: string; value: string } | null;
};

/** Why a single command failed without a SQLSTATE; SQL failures use the condition name instead. */
export enum ApplyFailureCode {
  /** A field names a column the table does not have. */
  UnknownColumn = 'unknown_column',
  /** The record to update no longer exists; the reconciler decides whether to re-create it. */
  RecordMissing = RECORD_MISSING,
  /** The command itself is malformed (entity id, version or a value). */
  InvalidCommand = 'invalid_command',
}

export interface ApplyOutcomeError {
  /** An `ApplyFailureCode` or a SQLSTATE condition name such as `not_null_violation`. */
  code: string;
  message: string;
  /** Failures that a retry could fix make the whole batch throw instead. */
  retryable: false;
}

export interface ApplyOutcome {
  commandId: string;
  recordId: string | null;
  /** `stale`: the target already has this version or a newer one, so nothing was written. */
  outcome: 'applied' | 'stale' | 'failed';
  /** What the row now holds for the columns the command wrote; empty when nothing was written. */
  fields: FieldValues;
  error: ApplyOutcomeError | null;
  /**
   * Where the watched table's change order stood when the batch committed, when capture is installed:
   * a change captured with a smaller sequence was made before this write and overwritten by it.
   */
  position: string | null;
}

export interface PostgresApplierOptions {
  /** The target database; owned by the caller, who also handles its idle-client `error` events. */
  pool: Pool;
  table: PostgresTableInput;
  /**
   * The statements every batch runs (locks, lookups, marks) are prepared once per connection
   * (default), so the target's server stops parsing and planning them per batch. Off behind a pooler
   * that does not keep a session's prepared statements (see `createPgSqlClient`).
   */
  preparedStatements?: boolean;
}

/** What a write statement returns: the record's id and, for upserts, the row as jsonb. */
interface WrittenRow {
  record_id: string;
  row: Record<string, unknown> | null;
}

interface EntityState {
  recordId: string;
  version: number;
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The savepoint each command runs under. Releasing the previous one and setting the next share one
 * round trip, and COMMIT releases the last: two round trips per command instead of three.
 */
class CommandSavepoint {
  private static readonly NAME = 'tandem_command';
  private held = false;

  constructor(private readonly client: PoolClient) {}

  async set(doing: string): Promise<void> {
    const name = CommandSavepoint.NAME;
    await runQuery(this.client, doing, this.held ? `RELEASE SAVEPOINT ${name}; SAVEPOINT ${name}` : `SAVEPOINT ${name}`);
    this.held = true;
  }

  /** Undoes the current command; the savepoint stays set until the next `set` releases it. */
  async rollback(doing: string): Promise<void> {
    await runQuery(this.client, doing, `ROLLBACK TO SAVEPOINT ${CommandSavepoint.NAME}`);
  }
}

/**
 * Writes apply commands into one table, idempotently: each entity's last applied version and
 * record id live in `tandem.applied`, written in the same statement as the row, so a redelivered or
 * older command is `stale` and a retried create never makes a second row.
 */
export class PostgresApplier {
  private readonly pool: Pool;
  private readonly table: PostgresTable;
  private readonly key: string;
  private columns: ReadonlySet<string> | null = null;
  private readonly statementName: StatementNamer;

  constructor(options: PostgresApplierOptions) {
    this.pool = options.pool;
    this.table = parseTableConfig(options.table);
    this.key = tableKey(this.table);
    this.statementName = preparedStatementNamer(options.preparedStatements ?? true);
  }

  /** Creates `tandem.applied` and `tandem.match_key`, and reads the table's columns; safe to run on every start. */
  async install(): Promise<void> {
    await retryOnContention(() => withTransaction(this.pool, `installing the applier on ${this.key}`, async (client) => {
      await prepareTandemSchema(client);
      await runQuery(client, 'creating tandem.applied', APPLIED_DDL);
      await runQuery(client, 'creating tandem.match_key', MATCH_KEY_DDL);
      this.columns = await readTableColumns(client, this.table, this.requiredColumns());
    }));
  }

  /**
   * Indexes `column` as creates match it (`matchBy`), so that looking for a person's row by a key
   * reads the index instead of normalizing the column over the whole table for every batch. Built
   * concurrently, so the table's own writers go on meanwhile; an index a failed build left invalid
   * is built again. Safe to run on every start.
   */
  async indexMatchColumn(column: string): Promise<void> {
    const name = `tandem_matchkey_${this.table.table}_${column}`.slice(0, 63);
    const doing = `indexing ${this.key}.${column} for create matching`;
    const { rows } = await runQuery<{ valid: boolean }>(
      this.pool,
      doing,
      `SELECT i.indisvalid AS valid FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relname = $2`,
      [this.table.schema, name],
    );
    if (rows[0]?.valid) return;
    const schema = quoteIdentifier(this.table.schema);
    if (rows[0]) await runQuery(this.pool, doing, `DROP INDEX CONCURRENTLY IF EXISTS ${schema}.${quoteIdentifier(name)}`);
    await runQuery(this.pool, doing, `CREATE INDEX CONCURRENTLY IF NOT EXISTS ${quoteIdentifier(name)} ON ${quotedTableName(this.table)} (${matchKeyOf(quoteIdentifier(column))})`);
    // Earlier releases indexed the bare expression, which the planner passed over; it only slows writes.
    const previous = `tandem_match_${this.table.table}_${column}`.slice(0, 63);
    await runQuery(this.pool, doing, `DROP INDEX CONCURRENTLY IF EXISTS ${schema}.${quoteIdentifier(previous)}`);
  }

  /**
   * Applies a batch in one transaction, one savepoint per command, and returns an outcome per command
   * in input order. Throws a retryable `PostgresSystemError` (nothing committed) when the connection
   * fails or the server aborts the transaction for contention.
   */
  async apply(input: readonly ApplyCommandInput[]): Promise<ApplyOutcome[]> {
    if (input.length === 0) return [];
    let commands = input;
    const columns = this.columns ?? (await this.loadColumns());
    const rejections = commands.map((command) => validateCommand(command, columns));
    const entityIds = [
      ...new Set(commands.filter((_, index) => rejections[index] === null).map((c) => c.entityId.toLowerCase())),
    ];
    const doing = `applying ${commands.length} commands to ${this.key}`;
    const client = await connectClient(this.pool, doing);
    try {
      await runQuery(client, doing, 'BEGIN');
      const entities = await this.lockEntities(client, entityIds, doing);
      const unlinked = await this.findUnlinkedRecords(client, commands, rejections, entities, columns, doing);
      if (unlinked.size > 0) {
        commands = commands.map((command) => {
          const recordId = unlinked.get(command.entityId.toLowerCase());
          return recordId === undefined || command.recordId !== null ? command : { ...command, matchedRecordId: recordId };
        });
      }
      const savepoint = new CommandSavepoint(client);
      const outcomes: Array<ApplyOutcome | undefined> = rejections.map((rejection) => rejection ?? undefined);
      for (const round of rounds(commands, outcomes)) {
        const planned: Array<{ index: number; write: PlannedWrite }> = [];
        for (const index of round) {
          const plan = this.plan(commands[index]!, entities);
          if ('outcome' in plan) outcomes[index] = plan;
          else planned.push({ index, write: plan });
        }
        const rows = await this.writeRound(client, savepoint, planned.map(({ write }) => write));
        for (const [position, { index, write }] of planned.entries()) {
          const row = rows?.[position];
          // Rejected round, or a re-create the round could not express: this command alone, in order.
          outcomes[index] =
            rows === null || (!row && write.recreate)
              ? await this.applyOne(client, savepoint, write.command, entities)
              : this.finish(write, row, entities);
        }
      }
      // Taken after every row write: a concurrent edit of the same row either captured before it
      // (and overwritten) or, waiting on the row lock, after it.
      const { rows } = await runQuery<{ position: string | null }>(
        client,
        doing,
        `SELECT nextval(to_regclass('tandem.changes_seq_seq'))::text AS position`,
      );
      await runQuery(client, doing, 'COMMIT');
      releaseClient(client);
      const position = rows[0]?.position ?? null;
      return outcomes.map((outcome, index) => ({ ...(outcome ?? invalidCommand(commands[index]!, 'no outcome')), position }));
    } catch (error) {
      await releaseAfterFailure(client);
      throw error;
    }
  }

  /**
   * Rows the batch's creates should write to instead of inserting: per entity never written here, a
   * row holding the create's match key that no entity's write made (a person's own row). One row
   * goes to one entity; the oldest is taken.
   */
  private async findUnlinkedRecords(
    client: PoolClient,
    commands: readonly ApplyCommandInput[],
    rejections: ReadonlyArray<ApplyOutcome | null>,
    entities: Map<string, EntityState>,
    columns: ReadonlySet<string>,
    doing: string,
  ): Promise<Map<string, string>> {
    const wanted = new Map<string, { column: string; value: string }>();
    commands.forEach((command, index) => {
      const entityId = command.entityId.toLowerCase();
      const { matchBy } = command;
      if (rejections[index] !== null || command.operation !== 'upsert' || command.recordId !== null || command.matchedRecordId) return;
      if (!matchBy || !columns.has(matchBy.column) || entities.has(entityId)) return;
      wanted.set(entityId, matchBy);
    });
    const found = new Map<string, string>();
    const byColumn = new Map<string, Map<string, string>>();
    for (const [entityId, { column, value }] of wanted) {
      const values = byColumn.get(column) ?? new Map<string, string>();
      if (!values.has(value)) values.set(value, entityId);
      byColumn.set(column, values);
    }
    const id = quoteIdentifier(this.table.idColumn);
    const live = this.table.softDeleteColumn === undefined ? '' : `AND t.${quoteIdentifier(this.table.softDeleteColumn)} IS NULL`;
    for (const [column, values] of byColumn) {
      // A filter, not a join: the planner prices a hash join's keys as if computing them were free.
      const key = matchKeyOf(`t.${quoteIdentifier(column)}`);
      const { rows: candidates } = await this.runPrepared<{ value: string; record_id: string }>(
        client,
        doing,
        `SELECT ${key} AS value, t.${id}::text AS record_id
           FROM ${quotedTableName(this.table)} AS t
          WHERE ${key} = ANY($1::text[]) ${live}
          ORDER BY 1, t.${id}`,
        [[...values.keys()]],
      );
      if (candidates.length === 0) continue;
      // Asked apart, by record: joined in, the planner hashed every row Tandem wrote to this table,
      // per batch, while an initial sync fills it faster than statistics follow.
      const { rows: written } = await this.runPrepared<{ record_id: string }>(
        client,
        doing,
        'SELECT record_id FROM tandem.applied WHERE table_name = $1 AND record_id = ANY($2::text[])',
        [this.key, candidates.map((row) => row.record_id)],
      );
      const taken = new Set(written.map((row) => row.record_id));
      for (const { value, record_id: recordId } of candidates) {
        const entityId = values.get(value);
        if (entityId !== undefined && !found.has(entityId) && !taken.has(recordId)) found.set(entityId, recordId);
      }
    }
    return found;
  }

  private requiredColumns(): string[] {
    const { idColumn, softDeleteColumn } = this.table;
    return softDeleteColumn === undefined ? [idColumn] : [idColumn, softDeleteColumn];
  }

  private async loadColumns(): Promise<ReadonlySet<string>> {
    this.columns = await readTableColumns(this.pool, this.table, this.requiredColumns());
    return this.columns;
  }

  /** A statement every batch runs, prepared once per connection unless the options say otherwise. */
  private runPrepared<R extends QueryResultRow = QueryResultRow>(client: PoolClient, doing: string, text: string, values: unknown[]): Promise<QueryResult<R>> {
    return runQuery<R>(client, doing, text, values, this.statementName(text));
  }

  /**
   * Serializes appliers working on the same entities (two replicas handed the same redelivered
   * create would otherwise both insert), then reads what is already applied for the whole batch.
   * Locks are taken in id order so that two batches cannot deadlock on each other.
   */
  private async lockEntities(client: PoolClient, entityIds: string[], doing: string): Promise<Map<string, EntityState>> {
    const entities = new Map<string, EntityState>();
    if (entityIds.length === 0) return entities;
    await this.runPrepared(
      client,
      doing,
      // Marks the transaction as Tandem's, so the capture triggers do not record its writes as changes.
      `SELECT set_config('tandem.writer', 'applier', true), pg_advisory_xact_lock(hashtextextended(id, 0))
         FROM (SELECT DISTINCT id FROM unnest($1::text[]) AS id ORDER BY id) AS ids`,
      [entityIds],
    );
    // A separate statement, so that it reads with a snapshot taken after the locks were granted.
    const { rows } = await this.runPrepared<{ entity_id: string; record_id: string; version: string }>(
      client,
      doing,
      'SELECT entity_id::text, record_id, version::text FROM tandem.applied WHERE entity_id = ANY($1::uuid[])',
      [entityIds],
    );
    for (const row of rows) entities.set(row.entity_id, { recordId: row.record_id, version: Number(row.version) });
    return entities;
  }

  /** What one command will write, or its outcome when it writes nothing (stale, or a delete of nothing). */
  private plan(command: ApplyCommandInput, entities: Map<string, EntityState>): PlannedWrite | ApplyOutcome {
    const entityId = command.entityId.toLowerCase();
    const known = entities.get(entityId);
    if (known && command.version <= known.version) {
      return { commandId: command.commandId, recordId: known.recordId, outcome: 'stale', fields: {}, error: null, position: null };
    }
    const recordId = command.recordId ?? known?.recordId ?? command.matchedRecordId ?? null;
    const mark: AppliedMark = { entityId, version: command.version, commandId: command.commandId };
    const fields = Object.entries(command.fields);
    if (command.operation === 'delete') {
      // Never created here and no record named: the record is already absent, which is what was asked.
      if (recordId === null) return applied(command, null, {});
      // A row Tandem wrote for the entity after the reconciler decided this delete (a create it has
      // not heard back from) goes too: at this version the entity has no record here.
      const written = known && known.recordId !== recordId ? [known.recordId] : [];
      return { command, entityId, recordId, fields, mark, recreate: false, statement: () => deleteStatement(this.table, recordId, mark, written) };
    }
    return {
      command,
      entityId,
      recordId,
      fields,
      mark,
      // A create for an entity whose earlier (or matched) record was deleted here since: the update finds no row.
      recreate: command.recordId === null && recordId !== null,
      statement: () => (recordId === null ? insertStatement(this.table, fields, mark) : updateStatement(this.table, fields, recordId, mark)),
    };
  }

  private finish(write: PlannedWrite, row: WrittenRow | undefined, entities: Map<string, EntityState>): ApplyOutcome {
    const { command } = write;
    if (!row) {
      return failed(command, write.recordId, ApplyFailureCode.RecordMissing, `record ${write.recordId} does not exist in ${this.key}`);
    }
    entities.set(write.entityId, { recordId: row.record_id, version: command.version });
    const written: FieldValues = {};
    if (command.operation === 'upsert' && row.row) {
      for (const [column] of write.fields) written[column] = toFieldValue(row.row[column]);
    }
    return applied(command, row.record_id, written);
  }

  /**
   * Sends a round's writes in one round trip under one savepoint: the creates with the same columns
   * as one multi-row insert and the updates with the same columns as one multi-row update (a
   * statement per row costs the server several times more), every other write as a statement of its
   * own. Returns each write's row, or null when the server rejected one of them (the round is rolled
   * back, to be redone command by command so that only the bad one fails).
   */
  private async writeRound(client: PoolClient, savepoint: CommandSavepoint, writes: PlannedWrite[]): Promise<Array<WrittenRow | undefined> | null> {
    if (writes.length === 0) return [];
    await savepoint.set(`setting a savepoint for ${writes.length} commands`);
    const statements = roundStatements(this.table, writes);
    try {
      const result = (await client.query(statements.map(({ text }) => text).join(';\n'))) as unknown;
      const results = (Array.isArray(result) ? result : [result]) as Array<{ rows: WrittenRow[] }>;
      const rows: Array<WrittenRow | undefined> = [];
      const created: Array<AppliedMark & { recordId: string }> = [];
      for (const [position, { writes: indexes, rows: returns }] of statements.entries()) {
        const returned = results[position]?.rows ?? [];
        if (returns === 'updated') {
          const byEntity = new Map((returned as UpdatedRow[]).map((row) => [row.entity_id, row]));
          for (const index of indexes) rows[index] = byEntity.get(writes[index]!.entityId);
          continue;
        }
        indexes.forEach((index, offset) => (rows[index] = returns === 'inserted' ? returned[offset] : returned[0]));
        if (returns !== 'inserted') continue;
        // PostgreSQL returns inserted rows in the order of VALUES but does not promise it: each row's
        // values are checked against its command, so a record is never tied to another command's
        // entity (rows holding equal values are interchangeable).
        for (const index of indexes) {
          const row = rows[index];
          if (!row || !holdsValues(row, writes[index]!.fields)) {
            await savepoint.rollback(`rolling back ${writes.length} commands whose rows could not be told apart`);
            return null;
          }
          created.push({ ...writes[index]!.mark, recordId: row.record_id });
        }
      }
      if (created.length > 0) {
        const marks = markAppliedStatement(this.table, created);
        await client.query({ ...marks, name: this.statementName(marks.text) });
      }
      return rows;
    } catch (error) {
      const failure = classifyPostgresFailure(error);
      if (failure.kind !== 'rejected') throw toPostgresSystemError(error, `applying ${writes.length} commands`);
      await savepoint.rollback(`rolling back ${writes.length} commands`);
      return null;
    }
  }

  /** One command under its own savepoint: the path for rejected rounds and re-creates. */
  private async applyOne(
    client: PoolClient,
    savepoint: CommandSavepoint,
    command: ApplyCommandInput,
    entities: Map<string, EntityState>,
  ): Promise<ApplyOutcome> {
    const plan = this.plan(command, entities);
    if ('outcome' in plan) return plan;
    await savepoint.set(`setting a savepoint for command ${command.commandId}`);
    let row: WrittenRow | undefined;
    try {
      const statement = plan.statement();
      row = (await client.query<WrittenRow>(statement.text, statement.values)).rows[0];
      if (!row && plan.recreate) {
        const insert = insertStatement(this.table, plan.fields, plan.mark);
        row = (await client.query<WrittenRow>(insert.text, insert.values)).rows[0];
      }
    } catch (error) {
      const failure = classifyPostgresFailure(error);
      if (failure.kind !== 'rejected' || failure.sqlState === null) {
        throw toPostgresSystemError(error, `applying command ${command.commandId}`);
      }
      await savepoint.rollback(`rolling back command ${command.commandId}`);
      return failed(command, plan.recordId, sqlStateCode(failure.sqlState), failure.message);
    }
    return this.finish(plan, row, entities);
  }
}

/**
 * A value's match key in SQL, as `normalizeMatchKey` computes it, for `indexMatchColumn` and the
 * lookups that read that index. A function the planner cannot inline, declared costly: it cannot
 * tell that a regular expression per row is expensive, and on a table an initial sync is filling,
 * with no statistics yet, it chose to compute the key over every row for every batch over reading
 * the index. Functions named in full: an index must not depend on the writer's search path.
 */
const MATCH_KEY_DDL = `CREATE OR REPLACE FUNCTION tandem.match_key(value text) RETURNS text
  LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE COST 1000
  AS $fn$ BEGIN RETURN pg_catalog.lower(pg_catalog.btrim(pg_catalog.regexp_replace(value, '\\s+', ' ', 'g'))); END $fn$`;

function matchKeyOf(column: string): string {
  return `tandem.match_key(${column}::text)`;
}

interface PlannedWrite {
  command: ApplyCommandInput;
  entityId: string;
  recordId: string | null;
  fields: Array<[string, FieldValue]>;
  mark: AppliedMark;
  recreate: boolean;
  /** The write alone, marking the entity in the same statement; built only for a write sent alone. */
  statement: () => WriteStatement;
}

/** A row of a multi-row update, which names the entity it was written for. */
interface UpdatedRow extends WrittenRow {
  entity_id: string;
}

interface RoundStatement {
  text: string;
  /** Indexes of the round's writes it performs. */
  writes: number[];
  /**
   * How its rows belong to its writes: `inserted`, a multi-row insert, one row per write in order and
   * not marked yet; `updated`, a multi-row update, one row per record found, by entity; `single`,
   * its one write's row.
   */
  rows: 'inserted' | 'updated' | 'single';
}

/**
 * A round's statements: the creates of new rows with the same columns as one multi-row insert, the
 * updates of records with the same columns as one multi-row update, each other write (deletes, a
 * write with no fields, a second write to a record) as a statement of its own. A round holds each
 * entity once, so the order between its writes is free.
 */
function roundStatements(table: PostgresTable, writes: readonly PlannedWrite[]): RoundStatement[] {
  type Planned = { rows: RoundStatement['rows']; columns: string[]; writes: number[] };
  const statements: Planned[] = [];
  const groups = new Map<string, Planned>();
  const updatedRecords = new Set<string>();
  writes.forEach((write, index) => {
    const columns = write.fields.map(([column]) => column);
    // Upserts of at least one field share a statement: a new row's insert, or a named record's update.
    const shares = write.command.operation === 'upsert' && write.fields.length > 0;
    const rows: Planned['rows'] =
      !shares ? 'single' : write.recordId === null ? 'inserted' : updatedRecords.has(write.recordId) ? 'single' : 'updated';
    if (rows === 'single') return void statements.push({ rows, columns, writes: [index] });
    if (rows === 'updated') updatedRecords.add(write.recordId!);
    const key = `${rows}:${JSON.stringify(columns)}`;
    const group = groups.get(key);
    if (group) return void group.writes.push(index);
    const created: Planned = { rows, columns, writes: [index] };
    groups.set(key, created);
    statements.push(created);
  });
  return statements.map(({ rows, columns, writes: indexes }) => {
    const text =
      rows === 'single'
        ? inlineParameters(writes[indexes[0]!]!.statement())
        : rows === 'inserted'
          ? insertRowsText(table, columns, indexes.map((index) => writes[index]!.fields.map(([, value]) => value)))
          : updateRowsText(
              table,
              columns,
              indexes.map((index) => {
                const { recordId, fields, mark } = writes[index]!;
                return { recordId: recordId!, values: fields.map(([, value]) => value), mark };
              }),
            );
    return { text, writes: indexes, rows };
  });
}

/** Whether the row holds the values written to it, compared as the text the server was sent. */
function holdsValues(row: WrittenRow, fields: ReadonlyArray<readonly [string, FieldValue]>): boolean {
  return fields.every(([column, value]) => {
    const held = row.row?.[column];
    if (value === null || held === null || held === undefined) return value === null && (held === null || held === undefined);
    return (typeof held === 'object' ? JSON.stringify(held) : String(held)) === String(value);
  });
}

/**
 * Splits the commands still to apply into rounds in which each entity appears at most once, keeping
 * input order, so that a round can be sent as one multi-statement query.
 */
function rounds(commands: readonly ApplyCommandInput[], outcomes: ReadonlyArray<ApplyOutcome | undefined>): number[][] {
  const result: number[][] = [];
  const seen = new Map<string, number>();
  commands.forEach((command, index) => {
    if (outcomes[index] !== undefined) return;
    const entityId = command.entityId.toLowerCase();
    const round = seen.get(entityId) ?? 0;
    seen.set(entityId, round + 1);
    (result[round] ??= []).push(index);
  });
  return result;
}

/**
 * Writes a statement's parameters into its text as literals, the way the driver would send them (as
 * text the server converts to each column's type). Only parameters are inlined: statement texts
 * contain no other `$n`, as identifiers are restricted to letters, digits and underscores.
 */
function inlineParameters(statement: WriteStatement): string {
  return statement.text.replace(/\$(\d+)/g, (_, position: string) => {
    const value = statement.values[Number(position) - 1];
    return value === null || value === undefined ? 'NULL' : quoteLiteral(String(value));
  });
}

/** Checks what can be checked without the database; a rejected command never reaches SQL. */
function validateCommand(command: ApplyCommandInput, columns: ReadonlySet<string>): ApplyOutcome | null {
  if (!UUID_PATTERN.test(command.entityId)) {
    return invalidCommand(command, `entity id ${command.entityId} is not a uuid`);
  }
  if (!Number.isSafeInteger(command.version) || command.version < 1) {
    return invalidCommand(command, `version ${command.version} is not a positive integer`);
  }
  if (command.recordId === '') {
    return invalidCommand(command, 'record id is empty');
  }
  if (command.operation === 'delete') return null;
  const unknown = Object.keys(command.fields).filter((column) => !columns.has(column));
  if (unknown.length > 0) {
    return failed(command, command.recordId, ApplyFailureCode.UnknownColumn, `unknown column ${unknown.join(', ')}`);
  }
  const badValue = Object.entries(command.fields).find(([, value]) => !isFieldValue(value));
  if (badValue) {
    return invalidCommand(command, `value of ${badValue[0]} is not a finite scalar`);
  }
  return null;
}

function isFieldValue(value: unknown): value is FieldValue {
  return (
    value === null ||
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value))
  );
}

/** Row values come from jsonb: scalars stay as they are, arrays and objects (json columns) become text. */
function toFieldValue(value: unknown): FieldValue {
  if (value === undefined) return null;
  return isFieldValue(value) ? value : JSON.stringify(value);
}

function applied(command: ApplyCommandInput, recordId: string | null, fields: FieldValues): ApplyOutcome {
  return { commandId: command.commandId, recordId, outcome: 'applied', fields, error: null, position: null };
}

function failed(command: ApplyCommandInput, recordId: string | null, code: string, message: string): ApplyOutcome {
  const error: ApplyOutcomeError = { code, message, retryable: false };
  return { commandId: command.commandId, recordId, outcome: 'failed', fields: {}, error, position: null };
}

function invalidCommand(command: ApplyCommandInput, message: string): ApplyOutcome {
  return failed(command, command.recordId || null, ApplyFailureCode.InvalidCommand, message);
}
