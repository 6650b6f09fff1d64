import { PostgresTableSchema } from './postgres-table.schema';
import { parseTableConfig } from './table-config.util';
import { PostgresSystemErrorCode } from './postgres-system.error';

describe('PostgresTableSchema', () => {
  it('fills in the public schema and the id column', () => {
    expect(PostgresTableSchema.parse({ table: 'contacts' })).toEqual({ schema: 'public', table: 'contacts', idColumn: 'id' });
  });

  it.each(['contacts; DROP TABLE x', 'my-table', '1contacts', '"contacts"', 'a'.repeat(64), ''])(
    'rejects %j as a table name',
    (table) => {
      expect(PostgresTableSchema.safeParse({ table }).success).toBe(false);
    },
  );

  it('reports every bad name in one invalid-argument error', () => {
    expect(() => parseTableConfig({ table: 'bad name', idColumn: 'id;' })).toThrow(
      expect.objectContaining({
        code: PostgresSystemErrorCode.InvalidArgument,
        message: expect.stringMatching(/table:.*idColumn:/),
      }),
    );
  });
});
