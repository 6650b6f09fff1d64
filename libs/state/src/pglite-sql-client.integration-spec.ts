import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTempDatabase, uniqueSuffix } from '@tandem/testing';
import { CheckpointRepository } from './checkpoint.repository';
import { ConflictLogRepository } from './conflict-log.repository';
import { EntityStateRepository, type EntityStateWrite } from './entity-state.repository';
import { IdentityRepository } from './identity.repository';
import { migrate } from './migrate.util';
import { MIGRATIONS } from './migrations';
import { createPgSqlClient } from './pg-sql-client.driver';
import { createPgliteSqlClient, type PgliteSqlClient } from './pglite-sql-client.driver';
import { RecordErrorRepository } from './record-error.repository';
import { describeSqlClientContract } from './sql-client.contract';
import type { SqlClient } from './sql-client.interface';
import { isStateError, StaleStateError, StateErrorCode } from './state.error';
import { SyncLogRepository } from './sync-log.repository';

// Each embedded database costs seconds of CPU to create, so the suites share as few as they can.

async function tables(client: SqlClient): Promise<string[]> {
  const { rows } = await client.query<{ table_name: string }>(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
  );
  return rows.map((row) => row.table_name);
}

/** Columns, types, defaults and indexes: what the migrations made of the schema. */
async function schemaOf(client: SqlClient): Promise<unknown[]> {
  const columns = await client.query(
    `SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns
     WHERE table_schema = 'public' ORDER BY table_name, column_name`,
  );
  const indexes = await client.query(
    "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY tablename, indexname",
  );
  return [...columns.rows, ...indexes.rows];
}

