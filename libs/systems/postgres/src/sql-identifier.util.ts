import type { PostgresTable } from './postgres-table.schema';

/** Quotes an identifier; names are validated by the table schema, the doubling is a second line of defence. */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A string constant for DDL, where parameters are not allowed (trigger arguments). */
export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** `"schema"."table"`, for use in SQL. */
export function quotedTableName(table: PostgresTable): string {
  return `${quoteIdentifier(table.schema)}.${quoteIdentifier(table.table)}`;
}

/** `schema.table`, the key under which Tandem's own tables record this table's rows. */
export function tableKey(table: PostgresTable): string {
  return `${table.schema}.${table.table}`;
}

/** NOTIFY channel of a watched table; cut to 63 bytes because the server rejects longer channel names. */
export function changeChannel(table: PostgresTable): string {
  return `tandem_changes_${table.table}`.slice(0, 63);
}
