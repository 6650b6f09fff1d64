import { randomUUID } from 'node:crypto';
import { createTempDatabase, planOf, recordingStatements, uniqueSuffix, type TempDatabase } from '@tandem/testing';
import { EntityStateRepository, type EntityStateWrite } from './entity-state.repository';
import { migrate } from './migrate.util';
import { createPgSqlClient, type PgSqlClient } from './pg-sql-client.driver';
import { isStateError, StaleStateError, StateErrorCode } from './state.error';

interface TestState {
  name: string;
  fields: Record<string, { value: string; version: number }>;
}

describe('EntityStateRepository', () => {
  let db: TempDatabase;
  let client: PgSqlClient;
  let repository: EntityStateRepository<TestState>;
  let tenantId: string;

  beforeAll(async () => {
    db = await createTempDatabase('state_entities');
    client = createPgSqlClient(db.url);
    await migrate(client);
    repository = new EntityStateRepository<TestState>(client);
  });

  afterAll(async () => {
    await client.close();
    await db.drop();
  });

  beforeEach(() => {
    tenantId = `t_${uniqueSuffix()}`;
  });

  function write(entityId: string, name: string, expectedRev: number | null, version = 1): EntityStateWrite<TestState> {
    return {
      tenantId,
      entityId,
      entityType: 'contact',
      version,
      deleted: false,
      state: { name, fields: { name: { value: name, version } } },
      expectedRev,
    };
  }

  it('saves new entities and loads them back with rev 1, in one round trip each', async () => {
    const [a, b, absent] = [randomUUID(), randomUUID(), randomUUID()];
    const revs = await repository.saveMany([write(a, 'Ada', null), write(b, 'Grace', null)]);
    expect(revs).toEqual(new Map([[a, 1], [b, 1]]));

    const loaded = await repository.loadMany(tenantId, [a, b, absent]);
    expect(loaded.size).toBe(2);
    expect(loaded.get(a)).toEqual({ state: { name: 'Ada', fields: { name: { value: 'Ada', version: 1 } } }, rev: 1 });
    expect(loaded.get(b)?.state.name).toBe('Grace');
    expect(loaded.has(absent)).toBe(false);
  });

  it("loads a batch of entities through the key led by the entity's id", async () => {
    // States of a kilobyte, as a contact synced with two systems has.
    await client.query(
      `INSERT INTO tandem_entities (tenant_id, entity_id, entity_type, version, deleted, state, rev)
       SELECT $1, gen_random_uuid(), 'contact', 1, false, json_build_object('name', repeat('n', 1000)), 1 FROM generate_series(1, 20000)`,
      [tenantId],
    );
    await client.query('ANALYZE tandem_entities');
    const { rows } = await client.query<{ entity_id: string }>('SELECT entity_id FROM tandem_entities WHERE tenant_id = $1 LIMIT 200', [tenantId]);
    const ids = rows.map((row) => row.entity_id);

    const { result, statements } = await recordingStatements(() => repository.loadMany(tenantId, ids));

    expect(result.size).toBe(200);
    expect(statements).toHaveLength(1);
    expect((await planOf(client, statements[0]!)).indexNames).toEqual(['tandem_entities_pkey']);
  });

  it('keeps every character of a state, the batch separator and escapes included', async () => {
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    const awkward = ['split\u001ehere', 'quote " and backslash \\ and \\x1e', 'line\nbreak, tab\t, NUL-free \u0001', 'Zoë 👩‍💻 中文', ''];
    await repository.saveMany([write(a, awkward[0]!, null), write(b, awkward[1]!, null), write(c, awkward.slice(2).join('|'), null)]);

    const loaded = await repository.loadMany(tenantId, [a, b, c]);
    expect(loaded.get(a)?.state.name).toBe(awkward[0]);
    expect(loaded.get(b)?.state.name).toBe(awkward[1]);
    expect(loaded.get(c)?.state).toEqual({ name: awkward.slice(2).join('|'), fields: { name: { value: awkward.slice(2).join('|'), version: 1 } } });
  });

  it('updates when the expected rev matches and bumps the rev', async () => {
    const id = randomUUID();
    await repository.saveMany([write(id, 'Ada', null)]);
    expect(await repository.saveMany([write(id, 'Ada Lovelace', 1, 2)])).toEqual(new Map([[id, 2]]));
    expect(await repository.saveMany([write(id, 'Countess', 2, 3)])).toEqual(new Map([[id, 3]]));
    const { rows } = await client.query<{ version: string; deleted: boolean }>(
      'SELECT version, deleted FROM tandem_entities WHERE tenant_id = $1 AND entity_id = $2',
      [tenantId, id],
    );
    expect(rows).toEqual([{ version: '3', deleted: false }]);
    expect((await repository.loadMany(tenantId, [id])).get(id)).toMatchObject({ state: { name: 'Countess' }, rev: 3 });
  });

  it('keys loaded entities by the ids the caller asked with', async () => {
    const id = randomUUID();
    await repository.saveMany([write(id, 'Ada', null)]);
    const loaded = await repository.loadMany(tenantId, [id.toUpperCase()]);
    expect([...loaded.keys()]).toEqual([id.toUpperCase()]);
  });

  it('keeps tenants apart', async () => {
    const id = randomUUID();
    await repository.saveMany([write(id, 'Ada', null)]);
    expect((await repository.loadMany(`other_${uniqueSuffix()}`, [id])).size).toBe(0);
  });

  it('refuses the whole batch when one rev is stale, names the stale entities, and writes nothing', async () => {
    const [existing, fresh] = [randomUUID(), randomUUID()];
    await repository.saveMany([write(existing, 'Ada', null)]);
    await repository.saveMany([write(existing, 'Ada by another reconciler', 1, 2)]);

    const error = await repository
      .saveMany([write(fresh, 'Grace', null), write(existing, 'Ada from a stale owner', 1, 2)])
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(StaleStateError);
    expect((error as StaleStateError).entityIds).toEqual([existing]);
    expect(isStateError(error, StateErrorCode.StaleState)).toBe(true);
    const loaded = await repository.loadMany(tenantId, [existing, fresh]);
    expect(loaded.has(fresh)).toBe(false);
    expect(loaded.get(existing)).toMatchObject({ state: { name: 'Ada by another reconciler' }, rev: 2 });
  });

  it('treats "new" for an entity that exists, and a rev for one that does not, as stale', async () => {
    const [existing, missing] = [randomUUID(), randomUUID()];
    await repository.saveMany([write(existing, 'Ada', null)]);
    const error = await repository
      .saveMany([write(existing, 'Ada again', null), write(missing, 'Ghost', 4)])
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StaleStateError);
    expect([...(error as StaleStateError).entityIds].sort()).toEqual([existing, missing].sort());
    const loaded = await repository.loadMany(tenantId, [existing, missing]);
    expect(loaded.get(existing)).toMatchObject({ state: { name: 'Ada' }, rev: 1 });
    expect(loaded.has(missing)).toBe(false);
  });

  it("inside the caller's transaction, a stale save is undone alone and the caller decides what commits", async () => {
    const [existing, other] = [randomUUID(), randomUUID()];
    await repository.saveMany([write(existing, 'Ada', null), write(other, 'Grace', null)]);
    await repository.saveMany([write(existing, 'Ada by another reconciler', 1, 2)]);

    await client.transaction(async (tx) => {
      const inTx = new EntityStateRepository<TestState>(tx);
      await expect(
        inTx.saveMany([write(other, 'Grace v2', 1, 2), write(existing, 'stale', 1, 2)]),
      ).rejects.toBeInstanceOf(StaleStateError);
      // The transaction is still usable: the caller can save what it still owns.
      await inTx.saveMany([write(other, 'Grace v2', 1, 2)]);
    });

    const loaded = await repository.loadMany(tenantId, [existing, other]);
    expect(loaded.get(existing)).toMatchObject({ state: { name: 'Ada by another reconciler' }, rev: 2 });
    expect(loaded.get(other)).toMatchObject({ state: { name: 'Grace v2' }, rev: 2 });
  });

  it('lets exactly one of two writers with the same expected rev win', async () => {
    const id = randomUUID();
    await repository.saveMany([write(id, 'Ada', null)]);
    const second = createPgSqlClient(db.url);
    try {
      const results = await Promise.allSettled([
        repository.saveMany([write(id, 'from A', 1, 2)]),
        new EntityStateRepository<TestState>(second).saveMany([write(id, 'from B', 1, 2)]),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(rejected).toHaveLength(1);
      expect(rejected[0]!.reason).toBeInstanceOf(StaleStateError);
      expect((await repository.loadMany(tenantId, [id])).get(id)?.rev).toBe(2);
    } finally {
      await second.close();
    }
  });

  it('rejects a batch that names one entity twice', async () => {
    const id = randomUUID();
    const error = await repository.saveMany([write(id, 'a', null), write(id, 'b', null)]).catch((caught: unknown) => caught);
    expect(isStateError(error, StateErrorCode.DuplicateRow)).toBe(true);
  });

  it('saves and reloads 1,000 entities of about 2 KB each in one statement per batch', async () => {
    const ids = Array.from({ length: 1000 }, () => randomUUID());
    const bigState = (name: string): TestState => ({
      name,
      fields: Object.fromEntries(
        Array.from({ length: 30 }, (_, i) => [`field_${i}`, { value: `${name}-${'x'.repeat(40)}-${i}`, version: 1 }]),
      ),
    });
    const rows = ids.map((id, i) => ({ ...write(id, `n${i}`, null), state: bigState(`n${i}`) }));
    expect(JSON.stringify(rows[0]!.state).length).toBeGreaterThan(1800);

    let started = performance.now();
    await repository.saveMany(rows);
    const insertMs = performance.now() - started;

    started = performance.now();
    const loaded = await repository.loadMany(tenantId, ids);
    const loadMs = performance.now() - started;

    started = performance.now();
    const revs = await repository.saveMany(rows.map((row) => ({ ...row, version: 2, expectedRev: 1 })));
    const updateMs = performance.now() - started;

    console.log(
      `1,000 entities of ~2 KB: insert ${insertMs.toFixed(0)} ms, load ${loadMs.toFixed(0)} ms, update ${updateMs.toFixed(0)} ms`,
    );
    expect(loaded.size).toBe(1000);
    expect(loaded.get(ids[999]!)?.state).toEqual(bigState('n999'));
    expect([...revs.values()].every((rev) => rev === 2)).toBe(true);
    const { rows: counted } = await client.query<{ count: string }>(
      'SELECT count(*) FROM tandem_entities WHERE tenant_id = $1 AND rev = 2 AND version = 2',
      [tenantId],
    );
    expect(counted).toEqual([{ count: '1000' }]);
  });
});
