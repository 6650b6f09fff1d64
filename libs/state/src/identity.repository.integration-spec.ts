import { randomUUID } from 'node:crypto';
import { createTempDatabase, eventually, planOf, recordingStatements, uniqueSuffix, type TempDatabase } from '@tandem/testing';
import { IdentityRepository } from './identity.repository';
import { migrate } from './migrate.util';
import { createPgSqlClient, type PgSqlClient } from './pg-sql-client.driver';
import type { SqlClient } from './sql-client.interface';

describe('IdentityRepository', () => {
  let db: TempDatabase;
  let client: PgSqlClient;
  let other: PgSqlClient;
  let identity: IdentityRepository;
  let tenantId: string;

  beforeAll(async () => {
    db = await createTempDatabase('state_identity');
    client = createPgSqlClient(db.url);
    other = createPgSqlClient(db.url);
    await migrate(client);
    identity = new IdentityRepository(client);
  });

  afterAll(async () => {
    await Promise.all([client.close(), other.close()]);
    await db.drop();
  });

  beforeEach(() => {
    tenantId = `t_${uniqueSuffix()}`;
  });

  async function resolveOne(systemId: string, recordId: string, matchKey: string | null, via: SqlClient = client) {
    const result = await new IdentityRepository(via).resolve(tenantId, 'contact', systemId, [{ recordId, matchKey }]);
    const resolved = result.get(recordId);
    if (!resolved) throw new Error(`record ${recordId} was not resolved`);
    return resolved;
  }

  /** Holds a transaction open until `release` is called, so a second resolver can be made to wait on it. */
  function heldTransaction<T>(work: (tx: SqlClient) => Promise<T>) {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let ready!: (value: T) => void;
    const result = new Promise<T>((resolve) => (ready = resolve));
    const done = client.transaction(async (tx) => {
      ready(await work(tx));
      await released;
    });
    return { result, release, done };
  }

  /** Waits until some session of the test database is blocked on a lock (the racing resolver). */
  async function someoneWaitsOnALock(): Promise<void> {
    await eventually(async () => {
      const { rows } = await client.query<{ waiting: string }>(
        "SELECT count(*) AS waiting FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'",
        [db.name],
      );
      expect(Number(rows[0]?.waiting)).toBeGreaterThan(0);
    });
  }

  it('starts a new entity for a record without a match key and returns it again later', async () => {
    const first = await resolveOne('crm', 'r1', null);
    expect(first).toEqual({ entityId: expect.any(String), created: true, matched: false });
    expect(await resolveOne('crm', 'r1', null)).toEqual({ entityId: first.entityId, created: false, matched: false });
    expect(await identity.recordIdFor(tenantId, 'contact', 'crm', first.entityId)).toBe('r1');
  });

  it('links a record of another system to the entity registered under the same match key', async () => {
    const crm = await resolveOne('crm', 'c-1', 'ada@example.com');
    expect(crm).toMatchObject({ created: true, matched: false });
    const hubspot = await resolveOne('hubspot', 'h-9', 'ada@example.com');
    expect(hubspot).toEqual({ entityId: crm.entityId, created: false, matched: true });

    const links = await identity.linksOf(tenantId, [crm.entityId]);
    expect(links.get(crm.entityId)).toEqual([
      { entityType: 'contact', systemId: 'crm', recordId: 'c-1' },
      { entityType: 'contact', systemId: 'hubspot', recordId: 'h-9' },
    ]);
  });

  it('keeps an existing link even when the record now carries another entity\'s match key', async () => {
    const ada = await resolveOne('crm', 'c-1', 'ada@example.com');
    const grace = await resolveOne('hubspot', 'h-1', 'grace@example.com');
    expect(await resolveOne('hubspot', 'h-1', 'ada@example.com')).toEqual({
      entityId: grace.entityId,
      created: false,
      matched: false,
    });
    expect(ada.entityId).not.toBe(grace.entityId);
  });

  it('gives two records of the same system with the same key two entities', async () => {
    const first = await resolveOne('crm', 'c-1', 'dup@example.com');
    const second = await resolveOne('crm', 'c-2', 'dup@example.com');
    expect(second).toMatchObject({ created: true, matched: false });
    expect(second.entityId).not.toBe(first.entityId);
    // The key stays with the first entity: another system's record joins that one.
    expect((await resolveOne('hubspot', 'h-1', 'dup@example.com')).entityId).toBe(first.entityId);
  });

  it('resolves a mixed batch in one call, deciding duplicates within the batch the same way', async () => {
    await resolveOne('crm', 'c-1', 'ada@example.com');
    const result = await identity.resolve(tenantId, 'contact', 'hubspot', [
      { recordId: 'h-1', matchKey: 'ada@example.com' },
      { recordId: 'h-2', matchKey: 'new@example.com' },
      { recordId: 'h-3', matchKey: 'new@example.com' },
      { recordId: 'h-4', matchKey: null },
      { recordId: 'h-1', matchKey: 'ada@example.com' },
    ]);
    expect([...result.keys()].sort()).toEqual(['h-1', 'h-2', 'h-3', 'h-4']);
    expect(result.get('h-1')).toMatchObject({ created: false, matched: true });
    expect(result.get('h-2')).toMatchObject({ created: true, matched: false });
    expect(result.get('h-3')).toMatchObject({ created: true, matched: false });
    const entities = new Set([...result.values()].map((r) => r.entityId));
    expect(entities.size).toBe(4);
    // The CRM side of "new@example.com" later joins the entity that registered it.
    expect((await resolveOne('crm', 'c-2', 'new@example.com')).entityId).toBe(result.get('h-2')?.entityId);
  });

  it('registers the key of an already linked record, so records seen later elsewhere still match', async () => {
    const linked = await resolveOne('crm', 'c-1', null);
    expect(await resolveOne('crm', 'c-1', 'later@example.com')).toMatchObject({ entityId: linked.entityId });
    expect(await resolveOne('hubspot', 'h-1', 'later@example.com')).toEqual({
      entityId: linked.entityId,
      created: false,
      matched: true,
    });
  });

  it('reads no key back for a batch of linked records, and still decides an unlinked record by the key it shares with one', async () => {
    const ada = await resolveOne('crm', 'c-1', 'ada@example.com');
    await resolveOne('crm', 'c-2', 'grace@example.com');
    const { statements } = await recordingStatements(() =>
      identity.resolve(tenantId, 'contact', 'crm', [
        { recordId: 'c-1', matchKey: 'ada@example.com' },
        { recordId: 'c-2', matchKey: 'grace@example.com' },
      ]),
    );
    expect(statements.filter(({ text }) => /SELECT[\s\S]*FROM tandem_match_keys/.test(text))).toEqual([]);

    // Grace's key belongs to her HubSpot entity; a linked CRM record now carrying it sits in the same
    // batch as a new CRM record with it: the new one is still matched to the key's owner.
    const grace = await resolveOne('hubspot', 'h-2', 'grace.h@example.com');
    const batch = await identity.resolve(tenantId, 'contact', 'crm', [
      { recordId: 'c-1', matchKey: 'grace.h@example.com' },
      { recordId: 'c-3', matchKey: 'grace.h@example.com' },
    ]);
    expect(batch.get('c-1')).toEqual({ entityId: ada.entityId, created: false, matched: false });
    expect(batch.get('c-3')).toEqual({ entityId: grace.entityId, created: false, matched: true });
  });

  it('keeps tenants and entity types apart', async () => {
    const contact = await resolveOne('crm', 'x-1', 'same@example.com');
    const company = await identity.resolve(tenantId, 'company', 'hubspot', [{ recordId: 'x-1', matchKey: 'same@example.com' }]);
    expect(company.get('x-1')?.entityId).not.toBe(contact.entityId);
    const otherTenant = await identity.resolve(`o_${uniqueSuffix()}`, 'contact', 'hubspot', [
      { recordId: 'x-1', matchKey: 'same@example.com' },
    ]);
    expect(otherTenant.get('x-1')).toMatchObject({ created: true, matched: false });
  });

  it('writes the links in the caller\'s transaction: nothing remains when it rolls back', async () => {
    await expect(
      client.transaction(async (tx) => {
        await new IdentityRepository(tx).resolve(tenantId, 'contact', 'crm', [{ recordId: 'c-1', matchKey: 'gone@example.com' }]);
        throw new Error('batch failed');
      }),
    ).rejects.toThrow('batch failed');
    expect(await resolveOne('hubspot', 'h-1', 'gone@example.com')).toMatchObject({ created: true, matched: false });
  });

  it('two systems resolving the same new key at the same moment end with one entity', async () => {
    const held = heldTransaction((tx) => resolveOne('crm', 'c-1', 'race@example.com', tx));
    const crm = await held.result;
    const racing = resolveOne('hubspot', 'h-1', 'race@example.com', other);
    await someoneWaitsOnALock();
    held.release();
    await held.done;
    expect(await racing).toEqual({ entityId: crm.entityId, created: false, matched: true });
  });

  it('two records of one system racing on the same key still get two entities', async () => {
    const held = heldTransaction((tx) => resolveOne('crm', 'c-1', 'twins@example.com', tx));
    const first = await held.result;
    const racing = resolveOne('crm', 'c-2', 'twins@example.com', other);
    await someoneWaitsOnALock();
    held.release();
    await held.done;
    const second = await racing;
    expect(second).toMatchObject({ created: true, matched: false });
    expect(second.entityId).not.toBe(first.entityId);
  });

  it('the same record resolved twice at once gets one entity, and its key follows that entity', async () => {
    const held = heldTransaction((tx) => resolveOne('crm', 'c-1', null, tx));
    const winner = await held.result;
    const racing = resolveOne('crm', 'c-1', 'late@example.com', other);
    await someoneWaitsOnALock();
    held.release();
    await held.done;
    expect(await racing).toEqual({ entityId: winner.entityId, created: false, matched: false });
    expect((await resolveOne('hubspot', 'h-1', 'late@example.com')).entityId).toBe(winner.entityId);
  });

  it('many keys resolved by two systems concurrently pair up one to one', async () => {
    const keys = Array.from({ length: 50 }, (_, i) => `person${i}@example.com`);
    const [crm, hubspot] = await Promise.all([
      new IdentityRepository(client).resolve(tenantId, 'contact', 'crm', keys.map((key, i) => ({ recordId: `c-${i}`, matchKey: key }))),
      new IdentityRepository(other).resolve(tenantId, 'contact', 'hubspot', keys.map((key, i) => ({ recordId: `h-${i}`, matchKey: key }))),
    ]);
    keys.forEach((_, i) => expect(hubspot.get(`h-${i}`)?.entityId).toBe(crm.get(`c-${i}`)?.entityId));
    const { rows } = await client.query<{ count: string }>(
      'SELECT count(DISTINCT entity_id) AS count FROM tandem_record_links WHERE tenant_id = $1',
      [tenantId],
    );
    expect(rows).toEqual([{ count: '50' }]);
  });

  it("gives each entity's record in one system only, keyed by the ids asked with", async () => {
    const both = await resolveOne('crm', 'c-1', 'ann@example.com');
    await resolveOne('hubspot', 'h-1', 'ann@example.com');
    const crmOnly = await resolveOne('crm', 'c-2', 'bo@example.com');
    const records = await identity.recordIdsFor(tenantId, 'contact', 'hubspot', [both.entityId.toUpperCase(), crmOnly.entityId]);
    expect(records).toEqual(new Map([[both.entityId.toUpperCase(), 'h-1']]));
    expect((await identity.recordIdsFor(tenantId, 'contact', 'crm', [])).size).toBe(0);
  });

  it('answers recordIdFor and linksOf for unknown entities with nothing', async () => {
    const unknown = '00000000-0000-4000-8000-000000000000';
    expect(await identity.recordIdFor(tenantId, 'contact', 'crm', unknown)).toBeNull();
    expect((await identity.linksOf(tenantId, [unknown])).size).toBe(0);
    expect((await identity.resolve(tenantId, 'contact', 'crm', [])).size).toBe(0);
  });
});

