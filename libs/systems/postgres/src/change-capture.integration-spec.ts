import { createTempDatabase, eventually, uniqueSuffix, type TempDatabase } from '@tandem/testing';
import { Client, Pool } from 'pg';
import { PostgresChangeCapture, type CapturedChange } from './change-capture.service';
import { PostgresApplier } from './postgres-applier.service';
import type { PostgresSystemError } from './postgres-system.error';

interface Harness {
  db: TempDatabase;
  pool: Pool;
  capture: PostgresChangeCapture;
  listenerErrors: PostgresSystemError[];
  /** A separate connection, for transactions the test holds open. */
  connect(): Promise<Client>;
}

const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(): Promise<Harness> {
  const db = await createTempDatabase('pg_capture');
  cleanups.push(() => db.drop());
  const pool = new Pool({ connectionString: db.url, max: 4 });
  cleanups.push(() => pool.end());
  await pool.query('CREATE TABLE contacts (id serial PRIMARY KEY, email text, score int, meta json)');
  const listenerErrors: PostgresSystemError[] = [];
  const capture = new PostgresChangeCapture({
    pool,
    table: { table: 'contacts' },
    onListenerError: (error) => listenerErrors.push(error),
    listenerReconnectDelayMs: 50,
  });
  cleanups.push(() => capture.close());
  await capture.install();
  const connect = async (): Promise<Client> => {
    const client = new Client({ connectionString: db.url });
    await client.connect();
    cleanups.push(() => client.end());
    return client;
  };
  return { db, pool, capture, listenerErrors, connect };
}

/** The backend of the listen connection, once its LISTEN has completed (it is idle after it). */
async function listeningPid(pool: Pool): Promise<number | undefined> {
  const { rows } = await pool.query(
    `SELECT pid FROM pg_stat_activity WHERE application_name = 'tandem-change-listener' AND datname = current_database()
        AND state = 'idle' AND query LIKE 'LISTEN %'`,
  );
  return rows[0]?.pid;
}

/** Reads and acknowledges everything pending, the way a connector does after publishing. */
async function drain(capture: PostgresChangeCapture, batchSize = 500): Promise<CapturedChange[]> {
  const all: CapturedChange[] = [];
  for (;;) {
    const batch = await capture.readBatch(batchSize);
    if (batch.length === 0) return all;
    all.push(...batch);
    await capture.acknowledge(batch);
  }
}

