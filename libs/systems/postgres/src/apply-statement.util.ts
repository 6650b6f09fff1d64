import type { FieldValue } from '@tandem/contracts';
import type { PostgresTable } from './postgres-table.schema';
import { quotedTableName, quoteIdentifier, quoteLiteral, tableKey } from './sql-identifier.util';
import { createIndexIfMissing } from './tandem-schema.util';

/** One parameterized statement; every write statement returns rows of `{ record_id, row }`. */
export interface WriteStatement {
  text: string;
  values: unknown[];
}

/** What `tandem.applied` records in the same statement as the row write. */
export interface AppliedMark {
  entityId: string;
  version: number;
  commandId: string;
}


export const APPLIED_DDL = `CREATE TABLE IF NOT EXISTS tandem.applied (
  entity_id uuid PRIMARY KEY,
  table_name text NOT NULL,
  record_id text NOT NULL,
  version bigint NOT NULL,
  command_id text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
);
${createIndexIfMissing('tandem.applied_record_idx', 'applied_record_idx ON tandem.applied (table_name, record_id)')}`;

const APPLIED_UPSERT = `ON CONFLICT (entity_id) DO UPDATE
  SET table_name = excluded.table_name, record_id = excluded.record_id, version = excluded.version,
      command_id = excluded.command_id, applied_at = now()`;