describe('createPgliteSqlClient', () => {
  let client: PgliteSqlClient;

  beforeAll(async () => {
    client = await createPgliteSqlClient();
  });

  afterAll(() => client.close());

  describe('migrations', () => {
    // One fresh database for both cases, in this order: a broken run must leave it empty.
    it('applies nothing of a run whose migration fails, and names that migration', async () => {
      const broken = [...MIGRATIONS, { id: '999_broken', sql: 'CREATE TABLE probe (id int); SELECT no_such_column FROM probe' }];
      const error = await migrate(client, broken).catch((caught: unknown) => caught);
      expect(isStateError(error, StateErrorCode.MigrationFailed)).toBe(true);
      expect((error as Error).message).toContain('999_broken');
      expect(await tables(client)).toEqual([]);
    });

    it('applies the server migrations unchanged, each once, to the same schema as on the server', async () => {
      expect(await migrate(client)).toEqual(MIGRATIONS.map((m) => m.id));
      expect(await migrate(client)).toEqual([]);

      const serverDb = await createTempDatabase('state_pglite_schema');
      const server = createPgSqlClient(serverDb.url);
      try {
        await migrate(server);
        const serverSchema = await schemaOf(server);
        expect(serverSchema.length).toBeGreaterThan(20);
        expect(await schemaOf(client)).toEqual(serverSchema);
      } finally {
        await server.close();
        await serverDb.drop();
      }
    });

    it('lets several services in the process migrate at once: one applies, the others find it done', async () => {
      const runs = await Promise.all([migrate(client), migrate(client), migrate(client)]);
      expect(runs.flat()).toEqual([]);
    });
  });

  describeSqlClientContract('PGlite', () => client);

  describe('one connection shared by the process', () => {
    beforeAll(() => client.query('CREATE TABLE items (name text PRIMARY KEY)'));
    beforeEach(() => client.query('DELETE FROM items'));

    const names = async (): Promise<string[]> =>
      (await client.query<{ name: string }>('SELECT name FROM items ORDER BY name')).rows.map((row) => row.name);

    it("never runs a caller's query inside another caller's open transaction", async () => {
      const events: string[] = [];
      let inserted!: () => void;
      const holding = new Promise<void>((resolve) => (inserted = resolve));
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      const rolledBack = client.transaction(async (tx) => {
        await tx.query("INSERT INTO items (name) VALUES ('held')");
        inserted();
        await released;
        events.push('transaction ends');
        throw new Error('roll back');
      });
      await holding;
      const outside = client.query("INSERT INTO items (name) VALUES ('outside')").then(() => events.push('outside ran'));
      release();
      await expect(rolledBack).rejects.toThrow('roll back');
      await outside;
      // Had it run inside the transaction, the rollback would have taken it too.
      expect(events).toEqual(['transaction ends', 'outside ran']);
      expect(await names()).toEqual(['outside']);
    });

    it('serialises concurrent read-modify-write transactions so no update is lost', async () => {
      await client.query("INSERT INTO items (name) VALUES ('0')");
      await Promise.all(
        Array.from({ length: 20 }, () =>
          client.transaction(async (tx) => {
            const { rows } = await tx.query<{ name: string }>('SELECT name FROM items');
            await new Promise((resolve) => setImmediate(resolve));
            await tx.query('UPDATE items SET name = $1', [String(Number(rows[0]?.name) + 1)]);
          }),
        ),
      );
      expect(await names()).toEqual(['20']);
    });

    it('fails, instead of waiting forever, when the outer client is used inside its own transaction', async () => {
      await client.transaction(async (tx) => {
        const error = await client.query('SELECT 1').catch((caught: unknown) => caught);
        expect(isStateError(error, StateErrorCode.ConnectionInUse)).toBe(true);
        await expect(client.transaction(async () => undefined)).rejects.toThrow(/transaction client/);
        await tx.query("INSERT INTO items (name) VALUES ('still usable')");
      });
      expect(await names()).toEqual(['still usable']);
    });
  });

  describe('repositories', () => {
    let tenantId: string;
    beforeEach(() => {
      tenantId = `t_${uniqueSuffix()}`;
    });

    interface TestState {
      name: string;
    }
    const write = (entityId: string, name: string, expectedRev: number | null, version = 1): EntityStateWrite<TestState> => ({
      tenantId,
      entityId,
      entityType: 'contact',
      version,
      deleted: false,
      state: { name },
      expectedRev,
    });

    it('EntityStateRepository saves, reloads and refuses stale batches whole', async () => {
      const entities = new EntityStateRepository<TestState>(client);
      const [a, b, fresh] = [randomUUID(), randomUUID(), randomUUID()];
      expect(await entities.saveMany([write(a, 'Ada', null), write(b, 'Grace', null)])).toEqual(new Map([[a, 1], [b, 1]]));
      expect(await entities.saveMany([write(a, 'Ada Lovelace', 1, 2)])).toEqual(new Map([[a, 2]]));

      const error = await entities.saveMany([write(fresh, 'New', null), write(a, 'stale', 1, 2)]).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(StaleStateError);
      expect((error as StaleStateError).entityIds).toEqual([a]);

      const loaded = await entities.loadMany(tenantId, [a, b, fresh]);
      expect(loaded.get(a)).toEqual({ state: { name: 'Ada Lovelace' }, rev: 2 });
      expect(loaded.get(b)).toEqual({ state: { name: 'Grace' }, rev: 1 });
      expect(loaded.has(fresh)).toBe(false);
    });

    it("EntityStateRepository undoes a stale save alone inside the caller's transaction", async () => {
      const entities = new EntityStateRepository<TestState>(client);
      const [existing, other] = [randomUUID(), randomUUID()];
      await entities.saveMany([write(existing, 'Ada', null), write(other, 'Grace', null)]);
      await entities.saveMany([write(existing, 'Ada elsewhere', 1, 2)]);
      await client.transaction(async (tx) => {
        const inTx = new EntityStateRepository<TestState>(tx);
        await expect(inTx.saveMany([write(other, 'Grace v2', 1, 2), write(existing, 'stale', 1, 2)])).rejects.toBeInstanceOf(
          StaleStateError,
        );
        await inTx.saveMany([write(other, 'Grace v2', 1, 2)]);
      });
      const loaded = await entities.loadMany(tenantId, [existing, other]);
      expect(loaded.get(existing)).toEqual({ state: { name: 'Ada elsewhere' }, rev: 2 });
      expect(loaded.get(other)).toEqual({ state: { name: 'Grace v2' }, rev: 2 });
    });

    it('EntityStateRepository lets exactly one of two concurrent writers with the same rev win', async () => {
      const entities = new EntityStateRepository<TestState>(client);
      const id = randomUUID();
      await entities.saveMany([write(id, 'Ada', null)]);
      const results = await Promise.allSettled([
        entities.saveMany([write(id, 'from A', 1, 2)]),
        entities.saveMany([write(id, 'from B', 1, 2)]),
      ]);
      expect(results.map((result) => result.status).sort()).toEqual(['fulfilled', 'rejected']);
      expect((await entities.loadMany(tenantId, [id])).get(id)?.rev).toBe(2);
    });

    it('IdentityRepository matches across systems and writes nothing when the caller rolls back', async () => {
      const identity = new IdentityRepository(client);
      const crm = await identity.resolve(tenantId, 'contact', 'crm', [
        { recordId: 'c-1', matchKey: 'ada@example.com' },
        { recordId: 'c-2', matchKey: null },
      ]);
      const hubspot = await identity.resolve(tenantId, 'contact', 'hubspot', [
        { recordId: 'h-1', matchKey: 'ada@example.com' },
        { recordId: 'h-2', matchKey: 'new@example.com' },
      ]);
      expect(hubspot.get('h-1')).toEqual({ entityId: crm.get('c-1')?.entityId, created: false, matched: true });
      expect(hubspot.get('h-2')).toMatchObject({ created: true, matched: false });
      const entityId = crm.get('c-1')!.entityId;
      expect(await identity.linksOf(tenantId, [entityId])).toEqual(
        new Map([
          [
            entityId,
            [
              { entityType: 'contact', systemId: 'crm', recordId: 'c-1' },
              { entityType: 'contact', systemId: 'hubspot', recordId: 'h-1' },
            ],
          ],
        ]),
      );

      await expect(
        client.transaction(async (tx) => {
          await new IdentityRepository(tx).resolve(tenantId, 'contact', 'crm', [{ recordId: 'c-9', matchKey: 'gone@example.com' }]);
          throw new Error('batch failed');
        }),
      ).rejects.toThrow('batch failed');
      const after = await identity.resolve(tenantId, 'contact', 'hubspot', [{ recordId: 'h-9', matchKey: 'gone@example.com' }]);
      expect(after.get('h-9')).toMatchObject({ created: true, matched: false });
    });

    it('IdentityRepository pairs many keys one to one when two systems resolve at once', async () => {
      const keys = Array.from({ length: 50 }, (_, i) => `person${i}@example.com`);
      const identity = new IdentityRepository(client);
      const [crm, hubspot] = await Promise.all([
        identity.resolve(tenantId, 'contact', 'crm', keys.map((key, i) => ({ recordId: `c-${i}`, matchKey: key }))),
        identity.resolve(tenantId, 'contact', 'hubspot', keys.map((key, i) => ({ recordId: `h-${i}`, matchKey: key }))),
      ]);
      keys.forEach((_, i) => expect(hubspot.get(`h-${i}`)?.entityId).toBe(crm.get(`c-${i}`)?.entityId));
    });

    it('the checkpoint, sync log, record error and conflict repositories round-trip', async () => {
      const checkpoints = new CheckpointRepository(client);
      expect(await checkpoints.save(tenantId, 'hubspot', 'contacts', 'cursor-2', 7)).toBe(true);
      expect(await checkpoints.save(tenantId, 'hubspot', 'contacts', 'cursor-1', 6)).toBe(false);
      expect(await checkpoints.get(tenantId, 'hubspot', 'contacts')).toEqual({
        position: 'cursor-2',
        fencingToken: 7,
        updatedAt: expect.any(String),
      });

      const entityId = randomUUID();
      const log = new SyncLogRepository(client);
      await log.append([
        { tenantId, entityId, systemId: 'crm', action: 'change.applied', detail: { commands: 1 } },
        { tenantId, entityId, systemId: 'hubspot', action: 'apply.applied', detail: {} },
      ]);
      expect((await log.forEntity(tenantId, entityId, 10)).map((entry) => entry.action)).toEqual(['apply.applied', 'change.applied']);
      // Pruned like on the server: the entries are a day old, so a retention of one day takes them, under the lock.
      await client.query(`UPDATE tandem_sync_log SET at = at - interval '25 hours' WHERE tenant_id = $1`, [tenantId]);
      const bounds = await log.pruneBounds(1);
      expect(await log.pruneChunk(bounds, 100)).toBe(2);
      expect(await log.forEntity(tenantId, entityId, 10)).toEqual([]);

      const errors = new RecordErrorRepository(client);
      const ids = await errors.record([
        { tenantId, systemId: 'crm', entityId, recordId: 'r-1', commandId: null, code: 'invalid', message: 'bad', payload: { a: 1 } },
      ]);
      expect(await errors.list({ tenantId, limit: 5 })).toEqual([
        expect.objectContaining({ id: ids[0], code: 'invalid', payload: { a: 1 }, redrivenAt: null }),
      ]);

      const conflicts = new ConflictLogRepository(client);
      const conflictId = randomUUID();
      await conflicts.record([
        {
          tenantId,
          occurredAt: '2024-05-01T10:00:00.000Z',
          conflictId,
          entityType: 'contact',
          entityId,
          field: 'phone',
          kind: 'field',
          risk: 'high',
          strategy: 'manual',
          status: 'pending',
          sides: [
            { system: 'crm', value: '+1 555', deleted: false, occurredAt: '2024-05-01T09:59:00.000Z', eventId: 'crm:1' },
            { system: 'hubspot', value: '+1 556', deleted: false, occurredAt: '2024-05-01T10:00:00.000Z', eventId: 'hubspot:7' },
          ],
          outcome: null,
          decidedBy: null,
        },
      ]);
      expect(await conflicts.get(conflictId)).toMatchObject({ conflictId, status: 'pending', occurredAt: '2024-05-01T10:00:00.000Z' });
    });
  });
});