describe('PostgresChangeCapture', () => {
  it('captures inserts, updates and deletes with before and after, in commit order', async () => {
    const { pool, capture } = await setup();
    await pool.query(`INSERT INTO contacts (email, score) VALUES ('ada@example.com', 1)`);
    await pool.query(`UPDATE contacts SET score = 2 WHERE id = 1`);
    await pool.query(`DELETE FROM contacts WHERE id = 1`);

    const changes = await capture.readBatch(10);

    expect(changes.map((c) => [c.operation, c.recordId])).toEqual([
      ['insert', '1'],
      ['update', '1'],
      ['delete', '1'],
    ]);
    const [insert, update, remove] = changes;
    expect(insert!.before).toBeNull();
    expect(insert!.after).toEqual({ id: 1, email: 'ada@example.com', score: 1, meta: null });
    expect(update!.before).toMatchObject({ score: 1 });
    expect(update!.after).toMatchObject({ score: 2 });
    expect(remove!.before).toMatchObject({ id: 1, score: 2 });
    expect(remove!.after).toBeNull();
    expect(changes.map((c) => BigInt(c.sequence))).toEqual(
      [...changes.map((c) => BigInt(c.sequence))].sort((a, b) => (a < b ? -1 : 1)),
    );
    expect(insert!.changedAt).toBeInstanceOf(Date);
  });

  it('skips updates that change nothing, also on tables with json columns', async () => {
    const { pool, capture } = await setup();
    await pool.query(`INSERT INTO contacts (email, meta) VALUES ('ada@example.com', '{"a": 1}')`);
    await drain(capture);

    await pool.query(`UPDATE contacts SET email = email, meta = meta`);
    await pool.query(`UPDATE contacts SET score = 5`);

    const changes = await capture.readBatch(10);
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ operation: 'update', after: { score: 5, meta: { a: 1 } } });
  });

  it('installs idempotently: a second install adds no second trigger', async () => {
    const { pool, capture } = await setup();
    await capture.install();
    await pool.query(`INSERT INTO contacts (email) VALUES ('ada@example.com')`);

    expect(await capture.readBatch(10)).toHaveLength(1);
    const { rows } = await pool.query(
      `SELECT count(*)::int AS n FROM pg_trigger WHERE tgrelid = 'contacts'::regclass AND NOT tgisinternal`,
    );
    expect(rows[0].n).toBe(2);
  });

  it('acknowledge removes exactly the acknowledged changes', async () => {
    const { pool, capture } = await setup();
    await pool.query(`INSERT INTO contacts (email) SELECT 'c' || n FROM generate_series(1, 3) AS n`);
    const [first, second, third] = await capture.readBatch(10);

    expect(await capture.acknowledge([first!, second!])).toBe(2);

    expect(await capture.pendingCount()).toBe(1);
    expect((await capture.readBatch(10)).map((c) => c.sequence)).toEqual([third!.sequence]);
  });

  it('reads a transaction that commits after a later one, instead of skipping it', async () => {
    const { capture, connect } = await setup();
    const early = await connect();
    const late = await connect();
    await early.query('BEGIN');
    await early.query(`INSERT INTO contacts (email) VALUES ('early@example.com')`);
    await late.query(`INSERT INTO contacts (email) VALUES ('late@example.com')`);

    const firstRead = await capture.readBatch(10);
    expect(firstRead.map((c) => c.after?.['email'])).toEqual(['late@example.com']);
    await capture.acknowledge(firstRead);
    await early.query('COMMIT');

    const secondRead = await capture.readBatch(10);
    expect(secondRead.map((c) => c.after?.['email'])).toEqual(['early@example.com']);
    expect(BigInt(secondRead[0]!.sequence)).toBeLessThan(BigInt(firstRead[0]!.sequence));
  });

  it('captures every one of many changes made in the same millisecond', async () => {
    const { pool, capture } = await setup();
    await pool.query(`INSERT INTO contacts (email) SELECT 'c' || n FROM generate_series(1, 1000) AS n`);

    const changes = await drain(capture, 300);

    expect(new Set(changes.map((c) => c.recordId)).size).toBe(1000);
    const sequences = changes.map((c) => BigInt(c.sequence));
    expect(sequences.every((sequence, i) => i === 0 || sequence > sequences[i - 1]!)).toBe(true);
    const perMillisecond = new Map<number, number>();
    for (const change of changes) {
      perMillisecond.set(change.changedAt.getTime(), (perMillisecond.get(change.changedAt.getTime()) ?? 0) + 1);
    }
    expect(Math.max(...perMillisecond.values())).toBeGreaterThan(1);
  });

  it('keeps each record in order across concurrent transactions while a reader consumes', async () => {
    const { pool, capture, connect } = await setup();
    await pool.query(`INSERT INTO contacts (id, email, score) VALUES (1, 'a', 0), (2, 'b', 0)`);
    await drain(capture);
    const writers = await Promise.all([connect(), connect(), connect(), connect()]);

    const consumed: CapturedChange[] = [];
    let writing = true;
    const reader = (async () => {
      while (writing) consumed.push(...(await drain(capture, 7)));
    })();
    await Promise.all(
      writers.map(async (writer, index) => {
        for (let i = 0; i < 25; i += 1) {
          await writer.query('BEGIN');
          await writer.query(`UPDATE contacts SET score = score + 1 WHERE id = $1`, [1 + (index % 2)]);
          await writer.query('COMMIT');
        }
      }),
    );
    writing = false;
    await reader;
    consumed.push(...(await drain(capture)));

    for (const recordId of ['1', '2']) {
      const scores = consumed
        .filter((c) => c.recordId === recordId)
        .map((c) => [c.before?.['score'], c.after?.['score']]);
      expect(scores).toEqual(Array.from({ length: 50 }, (_, i) => [i, i + 1]));
    }
  });

  it('waitForChanges wakes on a commit, times out when idle, and stops on abort', async () => {
    const { pool, capture } = await setup();
    // The first wait connects the listener, which wakes once for anything sent before it listened.
    await capture.waitForChanges(5_000);

    expect(await capture.waitForChanges(100)).toBe('timeout');

    const waiting = capture.waitForChanges(10_000);
    await pool.query(`INSERT INTO contacts (email) VALUES ('ada@example.com')`);
    expect(await waiting).toBe('notified');

    const controller = new AbortController();
    const aborted = capture.waitForChanges(10_000, controller.signal);
    controller.abort();
    expect(await aborted).toBe('aborted');
  });

  it('listens again after the listen connection is dropped, and reports the drop', async () => {
    const { pool, capture, listenerErrors } = await setup();
    await capture.waitForChanges(5_000);
    const listenerPid = () => listeningPid(pool);
    const firstPid = await listenerPid();
    expect(firstPid).toBeDefined();
    await pool.query('SELECT pg_terminate_backend($1)', [firstPid]);

    await eventually(() => expect(listenerErrors.length).toBeGreaterThan(0));
    await eventually(async () => {
      const pid = await listenerPid();
      expect(pid).toBeDefined();
      expect(pid).not.toBe(firstPid);
    });
    // The reconnect wakes a waiter (changes committed meanwhile notified no one). Taken here, so
    // that the next wake-up can only come from a notification; the connection's own backend is
    // listening already, but its client may take a moment under load to hear back.
    expect(await capture.waitForChanges(10_000)).toBe('notified');
    expect(await capture.waitForChanges(100)).toBe('timeout');
    const waiting = capture.waitForChanges(10_000);
    await pool.query(`INSERT INTO contacts (email) VALUES ('ada@example.com')`);
    expect(await waiting).toBe('notified');
  });

  it('keeps trying to listen again while the database refuses connections, with nobody waiting', async () => {
    const { db, pool, capture, listenerErrors } = await setup();
    await capture.waitForChanges(5_000);
    const firstPid = await listeningPid(pool);
    expect(firstPid).toBeDefined();
    // A database cannot refuse connections while the session altering it is connected to it.
    const adminUrl = new URL(db.url);
    adminUrl.pathname = '/postgres';
    const admin = new Client({ connectionString: adminUrl.toString() });
    await admin.connect();
    cleanups.push(() => admin.end());
    await admin.query(`ALTER DATABASE ${db.name} ALLOW_CONNECTIONS false`);
    await pool.query('SELECT pg_terminate_backend($1)', [firstPid]);

    // The drop, then attempts refused one after another: no wait() asks for them.
    await eventually(() => expect(listenerErrors.length).toBeGreaterThanOrEqual(3));
    expect(listenerErrors.slice(1).map((error) => error.message).join('\n')).toMatch(/not currently accepting connections/);
    await admin.query(`ALTER DATABASE ${db.name} ALLOW_CONNECTIONS true`);

    await eventually(async () => expect(await listeningPid(pool)).toBeDefined());
    expect(await capture.waitForChanges(10_000)).toBe('notified');
    const waiting = capture.waitForChanges(10_000);
    await pool.query(`INSERT INTO contacts (email) VALUES ('ada@example.com')`);
    expect(await waiting).toBe('notified');
  });

  it('lets a role without rights on schema tandem write the watched table, and captures it', async () => {
    const { db, pool, capture } = await setup();
    const role = `app_${uniqueSuffix()}`;
    await pool.query(`CREATE ROLE ${role} LOGIN`);
    cleanups.push(async () => {
      await pool.query(`DROP OWNED BY ${role}`);
      await pool.query(`DROP ROLE ${role}`);
    });
    await pool.query(`GRANT INSERT, SELECT ON contacts TO ${role}; GRANT USAGE ON SEQUENCE contacts_id_seq TO ${role}`);
    const url = new URL(db.url);
    url.username = role;
    const app = new Client({ connectionString: url.toString() });
    await app.connect();
    cleanups.push(() => app.end());

    await app.query(`INSERT INTO contacts (email) VALUES ('app@example.com')`);

    await expect(app.query('SELECT * FROM tandem.changes')).rejects.toThrow(/permission denied/);
    expect((await capture.readBatch(10)).map((c) => c.after?.['email'])).toEqual(['app@example.com']);
  });
});