/** Collects parameter values and hands out their `$n` placeholders. */
class Parameters {
  readonly values: unknown[] = [];

  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/**
 * Creates a row. Parameters are typed by the target columns, so the server converts and checks
 * values (a bad date or a string in a boolean column fails this command alone).
 */
export function insertStatement(
  table: PostgresTable,
  fields: ReadonlyArray<readonly [string, FieldValue]>,
  mark: AppliedMark,
): WriteStatement {
  const params = new Parameters();
  const insert =
    fields.length === 0
      ? `INSERT INTO ${quotedTableName(table)} AS t DEFAULT VALUES`
      : `INSERT INTO ${quotedTableName(table)} AS t (${fields.map(([column]) => quoteIdentifier(column)).join(', ')})
         VALUES (${fields.map(([, value]) => params.add(value)).join(', ')})`;
  return writeWithMark(table, `${insert} RETURNING to_jsonb(t) AS row`, params, mark);
}

/**
 * Creates several rows with the same columns in one statement, with the values written into the
 * text as literals the server converts to each column's type (as it does a parameter). Returns
 * `{ record_id, row }` per row; the rows are not marked in `tandem.applied` here, as which row
 * belongs to which entity is only known once they are read back (see `markAppliedStatement`).
 */
export function insertRowsText(table: PostgresTable, columns: readonly string[], rows: ReadonlyArray<ReadonlyArray<FieldValue>>): string {
  const values = rows.map((row) => `(${row.map((value) => (value === null ? 'NULL' : quoteLiteral(String(value)))).join(', ')})`);
  return `INSERT INTO ${quotedTableName(table)} AS t (${columns.map(quoteIdentifier).join(', ')})
          VALUES ${values.join(',\n')}
          RETURNING t.${quoteIdentifier(table.idColumn)}::text AS record_id, to_jsonb(t) AS row`;
}

/** One row of a multi-row update: the record, its values (in the statement's column order) and its mark. */
export interface RowUpdate {
  recordId: string;
  values: ReadonlyArray<FieldValue>;
  mark: AppliedMark;
}

/**
 * Updates several records with the same columns in one statement, marking each updated record's
 * entity in `tandem.applied` in the same statement. Values are literals typed by the table: a first
 * row of the table's own (null) columns gives the list its column types, and the server converts
 * the other rows' literals to them as it converts a parameter, checks included. Returns
 * `{ entity_id, record_id, row }` per record updated; a record that does not exist returns nothing
 * and marks nothing. The records must be distinct (a record joined twice is updated once).
 */
export function updateRowsText(table: PostgresTable, columns: readonly string[], rows: readonly RowUpdate[]): string {
  const target = quotedTableName(table);
  const id = quoteIdentifier(table.idColumn);
  const typed = (column: string): string => `(NULL::${target}).${quoteIdentifier(column)}`;
  const literal = (value: FieldValue | string | number): string => (value === null ? 'NULL' : quoteLiteral(String(value)));
  const types = `(${[typed(table.idColumn), 'NULL::uuid', 'NULL::bigint', 'NULL::text', ...columns.map(typed)].join(', ')})`;
  const values = rows.map(
    ({ recordId, values: row, mark }) => `(${[recordId, mark.entityId, mark.version, mark.commandId, ...row].map(literal).join(', ')})`,
  );
  const names = columns.map((_, index) => `c${index + 1}`);
  return `WITH v (record_id, entity_id, version, command_id, ${names.join(', ')}) AS (
             VALUES ${[types, ...values].join(',\n')}
           ),
           w AS (
             UPDATE ${target} AS t SET ${columns.map((column, index) => `${quoteIdentifier(column)} = v.${names[index]}`).join(', ')}
               FROM v WHERE t.${id} = v.record_id
             RETURNING v.entity_id, v.version, v.command_id, t.${id}::text AS record_id, to_jsonb(t) AS row
           ),
           a AS (
             INSERT INTO tandem.applied (entity_id, table_name, record_id, version, command_id)
             SELECT entity_id, ${quoteLiteral(tableKey(table))}, record_id, version, command_id FROM w
             ${APPLIED_UPSERT}
           )
           SELECT entity_id::text, record_id, row FROM w`;
}

/** Records in `tandem.applied` the rows written for entities (each entity at most once). */
export function markAppliedStatement(table: PostgresTable, marks: ReadonlyArray<AppliedMark & { recordId: string }>): WriteStatement {
  return {
    text: `INSERT INTO tandem.applied (entity_id, table_name, record_id, version, command_id)
           SELECT m.entity_id, $1, m.record_id, m.version, m.command_id
             FROM unnest($2::uuid[], $3::text[], $4::bigint[], $5::text[]) AS m(entity_id, record_id, version, command_id)
           ${APPLIED_UPSERT}`,
    values: [
      tableKey(table),
      marks.map((mark) => mark.entityId),
      marks.map((mark) => mark.recordId),
      marks.map((mark) => mark.version),
      marks.map((mark) => mark.commandId),
    ],
  };
}

/** Updates one row by id; returns no row when it does not exist (and then marks nothing). */
export function updateStatement(
  table: PostgresTable,
  fields: ReadonlyArray<readonly [string, FieldValue]>,
  recordId: string,
  mark: AppliedMark,
): WriteStatement {
  const params = new Parameters();
  const target = quotedTableName(table);
  const id = quoteIdentifier(table.idColumn);
  // Nothing to set: still lock and read the row, so a missing record is reported and the version recorded.
  const write =
    fields.length === 0
      ? `SELECT to_jsonb(t) AS row FROM ${target} AS t WHERE t.${id} = ${params.add(recordId)} FOR UPDATE`
      : `UPDATE ${target} AS t
            SET ${fields.map(([column, value]) => `${quoteIdentifier(column)} = ${params.add(value)}`).join(', ')}
          WHERE t.${id} = ${params.add(recordId)}
          RETURNING to_jsonb(t) AS row`;
  return writeWithMark(table, write, params, mark);
}

/**
 * Deletes the record, and any other rows named in `alsoRecordIds`, or stamps the soft-delete column
 * (keeping an earlier stamp). A record that is already gone counts as deleted, so the version is
 * recorded either way, under `recordId`.
 */
export function deleteStatement(table: PostgresTable, recordId: string, mark: AppliedMark, alsoRecordIds: readonly string[] = []): WriteStatement {
  const params = new Parameters();
  const target = quotedTableName(table);
  const id = quoteIdentifier(table.idColumn);
  // IN over untyped parameters, not ANY of a text array: the server types them as the id column, so its index is used.
  const ids = [recordId, ...alsoRecordIds].map((value) => params.add(value)).join(', ');
  const write =
    table.softDeleteColumn === undefined
      ? `DELETE FROM ${target} AS t WHERE t.${id} IN (${ids})`
      : `UPDATE ${target} AS t SET ${quoteIdentifier(table.softDeleteColumn)} = now()
          WHERE t.${id} IN (${ids}) AND t.${quoteIdentifier(table.softDeleteColumn)} IS NULL`;
  const recordParam = params.add(recordId);
  const { entity, version, command } = markParameters(params, mark);
  return {
    text: `WITH w AS (${write}), a AS (
             INSERT INTO tandem.applied (entity_id, table_name, record_id, version, command_id)
             VALUES (${entity}, ${quoteLiteral(tableKey(table))}, ${recordParam}::text, ${version}, ${command})
             ${APPLIED_UPSERT}
           )
           SELECT ${recordParam}::text AS record_id, NULL::jsonb AS row`,
    values: params.values,
  };
}

/** Wraps a row write returning `row` so that the same statement records the entity in `tandem.applied`. */
function writeWithMark(table: PostgresTable, write: string, params: Parameters, mark: AppliedMark): WriteStatement {
  const { entity, version, command } = markParameters(params, mark);
  return {
    text: `WITH w AS (${write}),
           r AS (SELECT w.row ->> ${quoteLiteral(table.idColumn)} AS record_id, w.row FROM w),
           a AS (
             INSERT INTO tandem.applied (entity_id, table_name, record_id, version, command_id)
             SELECT ${entity}, ${quoteLiteral(tableKey(table))}, r.record_id, ${version}, ${command}
               FROM r
             ${APPLIED_UPSERT}
           )
           SELECT record_id, row FROM r`,
    values: params.values,
  };
}

/** Typed placeholders for the `tandem.applied` values (a SELECT list gives parameters no type of its own). */
function markParameters(params: Parameters, mark: AppliedMark): { entity: string; version: string; command: string } {
  return {
    entity: `${params.add(mark.entityId)}::uuid`,
    version: `${params.add(mark.version)}::bigint`,
    command: `${params.add(mark.commandId)}::text`,
  };
}