describe('createPgliteSqlClient with a data directory', () => {
  let dataRoot: string;

  beforeAll(async () => {
    dataRoot = await mkdtemp(join(tmpdir(), 'tandem-pglite-'));
  });

  afterAll(() => rm(dataRoot, { recursive: true, force: true }));

  it('keeps schema and rows across close and reopen, and refuses a second open of the same directory', async () => {
    const dataDir = join(dataRoot, 'db');
    const first = await createPgliteSqlClient({ dataDir });
    const entityId = randomUUID();
    try {
      await expect(createPgliteSqlClient({ dataDir })).rejects.toMatchObject({ code: StateErrorCode.DataDirInUse });
      expect(await migrate(first)).toEqual(MIGRATIONS.map((m) => m.id));
      await new EntityStateRepository<{ name: string }>(first).saveMany([
        { tenantId: 't1', entityId, entityType: 'contact', version: 1, deleted: false, state: { name: 'Ada' }, expectedRev: null },
      ]);
    } finally {
      await first.close();
    }

    const reopened = await createPgliteSqlClient({ dataDir });
    try {
      expect(await migrate(reopened)).toEqual([]);
      const loaded = await new EntityStateRepository<{ name: string }>(reopened).loadMany('t1', [entityId]);
      expect(loaded.get(entityId)).toEqual({ state: { name: 'Ada' }, rev: 1 });
    } finally {
      await reopened.close();
    }
  });
});
