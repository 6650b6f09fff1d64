import { z } from 'zod';

/** PostgreSQL identifiers Tandem puts into SQL: quoted, so they must not need escaping and fit NAMEDATALEN. */
const IdentifierSchema = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, 'must be letters, digits or "_", not start with a digit, at most 63 long');

/**
 * The one table of a linked database that Tandem watches and writes. Names are used quoted, so they
 * are case-sensitive: `Contacts` and `contacts` are different tables.
 */
export const PostgresTableSchema = z.object({
  schema: IdentifierSchema.default('public'),
  table: IdentifierSchema,
  idColumn: IdentifierSchema.default('id'),
  /** When set, deletes stamp this timestamp column instead of removing the row. */
  softDeleteColumn: IdentifierSchema.optional(),
});
export type PostgresTable = z.infer<typeof PostgresTableSchema>;
export type PostgresTableInput = z.input<typeof PostgresTableSchema>;
