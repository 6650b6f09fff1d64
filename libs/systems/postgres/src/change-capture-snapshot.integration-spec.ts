import { createTempDatabase, eventually } from '@tandem/testing';
import { Client, Pool } from 'pg';
import { PostgresChangeCapture, type CapturedChange, type SnapshotProgress } from './change-capture.service';

const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A table that already holds `rows` rows (ids 1..rows, inserted in scrambled order) before capture is installed. */
async function setup(rows: number): Promise<{ pool: Pool; capture: PostgresChangeCapture; url: string }> {
  const db = await createTempDatabase('pg_snapshot');
  cleanups.push(() => db.drop());
  const pool = new Pool({ connectionString: db.url, max: 4 });
  cleanups.push(() => pool.end());
  await pool.query('CREATE TABLE contacts (id int PRIMARY KEY, email text)');
  await pool.query(
    `INSERT INTO contacts (id, email) SELECT n, 'c' || n FROM generate_series(1, $1) AS n ORDER BY md5(n::text)`,
    [rows],
  );
  const capture = new PostgresChangeCapture({
    pool,
    table: { table: 'contacts' },
    onListenerError: (error) => {
      throw error;
    },
  });
  cleanups.push(() => capture.close());
  await capture.install();
  return { pool, capture, url: db.url };
}

async function readAll(capture: PostgresChangeCapture): Promise<CapturedChange[]> {
  return capture.readBatch(100_000);
}

describe('PostgresChangeCapture.snapshot', () => {
  it('resumes after an interruption and copies every row exactly once, in numeric id order', async () => {
    const { capture } = await setup(2_500);
    const progress: SnapshotProgress[] = [];
    const crash = new Error('stopped after the first chunk');

    await expect(
      capture.snapshot({
        chunkSize: 1_000,
        onProgress: (p) => {
          progress.push(p);
          throw crash;
        },
      }),
    ).rejects.toBe(crash);

    const firstChunk = await readAll(capture);
    expect(firstChunk.map((c) => Number(c.recordId))).toEqual(Array.from({ length: 1_000 }, (_, i) => i + 1));

    const result = await capture.snapshot({ chunkSize: 1_000, onProgress: (p) => void progress.push(p) });

    expect(result).toEqual({ rowsDone: 2_500, rowsTotal: 2_500, done: true });
    expect(progress).toEqual([
      { rowsDone: 1_000, rowsTotal: 2_500 },
      { rowsDone: 2_000, rowsTotal: 2_500 },
      { rowsDone: 2_500, rowsTotal: 2_500 },
    ]);
    const all = await readAll(capture);
    expect(all.every((c) => c.operation === 'snapshot' && c.before === null)).toBe(true);
    expect(all.map((c) => Number(c.recordId))).toEqual(Array.from({ length: 2_500 }, (_, i) => i + 1));
    expect(all[41]!.after).toEqual({ id: 42, email: 'c42' });
  });

  it('stops between chunks when aborted, and does not repeat a finished snapshot', async () => {
    const { capture } = await setup(2_500);
    const controller = new AbortController();

    const stopped = await capture.snapshot({
      chunkSize: 1_000,
      onProgress: () => controller.abort(),
      signal: controller.signal,
    });

    expect(stopped).toEqual({ rowsDone: 1_000, rowsTotal: 2_500, done: false });
    expect(await capture.snapshot({ chunkSize: 1_000 })).toEqual({ rowsDone: 2_500, rowsTotal: 2_500, done: true });
    const progress: SnapshotProgress[] = [];
    expect(await capture.snapshot({ chunkSize: 1_000, onProgress: (p) => void progress.push(p) })).toEqual({
      rowsDone: 2_500,
      rowsTotal: 2_500,
      done: true,
    });
    expect(progress).toEqual([]);
    expect(await capture.pendingCount()).toBe(2_500);
  });

  it('orders a snapshot copy after a concurrent update of the same row', async () => {
    const { capture, url } = await setup(10);
    const writer = new Client({ connectionString: url });
    await writer.connect();
    cleanups.push(() => writer.end());
    await writer.query('BEGIN');
    await writer.query(`UPDATE contacts SET email = 'updated' WHERE id = 5`);

    const snapshot = capture.snapshot({ chunkSize: 100 });
    // Wait until the snapshot is blocked on the updated row, so it must read the row after COMMIT.
    await eventually(async () => {
      const { rows } = await writer.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE pg_backend_pid() = ANY(pg_blocking_pids(pid))`,
      );
      expect(rows[0].n).toBe(1);
    });
    await writer.query('COMMIT');
    await snapshot;

    const forRow5 = (await readAll(capture)).filter((c) => c.recordId === '5');
    expect(forRow5.map((c) => c.operation)).toEqual(['update', 'snapshot']);
    expect(forRow5[1]!.after).toEqual({ id: 5, email: 'updated' });
  });
});
