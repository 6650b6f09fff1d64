import { deleteStatement, insertRowsText, insertStatement, markAppliedStatement, updateRowsText, updateStatement } from './apply-statement.util';
import { PostgresTableSchema } from './postgres-table.schema';

const table = PostgresTableSchema.parse({ table: 'contacts', idColumn: 'contact_id' });
const mark = { entityId: '3f1c1f0e-8f5e-4c53-9d8a-3f0f3b0b8c11', version: 4, commandId: 'cmd-1' };

describe('apply statements', () => {
  it('quotes columns and passes every value as a parameter', () => {
    const statement = insertStatement(table, [['email', "o'brien@example.com"], ['score', 3]], mark);
    expect(statement.text).toContain('INSERT INTO "public"."contacts" AS t ("email", "score")');
    expect(statement.text).not.toContain('o\'brien');
    expect(statement.values).toEqual(["o'brien@example.com", 3, mark.entityId, 4, 'cmd-1']);
  });

  it('inserts default values when there are no fields', () => {
    expect(insertStatement(table, [], mark).text).toContain('DEFAULT VALUES');
  });

  it('updates by the configured id column', () => {
    const statement = updateStatement(table, [['name', 'Ada']], '17', mark);
    expect(statement.text).toMatch(/SET "name" = \$1\s+WHERE t\."contact_id" = \$2/);
    expect(statement.values.slice(0, 2)).toEqual(['Ada', '17']);
  });

  it('soft-deletes only rows not deleted yet', () => {
    const soft = PostgresTableSchema.parse({ table: 'contacts', softDeleteColumn: 'deleted_at' });
    expect(deleteStatement(soft, '17', mark).text).toMatch(
      /SET "deleted_at" = now\(\)\s+WHERE t\."id" IN \(\$1\) AND t\."deleted_at" IS NULL/,
    );
    expect(deleteStatement(table, '17', mark).text).toContain('DELETE FROM "public"."contacts"');
    const both = deleteStatement(table, '17', mark, ['23']);
    expect(both.text).toMatch(/WHERE t\."contact_id" IN \(\$1, \$2\)/);
    expect(both.values.slice(0, 3)).toEqual(['17', '23', '17']);
  });

  it('inserts several rows in one statement with quoted literals, returning each id as text', () => {
    const text = insertRowsText(table, ['email', 'score'], [["o'brien@example.com", 3], ['ada@example.com', null]]);
    expect(text).toContain('INSERT INTO "public"."contacts" AS t ("email", "score")');
    expect(text).toMatch(/VALUES \('o''brien@example\.com', '3'\),\n\('ada@example\.com', NULL\)/);
    expect(text).toContain('RETURNING t."contact_id"::text AS record_id, to_jsonb(t) AS row');
  });

  it('updates several records in one statement, typing the literals by the table and marking each entity', () => {
    const text = updateRowsText(table, ['email', 'record_id'], [{ recordId: '17', values: ["o'brien@example.com", null], mark }]);
    expect(text).toContain('VALUES ((NULL::"public"."contacts")."contact_id", NULL::uuid, NULL::bigint, NULL::text, (NULL::"public"."contacts")."email", (NULL::"public"."contacts")."record_id")');
    expect(text).toContain(`('17', '${mark.entityId}', '4', 'cmd-1', 'o''brien@example.com', NULL)`);
    // The table's own columns are set from v's numbered ones, so a column named like v's never clashes.
    expect(text).toContain('SET "email" = v.c1, "record_id" = v.c2');
    expect(text).toContain('FROM v WHERE t."contact_id" = v.record_id');
    expect(text).toContain("SELECT entity_id, 'public.contacts', record_id, version, command_id FROM w");
  });

  it('marks several written rows with one parameterized statement', () => {
    const statement = markAppliedStatement(table, [{ ...mark, recordId: '17' }]);
    expect(statement.values).toEqual(['public.contacts', [mark.entityId], ['17'], [4], ['cmd-1']]);
    expect(statement.text).toContain('ON CONFLICT (entity_id) DO UPDATE');
  });
});
