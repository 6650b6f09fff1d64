import { createTempDatabase, type TempDatabase } from '@tandem/testing';
import { migrate } from './migrate.util';
import { MIGRATIONS } from './migrations';
import { createPgSqlClient, type PgSqlClient } from './pg-sql-client.driver';
import { isStateError, StateErrorCode } from './state.error';

const TABLES = [
  'tandem_applied_versions',
  'tandem_archive_attempts',
  'tandem_conflicts',
  'tandem_connector_checkpoints',
  'tandem_create_intents',
  'tandem_entities',
  'tandem_match_keys',
  'tandem_migrations',
  'tandem_record_errors',
  'tandem_record_links',
  'tandem_replaced_links',
  'tandem_source_inbox',
  'tandem_source_records',
  'tandem_sync_configs',
  'tandem_sync_log',
  'tandem_unseen_deletes',
];

async function tables(client: PgSqlClient): Promise<string[]> {
  const { rows } = await client.query<{ table_name: string }>(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
  );
  return rows.map((row) => row.table_name);
}

describe('migrate', () => {
  const databases: TempDatabase[] = [];
  const clients: PgSqlClient[] = [];

  async function freshDatabase(): Promise<{ url: string; client: PgSqlClient }> {
    const db = await createTempDatabase('state_migrate');
    databases.push(db);
    const client = createPgSqlClient(db.url);
    clients.push(client);
    return { url: db.url, client };
  }

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await Promise.all(databases.map((db) => db.drop()));
  });

  it('applies every migration once; a second run is a no-op', async () => {
    const { client } = await freshDatabase();
    expect(await migrate(client)).toEqual(MIGRATIONS.map((m) => m.id));
    expect(await tables(client)).toEqual(TABLES);
    expect(await migrate(client)).toEqual([]);
    const { rows } = await client.query<{ id: string }>('SELECT id FROM tandem_migrations ORDER BY id');
    expect(rows.map((row) => row.id)).toEqual(MIGRATIONS.map((m) => m.id));
  });

  it('lets two services migrate the same database at once: one applies, the other finds it done', async () => {
    const { url, client } = await freshDatabase();
    const other = createPgSqlClient(url);
    clients.push(other);
    const [first, second] = await Promise.all([migrate(client), migrate(other)]);
    expect([...first, ...second]).toEqual(MIGRATIONS.map((m) => m.id));
    expect(await tables(client)).toEqual(TABLES);
  });

  it('applies nothing of a run whose migration fails, and names that migration', async () => {
    const { client } = await freshDatabase();
    const broken = [...MIGRATIONS, { id: '999_broken', sql: 'CREATE TABLE probe (id int); SELECT no_such_column FROM probe' }];
    const error = await migrate(client, broken).catch((caught: unknown) => caught);
    expect(isStateError(error, StateErrorCode.MigrationFailed)).toBe(true);
    expect((error as Error).message).toContain('999_broken');
    expect(await tables(client)).toEqual([]);
  });
});
