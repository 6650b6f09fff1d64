import { randomUUID } from 'node:crypto';
import { createTempDatabase, planOf, recordingStatements, uniqueSuffix, type TempDatabase } from '@tandem/testing';
import { migrate } from './migrate.util';
import { createPgSqlClient, type PgSqlClient } from './pg-sql-client.driver';
import { SYNC_LOG_PRUNE_LOCK_KEY, SyncLogRepository } from './sync-log.repository';

describe('SyncLogRepository', () => {
  let db: TempDatabase;
  let client: PgSqlClient;
  let log: SyncLogRepository;

  beforeAll(async () => {
    db = await createTempDatabase('state_sync_log');
    client = createPgSqlClient(db.url);
    await migrate(client);
    log = new SyncLogRepository(client);
  });

  afterAll(async () => {
    await client.close();
    await db.drop();
  });

  it('appends a batch in order and reads one entity newest first, up to the limit', async () => {
    const tenantId = `t_${uniqueSuffix()}`;
    const [ada, grace] = [randomUUID(), randomUUID()];
    await log.append([
      { tenantId, entityId: ada, systemId: 'crm', action: 'change.received', detail: { fields: ['email'] } },
      { tenantId, entityId: grace, systemId: 'crm', action: 'change.received', detail: { reason: 'split\u001ehere, "quoted" \\ ' } },
      { tenantId, entityId: ada, systemId: 'hubspot', action: 'apply.sent', detail: { version: 2 } },
      { tenantId, entityId: null, systemId: null, action: 'batch.done', detail: { size: 3 } },
    ]);

    const entries = await log.forEntity(tenantId, ada, 10);
    expect(entries.map((e) => [e.systemId, e.action, e.detail])).toEqual([
      ['hubspot', 'apply.sent', { version: 2 }],
      ['crm', 'change.received', { fields: ['email'] }],
    ]);
    expect(entries[0]).toMatchObject({ tenantId, entityId: ada, id: expect.any(Number), at: expect.any(String) });
    expect((await log.forEntity(tenantId, ada, 1)).map((e) => e.action)).toEqual(['apply.sent']);
    expect((await log.forEntity(tenantId, grace, 10)).map((e) => e.detail)).toEqual([{ reason: 'split\u001ehere, "quoted" \\ ' }]);
    expect(await log.forEntity(`o_${uniqueSuffix()}`, ada, 10)).toEqual([]);
  });

  it('accepts an empty batch', async () => {
    await expect(log.append([])).resolves.toBeUndefined();
  });

  describe('pruning', () => {
    /** Entries of a fresh tenant logged the given number of days ago, in this order; returns their ids. */
    async function logged(tenantId: string, daysAgo: number[]): Promise<number[]> {
      const { rows } = await client.query<{ id: string }>(
        `INSERT INTO tandem_sync_log (tenant_id, entity_id, system_id, action, detail, at)
         SELECT $1, NULL, 'crm', 'change.applied', '{}'::jsonb, now() - make_interval(days => d)
         FROM unnest($2::int[]) WITH ORDINALITY AS e(d, n) ORDER BY n
         RETURNING id`,
        [tenantId, daysAgo],
      );
      return rows.map((row) => Number(row.id));
    }

    async function remaining(tenantId: string): Promise<number[]> {
      const { rows } = await client.query<{ id: string }>('SELECT id FROM tandem_sync_log WHERE tenant_id = $1 ORDER BY id', [tenantId]);
      return rows.map((row) => Number(row.id));
    }

    beforeEach(() => client.query('DELETE FROM tandem_sync_log'));

    it('deletes the entries older than the retention, oldest first and a chunk at a time, and keeps the rest', async () => {
      const tenantId = `t_${uniqueSuffix()}`;
      const ids = await logged(tenantId, [40, 39, 38, 31, 31, 29, 1, 0]);
      const bounds = await log.pruneBounds(30);
      expect(bounds.beforeId).toBe(ids[5]);
      expect(Date.now() - Date.parse(bounds.cutoff)).toBeGreaterThanOrEqual(30 * 86_400_000);

      expect(await log.pruneChunk(bounds, 2)).toBe(2);
      expect(await remaining(tenantId)).toEqual(ids.slice(2));
      expect(await log.pruneChunk(bounds, 2)).toBe(2);
      expect(await log.pruneChunk(bounds, 2)).toBe(1);
      expect(await log.pruneChunk(bounds, 2)).toBe(0);
      expect(await remaining(tenantId)).toEqual(ids.slice(5));
    });

    it('leaves an old entry logged after a newer one to a later run, rather than search the whole log for it', async () => {
      const tenantId = `t_${uniqueSuffix()}`;
      const ids = await logged(tenantId, [45, 2, 45]);
      const bounds = await log.pruneBounds(30);
      expect(await log.pruneChunk(bounds, 100)).toBe(1);
      expect(await remaining(tenantId)).toEqual(ids.slice(1));
      await client.query('DELETE FROM tandem_sync_log WHERE id = $1', [ids[1]]);
      expect(await log.pruneChunk(await log.pruneBounds(30), 100)).toBe(1);
      expect(await remaining(tenantId)).toEqual([]);
    });

    it('has no bound when every entry is older than the retention', async () => {
      const tenantId = `t_${uniqueSuffix()}`;
      await logged(tenantId, [10, 9]);
      const bounds = await log.pruneBounds(7);
      expect(bounds.beforeId).toBeNull();
      expect(await log.pruneChunk(bounds, 100)).toBe(2);
      expect(await remaining(tenantId)).toEqual([]);
    });

    it('deletes nothing while another replica holds the prune lock, and goes on once it is released', async () => {
      const tenantId = `t_${uniqueSuffix()}`;
      await logged(tenantId, [40, 40]);
      const bounds = await log.pruneBounds(30);
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      let locked!: () => void;
      const lockTaken = new Promise<void>((resolve) => (locked = resolve));
      const holder = client.transaction(async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock($1)', [SYNC_LOG_PRUNE_LOCK_KEY]);
        locked();
        await released;
      });
      await lockTaken;
      try {
        expect(await log.pruneChunk(bounds, 100)).toBeNull();
        expect(await remaining(tenantId)).toHaveLength(2);
      } finally {
        release();
        await holder;
      }
      expect(await log.pruneChunk(bounds, 100)).toBe(2);
    });

    it('finds the oldest entries through the primary key, not by reading the whole log', async () => {
      // A month and a day of entries, the day's beyond a 30-day retention, as a deployment's log holds between runs.
      await client.query(
        `INSERT INTO tandem_sync_log (tenant_id, entity_id, system_id, action, detail, at)
         SELECT 't', gen_random_uuid(), 'crm', 'change.applied', '{}'::jsonb, now() - make_interval(secs => (60000 - n) * 45)
         FROM generate_series(1, 60000) AS n`,
      );
      await client.query('ANALYZE tandem_sync_log');
      const { statements } = await recordingStatements(async () => log.pruneChunk(await log.pruneBounds(30), 1_000));
      const pruning = statements.filter(({ text }) => text.includes('tandem_sync_log'));
      expect(pruning).toHaveLength(2);
      for (const statement of pruning) {
        const plan = await planOf(client, statement);
        expect(plan.nodeTypes).not.toContain('Seq Scan');
        expect(plan.indexNames).toContain('tandem_sync_log_pkey');
      }
    });
  });
});
