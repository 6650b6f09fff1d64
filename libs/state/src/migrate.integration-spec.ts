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

  it('re-keys a database migrated before, keeping its rows: every hot key leads with the id that tells rows apart', async () => {
    const { client } = await freshDatabase();
    const before = MIGRATIONS.filter((migration) => migration.id < '014');
    await migrate(client, before);
    const entityId = '0b6f1f4e-4a8c-4d5e-9f00-000000000001';
    await client.query(`INSERT INTO tandem_entities (tenant_id, entity_id, entity_type, version, deleted, state, rev) VALUES ('t', $1, 'contact', 1, false, '{}', 1)`, [entityId]);
    await client.query(`INSERT INTO tandem_record_links (tenant_id, entity_type, system_id, record_id, entity_id) VALUES ('t', 'contact', 'crm', 'r1', $1)`, [entityId]);
    await client.query(`INSERT INTO tandem_match_keys (tenant_id, entity_type, match_key, entity_id) VALUES ('t', 'contact', 'a@example.com', $1)`, [entityId]);

    expect(await migrate(client)).toEqual(MIGRATIONS.filter((migration) => migration.id >= '014').map((migration) => migration.id));
    const { rows: indexes } = await client.query<{ name: string; columns: string[] }>(
      `SELECT i.relname AS name, array_agg(a.attname::text ORDER BY k.ordinality) AS columns
       FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
       CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, ordinality)
       JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
       WHERE t.relname IN ('tandem_entities', 'tandem_record_links', 'tandem_match_keys', 'tandem_sync_log')
       GROUP BY i.relname ORDER BY i.relname`,
    );
    expect(indexes).toEqual([
      { name: 'tandem_entities_pkey', columns: ['entity_id', 'tenant_id'] },
      { name: 'tandem_match_keys_pkey', columns: ['match_key', 'entity_type', 'tenant_id'] },
      { name: 'tandem_record_links_entity_key', columns: ['entity_id', 'system_id', 'entity_type', 'tenant_id'] },
      { name: 'tandem_record_links_pkey', columns: ['record_id', 'system_id', 'entity_type', 'tenant_id'] },
      { name: 'tandem_sync_log_entity_idx', columns: ['entity_id', 'tenant_id'] },
      { name: 'tandem_sync_log_pkey', columns: ['id'] },
    ]);
    const { rows } = await client.query<{ n: string }>(
      `SELECT (SELECT count(*) FROM tandem_entities) + (SELECT count(*) FROM tandem_record_links) + (SELECT count(*) FROM tandem_match_keys) AS n`,
    );
    expect(rows[0]?.n).toBe('3');
    // The entity's record per system is still unique.
    await expect(
      client.query(`INSERT INTO tandem_record_links (tenant_id, entity_type, system_id, record_id, entity_id) VALUES ('t', 'contact', 'crm', 'r2', $1)`, [entityId]),
    ).rejects.toThrow('tandem_record_links_entity_key');
  });
});
