import type { Queryable } from './pg-client.util';
import { runQuery } from './pg-client.util';
import type { PostgresTable } from './postgres-table.schema';
import { PostgresSystemError, PostgresSystemErrorCode } from './postgres-system.error';
import { tableKey } from './sql-identifier.util';

/**
 * The table's column names, failing with `TABLE_MISSING` when the table or any of the `required`
 * columns does not exist (or is not visible to this role).
 */
export async function readTableColumns(
  db: Queryable,
  table: PostgresTable,
  required: string[],
): Promise<ReadonlySet<string>> {
  const { rows } = await runQuery<{ column_name: string }>(
    db,
    `reading the columns of ${tableKey(table)}`,
    'SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2',
    [table.schema, table.table],
  );
  const columns = new Set(rows.map((row) => row.column_name));
  if (columns.size === 0) {
    throw new PostgresSystemError(PostgresSystemErrorCode.TableMissing, `table ${tableKey(table)} does not exist`);
  }
  const missing = required.filter((column) => !columns.has(column));
  if (missing.length > 0) {
    throw new PostgresSystemError(
      PostgresSystemErrorCode.TableMissing,
      `table ${tableKey(table)} has no column ${missing.join(', ')}`,
    );
  }
  return columns;
}
