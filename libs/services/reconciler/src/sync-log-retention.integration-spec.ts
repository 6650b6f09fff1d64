import { createPgSqlClient, migrate, SYNC_LOG_PRUNE_LOCK_KEY, type PgSqlClient } from '@tandem/state';
import { createTempDatabase, eventually, type TempDatabase } from '@tandem/testing';
import pino from 'pino';
import { SyncLogRetention } from './sync-log-retention';

describe('SyncLogRetention', () => {
  let db: TempDatabase;
  let client: PgSqlClient;
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });

  beforeAll(async () => {
    db = await createTempDatabase('sync_log_retention');
    client = createPgSqlClient(db.url);
    await migrate(client);
  });

  afterAll(async () => {
    await client.close();
    await db.drop();
  });

  beforeEach(async () => {
    lines.length = 0;
    await client.query('DELETE FROM tandem_sync_log');
  });

  async function logged(count: number, daysAgo: number): Promise<void> {
    await client.query(
      `INSERT INTO tandem_sync_log (tenant_id, entity_id, system_id, action, detail, at)
       SELECT 'acme', gen_random_uuid(), 'crm', 'change.applied', '{}'::jsonb, now() - make_interval(days => $2::int)
       FROM generate_series(1, $1::int)`,
      [count, daysAgo],
    );
  }

  async function entriesOlderThan(days: number): Promise<number> {
    const { rows } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM tandem_sync_log WHERE at < now() - make_interval(days => $1::int)`, [days]);
    return rows[0]!.n;
  }

  it('deletes every entry older than the retention in chunks, showing its progress, and keeps the newer ones', async () => {
    await logged(25, 40);
    await logged(7, 3);
    const retention = new SyncLogRetention(client, 30, logger, { chunkRows: 10 });

    const report = await retention.runOnce();

    expect(report).toMatchObject({ deleted: 25, yielded: false });
    expect(await entriesOlderThan(30)).toBe(0);
    expect(await entriesOlderThan(0)).toBe(7);
    expect(lines.filter((line) => line['msg'] === 'pruning the sync log').map((line) => line['deleted'])).toEqual([10, 20]);
    expect(lines.find((line) => line['msg'] === 'sync log pruned')).toMatchObject({ deleted: 25, cutoff: report.cutoff });
    expect(retention.status()).toEqual({ retentionDays: 30, lastRun: report });
  });

  it('yields to a replica that is pruning, and deletes nothing meanwhile', async () => {
    await logged(5, 40);
    const [first, second] = [new SyncLogRetention(client, 30, logger), new SyncLogRetention(client, 30, logger)];
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    // The first replica's chunk holds the lock until released, as a long one would.
    const holding = client.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [SYNC_LOG_PRUNE_LOCK_KEY]);
      const report = await second.runOnce();
      release();
      return report;
    });
    await released;

    expect(await holding).toMatchObject({ deleted: 0, yielded: true });
    expect(await entriesOlderThan(30)).toBe(5);
    expect(await first.runOnce()).toMatchObject({ deleted: 5, yielded: false });
  });

  it('runs again on its schedule until stopped, and not after', async () => {
    const retention = new SyncLogRetention(client, 30, logger, { firstRunAfterMs: 0, runEveryMs: 20 });
    await logged(3, 40);
    retention.start();
    await eventually(async () => expect(await entriesOlderThan(30)).toBe(0));
    await logged(2, 35);
    await eventually(async () => expect(await entriesOlderThan(30)).toBe(0));

    await retention.stop();
    await logged(4, 35);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await entriesOlderThan(30)).toBe(4);
    expect(await retention.runOnce()).toMatchObject({ deleted: 0 });
  });
});
