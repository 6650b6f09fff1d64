import { PGlite } from '@electric-sql/pglite';
import { Client, Pool } from 'pg';
import { PgliteWireServer } from './pglite-wire-server.service';

describe('PgliteWireServer', () => {
  let db: PGlite;
  let server: PgliteWireServer;
  let pool: Pool;
  const errors: unknown[] = [];

  beforeAll(async () => {
    db = await PGlite.create();
    server = await PgliteWireServer.start({ db, port: 0, onError: (error) => errors.push(error) });
    pool = new Pool({ connectionString: server.url, max: 6 });
    await pool.query('CREATE TABLE items (id serial PRIMARY KEY, owner int NOT NULL, payload text NOT NULL)');
  });

  afterAll(async () => {
    await pool.end();
    await server.close();
    await db.close();
  });

  it('shares one session between connections: a statement prepared by name on one is there for another', async () => {
    const [first, second] = [new Client({ connectionString: server.url }), new Client({ connectionString: server.url })];
    await first.connect();
    await second.connect();
    try {
      await first.query({ name: 'shared_statement', text: 'SELECT $1::int + 1 AS n', values: [1] });
      // The second client prepares the name anew, as it would on a server of its own, and is refused:
      // why the process's appliers do not prepare statements on its databases.
      await expect(second.query({ name: 'shared_statement', text: 'SELECT $1::int + 1 AS n', values: [2] })).rejects.toThrow(/already exists/);
    } finally {
      await first.end();
      await second.end();
    }
  });

  it('keeps each connection’s extended queries and transactions whole under concurrency', async () => {
    // Messages of 300 kB arrive in several packets: the case where sharing message by message mixes connections.
    const large = 'x'.repeat(300_000);
    const wrong: string[] = [];
    await Promise.all(
      Array.from({ length: 60 }, async (_, i) => {
        switch (i % 3) {
          case 0: {
            const { rows } = await pool.query<{ n: number }>('SELECT length($1::text) AS n', [`${large}${i}`]);
            if (rows[0]?.n !== large.length + String(i).length) wrong.push(`length ${i}`);
            return;
          }
          case 1: {
            const { rows } = await pool.query<{ v: string }>("SELECT $1::text || '-' || $2::text AS v", [String(i), 'x']);
            if (rows[0]?.v !== `${i}-x`) wrong.push(`concat ${i}`);
            return;
          }
          default: {
            const client = await pool.connect();
            try {
              await client.query('BEGIN');
              await client.query('INSERT INTO items (owner, payload) VALUES ($1, $2), ($1, $3)', [i, large, 'small']);
              const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM items WHERE owner = $1', [i]);
              if (rows[0]?.n !== 2) wrong.push(`transaction ${i} saw ${rows[0]?.n}`);
              await client.query(i % 2 === 0 ? 'COMMIT' : 'ROLLBACK');
            } finally {
              client.release();
            }
          }
        }
      }),
    );
    expect(wrong).toEqual([]);
    const { rows } = await pool.query<{ owners: number[] | null }>('SELECT array_agg(DISTINCT owner ORDER BY owner) AS owners FROM items');
    expect(rows[0]?.owners).toEqual(Array.from({ length: 60 }, (_, i) => i).filter((i) => i % 3 === 2 && i % 2 === 0));
    expect(errors).toEqual([]);
  });

  it('rolls back the open transaction of a client that disconnects, and lets the others go on', async () => {
    const client = new Client({ connectionString: server.url });
    // The connection is cut on purpose below.
    client.on('error', () => undefined);
    await client.connect();
    await client.query('BEGIN');
    await client.query('INSERT INTO items (owner, payload) VALUES (-1, $1)', ['abandoned']);
    // Waits for the turn the open transaction holds.
    const other = pool.query<{ n: number }>('SELECT count(*)::int AS n FROM items WHERE owner = -1');
    client.connection.stream.destroy();
    expect((await other).rows[0]?.n).toBe(0);
    expect(db.isInTransaction()).toBe(false);
  });
});