describe('installing again on a database in use', () => {
  it("never deadlocks with the applier waiting on a row a customer's transaction holds", async () => {
    const { pool, db, connect } = await setup();
    const entityId = '6f1c1a52-4d1b-4c59-9d0e-7c1f2a3b4c5d';
    const applier = new PostgresApplier({ pool, table: { table: 'contacts' } });
    await applier.install();
    const [created] = await applier.apply([{ commandId: 'c1', entityId, recordId: null, operation: 'upsert', version: 1, fields: { email: 'a@example.com' } }]);
    const recordId = created!.recordId!;

    // The customer holds the row; Tandem's write to it waits, holding its statement's table locks.
    const customer = await connect();
    await customer.query('BEGIN');
    await customer.query('SELECT 1 FROM contacts WHERE id = $1 FOR UPDATE', [recordId]);
    const applying = applier.apply([{ commandId: 'c2', entityId, recordId, operation: 'upsert', version: 2, fields: { email: 'b@example.com' } }]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    // A connector restarting now installs again...
    const restarted = new Pool({ connectionString: db.url, max: 2 });
    const installing = new PostgresChangeCapture({ pool: restarted, table: { table: 'contacts' }, onListenerError: () => undefined }).install();
    await new Promise((resolve) => setTimeout(resolve, 300));
    try {
      // ...and the customer's next write, captured, must not be the victim of a lock cycle.
      await customer.query("UPDATE contacts SET email = 'c@example.com' WHERE id = $1", [recordId]);
      await customer.query('COMMIT');
      await installing;
      await applying;
    } finally {
      await restarted.end();
    }
  });
});
