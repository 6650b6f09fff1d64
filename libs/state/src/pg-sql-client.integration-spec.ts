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
});
