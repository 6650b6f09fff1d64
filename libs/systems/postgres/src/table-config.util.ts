import { PostgresTableSchema, type PostgresTable, type PostgresTableInput } from './postgres-table.schema';
import { PostgresSystemError, PostgresSystemErrorCode } from './postgres-system.error';

/** Validates a table config at construction, because its names end up in SQL text. */
export function parseTableConfig(input: PostgresTableInput): PostgresTable {
  const parsed = PostgresTableSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'table'}: ${issue.message}`);
  throw new PostgresSystemError(PostgresSystemErrorCode.InvalidArgument, `invalid table config: ${problems.join('; ')}`, {
    cause: parsed.error,
  });
}
