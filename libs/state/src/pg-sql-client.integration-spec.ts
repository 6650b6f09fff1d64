import { createTempDatabase, type TempDatabase } from '@tandem/testing';
import { Pool } from 'pg';
import { createPgSqlClient, type PgSqlClient } from './pg-sql-client.driver';

describe('createPgSqlClient', () => {
  let db: TempDatabase;
  let client: PgSqlClient;

  beforeAll(async () => {
    db = await createTempDatabase('state_sqlclient');
    client = createPgSqlClient(db.url);
    await client.query('CREATE TABLE items (name text PRIMARY KEY)');
  });

  afterAll(async () => {
    await client.close();
    await db.drop();
  });

  beforeEach(() => client.query('DELETE FROM items'));

  const names = async (): Promise<string[]> =>
    (await client.query<{ name: string }>('SELECT name FROM items ORDER BY name')).rows.map((row) => row.name);

  it('runs parameterized queries and reports affected rows', async () => {
    const inserted = await client.query('INSERT INTO items (name) VALUES ($1), ($2)', ['a', 'b']);
    expect(inserted.rowCount).toBe(2);
    expect(await names()).toEqual(['a', 'b']);
  });

  it('runs several statements in one call without parameters and answers with the last', async () => {
    const result = await client.query<{ count: string }>(
      "INSERT INTO items (name) VALUES ('x'); INSERT INTO items (name) VALUES ('y'); SELECT count(*) FROM items",
    );
    expect(result.rows).toEqual([{ count: '2' }]);
  });

  it('commits a transaction whose work resolves', async () => {
    const result = await client.transaction(async (tx) => {
      await tx.query("INSERT INTO items (name) VALUES ('committed')");
      return 'done';
    });
    expect(result).toBe('done');
    expect(await names()).toEqual(['committed']);
  });

  it('rolls back a transaction whose work rejects, and rethrows the error', async () => {
    const failure = new Error('work failed');
    await expect(
      client.transaction(async (tx) => {
        await tx.query("INSERT INTO items (name) VALUES ('lost')");
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(await names()).toEqual([]);
  });

  it('nests transactions as savepoints: a failed inner one leaves the outer work intact', async () => {
    await client.transaction(async (tx) => {
      await tx.query("INSERT INTO items (name) VALUES ('outer')");
      await expect(
        tx.transaction(async (inner) => {
          await inner.query("INSERT INTO items (name) VALUES ('inner')");
          throw new Error('inner failed');
        }),
      ).rejects.toThrow('inner failed');
      await tx.transaction((inner) => inner.query("INSERT INTO items (name) VALUES ('inner-ok')"));
    });
    expect(await names()).toEqual(['inner-ok', 'outer']);
  });

  it('does not end a pool it was given', async () => {
    const pool = new Pool({ connectionString: db.url, max: 1 });
    const borrowed = createPgSqlClient(pool);
    await borrowed.close();
    const { rows } = await pool.query<{ one: number }>('SELECT 1 AS one');
    expect(rows).toEqual([{ one: 1 }]);
    await pool.end();
  });
});
