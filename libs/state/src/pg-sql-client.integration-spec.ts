import { createTempDatabase, type TempDatabase } from '@tandem/testing';
import { Pool } from 'pg';
import { createPgSqlClient, type PgSqlClient } from './pg-sql-client.driver';
import { describeSqlClientContract } from './sql-client.contract';

describe('createPgSqlClient', () => {
  let db: TempDatabase;
  let client: PgSqlClient;

  beforeAll(async () => {
    db = await createTempDatabase('state_sqlclient');
    client = createPgSqlClient(db.url);
  });

  afterAll(async () => {
    await client.close();
    await db.drop();
  });

  describeSqlClientContract('server PostgreSQL', () => client);

  it('does not end a pool it was given', async () => {
    const pool = new Pool({ connectionString: db.url, max: 1 });
    const borrowed = createPgSqlClient(pool);
    await borrowed.close();
    const { rows } = await pool.query<{ one: number }>('SELECT 1 AS one');
    expect(rows).toEqual([{ one: 1 }]);
    await pool.end();
  });

  it('outlives the server ending one of its idle sessions, and reconnects for the next query', async () => {
    const own = createPgSqlClient(db.url);
    try {
      const { rows } = await own.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      await client.query('SELECT pg_terminate_backend($1)', [rows[0]?.pid]);
      // The terminated session's error arrives on the idle connection; without a listener it would be thrown.
      await new Promise((resolve) => setTimeout(resolve, 100));
      const after = await own.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      expect(after.rows[0]?.pid).not.toBe(rows[0]?.pid);
    } finally {
      await own.close();
    }
  });
});
