import { createTempDatabase, type TempDatabase } from '@tandem/testing';
import { Pool } from 'pg';
import { createPgSqlClient, type PgSqlClient, type PgSqlClientOptions } from './pg-sql-client.driver';
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

  describe('prepared statements', () => {
    let unprepared: PgSqlClient;
    beforeAll(() => {
      unprepared = createPgSqlClient(db.url, { preparedStatements: false });
    });
    afterAll(() => unprepared.close());

    describeSqlClientContract('server PostgreSQL, statements not prepared', () => unprepared);

    /** One connection, so that what the session has prepared can be read from it. */
    async function withOneConnection(work: (session: PgSqlClient, prepared: () => Promise<string[]>) => Promise<void>, options?: PgSqlClientOptions): Promise<void> {
      const pool = new Pool({ connectionString: db.url, max: 1 });
      const session = createPgSqlClient(pool, options);
      const prepared = async () =>
        (await pool.query<{ statement: string }>('SELECT statement FROM pg_prepared_statements ORDER BY statement')).rows.map((row) => row.statement);
      try {
        await work(session, prepared);
      } finally {
        await pool.end();
      }
    }

    const lookup = 'SELECT $1::int + 1 AS next';

    it('prepares a parameterized statement once per connection and runs it again bound to new values', async () => {
      await withOneConnection(async (session, prepared) => {
        expect((await session.query(lookup, [1])).rows).toEqual([{ next: 2 }]);
        expect((await session.query(lookup, [41])).rows).toEqual([{ next: 42 }]);
        await session.transaction((tx) => tx.query(lookup, [7]));
        expect(await prepared()).toEqual([lookup]);
      });
    });

    it('prepares nothing when told not to', async () => {
      await withOneConnection(async (session, prepared) => {
        expect((await session.query(lookup, [1])).rows).toEqual([{ next: 2 }]);
        expect(await prepared()).toEqual([]);
      }, { preparedStatements: false });
    });

    it('keeps a statement prepared in a transaction that rolled back, and runs it after', async () => {
      await withOneConnection(async (session) => {
        await expect(
          session.transaction(async (tx) => {
            await tx.query(lookup, [1]);
            throw new Error('abandon');
          }),
        ).rejects.toThrow('abandon');
        expect((await session.query(lookup, [2])).rows).toEqual([{ next: 3 }]);
      });
    });

    it('reports a statement the server refuses with its own error each time, and prepares it once it can run', async () => {
      await withOneConnection(async (session, prepared) => {
        const insert = 'INSERT INTO prepared_later (name) VALUES ($1)';
        await expect(session.query(insert, ['a'])).rejects.toThrow('relation "prepared_later" does not exist');
        await expect(session.query(insert, ['a'])).rejects.toThrow('relation "prepared_later" does not exist');
        await session.query('CREATE TABLE prepared_later (name text)');
        try {
          expect((await session.query(insert, ['a'])).rowCount).toBe(1);
          expect(await prepared()).toEqual([insert]);
        } finally {
          await session.query('DROP TABLE prepared_later');
        }
      });
    });

    it('prepares a bounded number of distinct statements and runs the rest unprepared', async () => {
      await withOneConnection(async (session, prepared) => {
        for (let n = 0; n < 510; n += 1) {
          expect((await session.query(`SELECT $1::int + ${n} AS sum`, [1])).rows).toEqual([{ sum: n + 1 }]);
        }
        expect(await prepared()).toHaveLength(500);
      });
    });
  });

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