describe('IdentityRepository.relink', () => {
  let db: TempDatabase;
  let client: PgSqlClient;

  beforeAll(async () => {
    db = await createTempDatabase('identity_relink');
    client = createPgSqlClient(db.url);
    await migrate(client);
  });

  afterAll(async () => {
    await client.close();
    await db.drop();
  });

  it('makes a record Tandem wrote the entity\'s record in that system, replacing the old link', async () => {
    const identities = new IdentityRepository(client);
    const first = await identities.resolve('t1', 'contact', 'crm', [{ recordId: 'old', matchKey: 'a@x.com' }]);
    const entityId = first.get('old')!.entityId;

    await identities.relink('t1', 'contact', 'crm', [{ recordId: 'new', entityId }]);
    expect(await identities.recordIdFor('t1', 'contact', 'crm', entityId)).toBe('new');
    const again = await identities.resolve('t1', 'contact', 'crm', [{ recordId: 'new', matchKey: 'a@x.com' }]);
    expect(again.get('new')).toEqual({ entityId, created: false, matched: false });

    // Relinking what is already linked changes nothing.
    await identities.relink('t1', 'contact', 'crm', [{ recordId: 'new', entityId }]);
    expect(await identities.linksOf('t1', [entityId])).toEqual(new Map([[entityId, [{ entityType: 'contact', systemId: 'crm', recordId: 'new' }]]]));
  });

  it('links the last of several records given for one entity and keeps the others as replaced', async () => {
    const identities = new IdentityRepository(client);
    const entityId = (await identities.resolve('t3', 'contact', 'crm', [{ recordId: 'r1', matchKey: null }])).get('r1')!.entityId;

    // One applier batch made r2, deleted it with r1, and made r3.
    await identities.relink('t3', 'contact', 'crm', [{ recordId: 'r2', entityId }, { recordId: 'r3', entityId }]);

    expect(await identities.standings('t3', 'contact', 'crm', ['r1', 'r2', 'r3'])).toEqual(
      new Map([['r1', { entityId, replaced: true }], ['r2', { entityId, replaced: true }], ['r3', { entityId, replaced: false }]]),
    );
  });

  it('unlinks the old records of a batch through the indexes, not by reading every link of the system', async () => {
    const identities = new IdentityRepository(client);
    // 40,000 links in two systems; 200 entities then get new records in one of them, as an applier's batch of creates does.
    await client.query(
      `INSERT INTO tandem_record_links (tenant_id, entity_type, system_id, record_id, entity_id)
       SELECT 't4', 'contact', system_id, system_id || n, gen_random_uuid() FROM generate_series(1, 20000) AS n, unnest(ARRAY['crm', 'customer']) AS system_id`,
    );
    await client.query('ANALYZE tandem_record_links');
    const { rows: moved } = await client.query<{ entity_id: string; record_id: string }>(
      `SELECT entity_id::text, record_id FROM tandem_record_links WHERE tenant_id = 't4' AND system_id = 'customer' ORDER BY record_id LIMIT 200`,
    );
    const { statements } = await recordingStatements(() =>
      identities.relink('t4', 'contact', 'customer', moved.map(({ entity_id }, n) => ({ recordId: `new${n}`, entityId: entity_id }))),
    );

    expect(await identities.recordIdsFor('t4', 'contact', 'customer', [moved[0]!.entity_id, moved[199]!.entity_id])).toEqual(
      new Map([[moved[0]!.entity_id, 'new0'], [moved[199]!.entity_id, 'new199']]),
    );
    expect(await identities.standings('t4', 'contact', 'customer', [moved[0]!.record_id])).toEqual(new Map([[moved[0]!.record_id, { entityId: moved[0]!.entity_id, replaced: true }]]));
    const unlinks = statements.filter(({ text }) => text.includes('DELETE FROM tandem_record_links'));
    expect(unlinks.length).toBeGreaterThan(0);
    for (const unlink of unlinks) expect((await planOf(client, unlink)).nodeTypes).not.toContain('Seq Scan');

    // An entity's links, in every system or in one, are read through the one index keyed by entity.
    const entityIds = moved.map(({ entity_id }) => entity_id);
    const { result: links, statements: reads } = await recordingStatements(async () => {
      const all = await identities.linksOf('t4', entityIds);
      await identities.recordIdsFor('t4', 'contact', 'customer', entityIds);
      return all;
    });
    expect(links.get(moved[0]!.entity_id)).toEqual([{ entityType: 'contact', systemId: 'customer', recordId: 'new0' }]);
    expect(reads).toHaveLength(2);
    for (const read of reads) expect((await planOf(client, read)).indexNames).toEqual(['tandem_record_links_entity_key']);
  });

  it('resolves a batch of known records through the keys led by record and match key', async () => {
    const identities = new IdentityRepository(client);
    // 20,000 records linked in each of two systems, their match keys registered, as after an initial sync.
    await client.query(
      `WITH made AS (SELECT n, gen_random_uuid() AS entity_id FROM generate_series(1, 20000) AS n),
            links AS (INSERT INTO tandem_record_links (tenant_id, entity_type, system_id, record_id, entity_id)
                      SELECT 't6', 'contact', system_id, 'r' || n, entity_id FROM made, unnest(ARRAY['crm', 'customer']) AS system_id)
       INSERT INTO tandem_match_keys (tenant_id, entity_type, match_key, entity_id) SELECT 't6', 'contact', 'p' || n || '@example.com', entity_id FROM made`,
    );
    await client.query('ANALYZE tandem_record_links; ANALYZE tandem_match_keys');
    // 100 known records, and 100 new ones whose keys are registered: those are looked up by key.
    const known = Array.from({ length: 100 }, (_, n) => ({ recordId: `r${n * 97 + 1}`, matchKey: `p${n * 97 + 1}@example.com` }));
    const keyed = Array.from({ length: 100 }, (_, n) => ({ recordId: `new${n}`, matchKey: `p${n * 89 + 5}@example.com` }));

    const { result, statements } = await recordingStatements(() => identities.resolve('t6', 'contact', 'customer', [...known, ...keyed]));

    expect(known.every(({ recordId }) => result.get(recordId)?.created === false)).toBe(true);
    expect(keyed.every(({ recordId }) => result.has(recordId))).toBe(true);
    const reads = statements.filter(({ text }) => /FROM tandem_(record_links|match_keys)/.test(text));
    const plans = await Promise.all(reads.map((read) => planOf(client, read)));
    expect(plans.flatMap((plan) => plan.indexNames)).toEqual(expect.arrayContaining(['tandem_record_links_pkey', 'tandem_match_keys_pkey']));
    // Only the table of replaced records, empty here, is rightly read whole.
    reads.forEach((read, index) => {
      if (!read.text.includes('tandem_replaced_links')) expect(plans[index]!.nodeTypes).not.toContain('Seq Scan');
    });
  });

  it('refuses a second record of one system for an entity', async () => {
    const entityId = randomUUID();
    const link = `INSERT INTO tandem_record_links (tenant_id, entity_type, system_id, record_id, entity_id) VALUES ('t5', 'contact', 'crm', $1, $2)`;
    await client.query(link, ['r1', entityId]);
    await expect(client.query(link, ['r2', entityId])).rejects.toThrow('tandem_record_links_entity_key');
    // The same entity's record in another system is its own.
    await client.query(link.replace("'crm'", "'customer'"), ['r1', entityId]);
  });

  it('tells each record linked or replaced, and remembers the record a relink replaced until it is linked again', async () => {
    const identities = new IdentityRepository(client);
    const entityId = (await identities.resolve('t2', 'contact', 'crm', [{ recordId: 'r1', matchKey: null }])).get('r1')!.entityId;
    const other = (await identities.resolve('t2', 'contact', 'crm', [{ recordId: 'r9', matchKey: null }])).get('r9')!.entityId;
    const linked = (id: string) => ({ entityId: id, replaced: false });
    const replaced = (id: string) => ({ entityId: id, replaced: true });

    await identities.relink('t2', 'contact', 'crm', [{ recordId: 'r2', entityId }]);
    expect(await identities.standings('t2', 'contact', 'crm', ['r1', 'r2', 'r9', 'r0'])).toEqual(new Map([['r1', replaced(entityId)], ['r2', linked(entityId)], ['r9', linked(other)]]));
    // A record moved from one entity to another replaced nothing of the first.
    await identities.relink('t2', 'contact', 'crm', [{ recordId: 'r9', entityId }]);
    expect(await identities.standings('t2', 'contact', 'crm', ['r9'])).toEqual(new Map([['r9', linked(entityId)]]));
    expect(await identities.recordIdFor('t2', 'contact', 'crm', other)).toBeNull();

    await identities.relink('t2', 'contact', 'crm', [{ recordId: 'r1', entityId }]);
    expect(await identities.standings('t2', 'contact', 'crm', ['r1', 'r2', 'r9'])).toEqual(new Map([['r1', linked(entityId)], ['r2', replaced(entityId)], ['r9', replaced(entityId)]]));
  });
});
