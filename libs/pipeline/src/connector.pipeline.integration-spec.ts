import { Publisher, topicNames, type TopicRecords } from '@tandem/messaging';
import { emptyEntityState, emptySystemState, type EntityState, type SystemState } from '@tandem/reconciliation';
import { createPgSqlClient, CreateIntentRepository, EntityStateRepository, IdentityRepository, migrate, type PgSqlClient, type SqlClient } from '@tandem/state';
import { SyncConfigSchema } from '@tandem/sync-config';
import { createTempDatabase, uniqueSuffix, type TempDatabase } from '@tandem/testing';
import { randomUUID } from 'node:crypto';
import { ConnectorPipeline, type RecordChange, type RecordChangeSource } from './connector.pipeline';
import type { StoredEntity } from './stored-entity.codec';
import { compileSync } from './sync-catalog';

/** A source that cannot tell Tandem's writes from anyone's, like an API read through webhooks. */
class ListSource implements RecordChangeSource {
  constructor(
    private changes: RecordChange[],
    private readonly reportedDeleted: ReadonlySet<string> = new Set(),
  ) {}

  async recordsReportedDeleted(recordIds: string[]): Promise<Set<string>> {
    return new Set(recordIds.filter((recordId) => this.reportedDeleted.has(recordId)));
  }

  async readBatch(limit: number): Promise<RecordChange[]> {
    return this.changes.slice(0, limit);
  }

  async acknowledge(changes: readonly RecordChange[]): Promise<void> {
    this.changes = this.changes.filter((change) => !changes.includes(change));
  }

  async waitForChanges(): Promise<void> {}
}

/** Contacts kept in sync between systems that each hold an email and a first name. */
const contactsSync = (tenantId: string, systems: string[]) =>
  compileSync(
    SyncConfigSchema.parse({
      id: 'contacts',
      tenantId,
      entityType: 'contact',
      systems: systems.map((id) => ({
        id,
        kind: 'postgres',
        mapping: [
          { kind: 'field', native: 'email', canonical: 'email' },
          { kind: 'field', native: 'name', canonical: 'first_name' },
        ],
      })),
    }),
  );

const deleted = (recordId: string): RecordChange => ({ sequence: '2', operation: 'delete', recordId, before: null, after: null, changedAt: new Date() });

const inserted = (recordId: string, email: string): RecordChange => ({
  sequence: '1',
  operation: 'insert',
  recordId,
  before: null,
  after: { email, name: 'Ann' },
  changedAt: new Date(),
});

describe('ConnectorPipeline', () => {
  let db: TempDatabase;
  let client: PgSqlClient;

  beforeAll(async () => {
    db = await createTempDatabase('pipeline_connector');
    client = createPgSqlClient(db.url);
    await migrate(client);
  });

  afterAll(async () => {
    await client.close();
    await db.drop();
  });

  /**
   * Two entities from the CRM, each with a key and a HubSpot record (h-1, h-2): the first with the
   * HubSpot state given, the second still holding h-2. Pumps the changes through the HubSpot
   * connector and tells which entity each record was published for, and the entities' links.
   * `connectorDb` wraps the connector's database; `beforePump` runs with the tenant and first entity.
   */
  async function pumpPastTwoEntities(
    recreatingHubSpot: SystemState,
    source: RecordChangeSource,
    { connectorDb = (same) => same, beforePump }: { connectorDb?: (client: SqlClient) => SqlClient; beforePump?: (tenantId: string, recreating: string) => Promise<void> } = {},
  ) {
    const tenantId = `t${uniqueSuffix()}`;
    const identities = new IdentityRepository(client);
    const [recreating, settled] = [randomUUID(), randomUUID()];
    await client.query(
      `INSERT INTO tandem_match_keys (tenant_id, entity_type, match_key, entity_id) VALUES ($1, 'contact', 'ann@example.com', $2), ($1, 'contact', 'bo@example.com', $3)`,
      [tenantId, recreating, settled],
    );
    await identities.relink(tenantId, 'contact', 'hubspot', [{ recordId: 'h-1', entityId: recreating }, { recordId: 'h-2', entityId: settled }]);
    const state = (entityId: string, hubspot: SystemState): EntityState => {
      const entity = emptyEntityState(tenantId, 'contact', entityId);
      entity.systems['hubspot'] = hubspot;
      return entity;
    };
    await new EntityStateRepository<StoredEntity>(client).saveMany(
      [state(recreating, recreatingHubSpot), state(settled, { ...emptySystemState(), recordId: 'h-2' })].map((entity) => ({
        tenantId, entityId: entity.entityId, entityType: 'contact', version: 3, deleted: false, state: { entity, inboxOffset: null }, expectedRev: null,
      })),
    );
    await beforePump?.(tenantId, recreating);
    const sent: TopicRecords[] = [];
    const sync = contactsSync(tenantId, ['crm', 'hubspot']);
    const connector = new ConnectorPipeline(connectorDb(client), sync, 'hubspot', new Publisher({ send: async (batches) => void sent.push(...batches) }), topicNames('t'));
    // A batch that fails is read again, as the connector's loop does.
    await connector.pump(source, 10).catch(() => connector.pump(source, 10));
    const published = sent.flatMap((batch) => batch.records.map((record) => JSON.parse(String(record.value)) as { data: { recordId: string; entityId: string } }));
    return {
      tenantId,
      recreating,
      settled,
      entityOf: new Map(published.map(({ data }) => [data.recordId, data.entityId])),
      links: await identities.linksOf(tenantId, [recreating, settled]),
    };
  }

  it('takes a new record for the create Tandem has on its way to the entity owning its key, not for a new entity', async () => {
    // The first entity's record here was archived and is being re-created by Tandem; the second's is still there.
    const hubspot = { ...emptySystemState(), recordId: null };
    hubspot.pending.push({ commandId: 'c>hubspot', version: 3, sent: { email: 'ann@example.com' }, fieldVersions: {}, deletes: false });
    const { recreating, settled, entityOf, links } = await pumpPastTwoEntities(hubspot, new ListSource([inserted('h-3', 'Ann@example.com'), inserted('h-4', 'bo@example.com')]));
    expect(entityOf.get('h-3')).toBe(recreating);
    expect(entityOf.get('h-4')).not.toBe(settled);
    expect(links.get(recreating)?.map((link) => link.recordId)).toEqual(['h-3']);
    expect(links.get(settled)?.map((link) => link.recordId)).toEqual(['h-2']);
  });

  it('takes a new record for the create Tandem has on its way when taking it failed once after the record was linked', async () => {
    const hubspot = { ...emptySystemState(), recordId: null };
    hubspot.pending.push({ commandId: 'c>hubspot', version: 3, sent: { email: 'ann@example.com' }, fieldVersions: {}, deletes: false });
    // The relink that takes the record is aborted once, as a deadlock with an applier's relink did (verify seed 191).
    let refused = false;
    const refusingOnce = (inner: SqlClient): SqlClient => ({
      query: async (text, params) => {
        if (!refused && text.includes('DELETE FROM tandem_record_links')) {
          refused = true;
          throw new Error('deadlock detected');
        }
        return inner.query(text, params) as never;
      },
      transaction: (work) => inner.transaction((tx) => work(refusingOnce(tx))),
    });
    const { recreating, entityOf, links } = await pumpPastTwoEntities(hubspot, new ListSource([inserted('h-3', 'ann@example.com')]), { connectorDb: refusingOnce });
    expect(refused).toBe(true);
    expect(entityOf.get('h-3')).toBe(recreating);
    expect(links.get(recreating)?.map((link) => link.recordId)).toEqual(['h-3']);
  });

  it('takes a new record for the create the applier announced for the entity owning its key, though its state still holds a live record', async () => {
    // The applier re-created the first entity's record, whose archive has not been reported yet, and
    // died before linking what it made; the reconciler's state still names the old record.
    const hubspot = { ...emptySystemState(), recordId: 'h-1' };
    const intents = new CreateIntentRepository(client, 'hubspot');
    const source = new ListSource([inserted('h-3', 'ann@example.com'), inserted('h-4', 'bo@example.com')]);
    const { tenantId, recreating, settled, entityOf, links } = await pumpPastTwoEntities(hubspot, source, {
      beforePump: (tenant, entityId) => intents.announce([{ tenantId: tenant, entityId, commandId: 'c>hubspot' }]),
    });
    expect(entityOf.get('h-3')).toBe(recreating);
    expect(entityOf.get('h-4')).not.toBe(settled);
    expect(links.get(recreating)?.map((link) => link.recordId)).toEqual(['h-3']);
    expect(await intents.creating(tenantId, [recreating])).toEqual(new Set());
  });

  it('takes a new record for the entity owning its key when that entity\'s record here was reported deleted, before its state expects a create', async () => {
    // Both states still name their old record: the reconciler has sent the re-create of the first
    // (whose record was deleted here) but not yet stored the state that expects it.
    const hubspot = { ...emptySystemState(), recordId: 'h-1' };
    const source = new ListSource([inserted('h-3', 'ann@example.com'), inserted('h-4', 'bo@example.com')], new Set(['h-1']));
    const { recreating, settled, entityOf, links } = await pumpPastTwoEntities(hubspot, source);
    expect(entityOf.get('h-3')).toBe(recreating);
    expect(entityOf.get('h-4')).not.toBe(settled);
    expect(links.get(recreating)?.map((link) => link.recordId)).toEqual(['h-3']);
    expect(links.get(settled)?.map((link) => link.recordId)).toEqual(['h-2']);
  });

  it('takes a new record for the entity owning its key when the same batch reports that entity\'s record here deleted', async () => {
    // A connector restarted between publishing the delete and acknowledging it reads the delete again,
    // now with the re-create the reconciler sent for it.
    const hubspot = { ...emptySystemState(), recordId: 'h-1' };
    const source = new ListSource([deleted('h-1'), inserted('h-3', 'ann@example.com'), inserted('h-4', 'bo@example.com')]);
    const { recreating, settled, entityOf, links } = await pumpPastTwoEntities(hubspot, source);
    expect(entityOf.get('h-1')).toBe(recreating);
    expect(entityOf.get('h-3')).toBe(recreating);
    expect(entityOf.get('h-4')).not.toBe(settled);
    expect(links.get(recreating)?.map((link) => link.recordId)).toEqual(['h-3']);
  });

  it('publishes the delete of a linked record it never reported, and starts no entity for an unlinked one', async () => {
    const tenantId = `t${uniqueSuffix()}`;
    const sync = contactsSync(tenantId, ['crm', 'hubspot']);
    const identities = new IdentityRepository(client);
    const entityId = randomUUID();
    // Tandem created h-1 for the entity; a person archived it before it was ever reported.
    await identities.relink(tenantId, 'contact', 'hubspot', [{ recordId: 'h-1', entityId }]);
    const sent: TopicRecords[] = [];
    const connector = new ConnectorPipeline(client, sync, 'hubspot', new Publisher({ send: async (batches) => void sent.push(...batches) }), topicNames('t'));

    const source = new ListSource([deleted('h-1'), deleted('h-9')]);
    await connector.pump(source, 10);

    const published = sent.flatMap((batch) => batch.records.map((record) => JSON.parse(String(record.value)) as { data: { recordId: string; entityId: string; operation: string } }));
    expect(published.map(({ data }) => [data.recordId, data.entityId, data.operation, 'notFromTandem' in data])).toEqual([['h-1', entityId, 'delete', false]]);
    expect(connector.stats.unlinkedDeletes).toBe(1);
    expect(await identities.linkedEntities(tenantId, 'contact', 'hubspot', ['h-9'])).toEqual(new Map());
    expect(await source.readBatch(10)).toEqual([]);
  });
  it.each([
    ['delete', { ...deleted('h-1'), before: { email: 'ann@example.com', name: 'Ann' } }],
    ['late edit', { ...inserted('h-1', 'ann@example.com'), operation: 'update' as const }],
  ])('gives the %s of its record to the entity while an applier relinks the entity to a new record there', async (_, change: RecordChange) => {
    const tenantId = `t${uniqueSuffix()}`;
    const sync = contactsSync(tenantId, ['crm', 'hubspot']);
    const identities = new IdentityRepository(client);
    const entityId = randomUUID();
    await client.query(`INSERT INTO tandem_match_keys (tenant_id, entity_type, match_key, entity_id) VALUES ($1, 'contact', 'ann@example.com', $2)`, [tenantId, entityId]);
    await identities.relink(tenantId, 'contact', 'hubspot', [{ recordId: 'h-1', entityId }]);
    // Tandem deleted h-1 and a restore re-creates the entity there as h-2: the applier links h-2 (and
    // moves h-1 to the replaced links) just after the connector first reads the links. Inside the
    // connector's linking transaction it has to wait for that transaction's end.
    let relinked: Promise<void> | null = null;
    const racing = (inner: SqlClient, linking: boolean): SqlClient => ({
      query: async (text, params) => {
        const result = await inner.query(text, params);
        if (relinked === null && text.includes('tandem_replaced_links')) {
          relinked = identities.relink(tenantId, 'contact', 'hubspot', [{ recordId: 'h-2', entityId }]);
          if (!linking) await relinked;
        }
        return result as never;
      },
      transaction: (work) => inner.transaction((tx) => work(racing(tx, true))),
    });
    const sent: TopicRecords[] = [];
    const connector = new ConnectorPipeline(racing(client, false), sync, 'hubspot', new Publisher({ send: async (batches) => void sent.push(...batches) }), topicNames('t'));

    await connector.pump(new ListSource([change]), 10);

    expect(relinked).not.toBeNull();
    await relinked;
    const published = sent.flatMap((batch) => batch.records.map((record) => JSON.parse(String(record.value)) as { data: { recordId: string; entityId: string; operation: string; matchedByKey?: boolean } }));
    // The entity's own record, not a copy the system made and removed unseen, nor a new contact.
    expect(published.map(({ data }) => [data.recordId, data.entityId, data.operation, data.matchedByKey])).toEqual([['h-1', entityId, change.operation, undefined]]);
  });
  it('gives the delete of a record never linked to the entity holding its last values\' key, flagged as matched', async () => {
    const tenantId = `t${uniqueSuffix()}`;
    const sync = contactsSync(tenantId, ['crm', 'hubspot']);
    const entityId = randomUUID();
    await client.query(`INSERT INTO tandem_match_keys (tenant_id, entity_type, match_key, entity_id) VALUES ($1, 'contact', 'zoe@example.com', $2)`, [tenantId, entityId]);
    const sent: TopicRecords[] = [];
    const connector = new ConnectorPipeline(client, sync, 'hubspot', new Publisher({ send: async (batches) => void sent.push(...batches) }), topicNames('t'));

    // A person made h-8 for Zoe and archived it before Tandem saw it; h-7 held a key no entity has.
    const lastHeld = (recordId: string, email: string): RecordChange => ({ ...deleted(recordId), before: { email, name: 'Zoe' } });
    await connector.pump(new ListSource([lastHeld('h-8', ' Zoe@Example.com'), lastHeld('h-7', 'nobody@example.com')]), 10);

    const published = sent.flatMap((batch) => batch.records.map((record) => JSON.parse(String(record.value)) as { data: { recordId: string; entityId: string; operation: string; matchedByKey?: boolean } }));
    expect(published.map(({ data }) => [data.recordId, data.entityId, data.operation, data.matchedByKey])).toEqual([['h-8', entityId, 'delete', true]]);
    expect(connector.stats.unlinkedDeletes).toBe(1);
    expect(await new IdentityRepository(client).linkedEntities(tenantId, 'contact', 'hubspot', ['h-7', 'h-8'])).toEqual(new Map());
  });
  it('keeps the delete of an unseen copy whose key no entity holds yet, and gives it to the entity another system\'s earlier record of that key starts', async () => {
    const tenantId = `t${uniqueSuffix()}`;
    const sync = contactsSync(tenantId, ['crm', 'hubspot']);
    const sent: TopicRecords[] = [];
    const publisher = new Publisher({ send: async (batches) => void sent.push(...batches) });
    const published = () => sent.splice(0).flatMap((batch) => batch.records.map((record) => JSON.parse(String(record.value)) as { origin: string; occurredAt: string; data: { recordId: string; entityId: string; operation: string; matchedByKey?: boolean } }));
    const archivedAt = new Date('2026-12-01T10:00:04Z');
    // A person made h-5 for Ann in HubSpot and archived it 4 s later; the CRM made Ann at the same
    // moment, Bo after that archive, and Cy before it, first seen only after later edits. The CRM
    // connector runs behind, so HubSpot's is first.
    const unseenCopy = (recordId: string, email: string): RecordChange => ({ ...deleted(recordId), sequence: '7', changedAt: archivedAt, before: { email, name: 'Ann' } });
    await new ConnectorPipeline(client, sync, 'hubspot', publisher, topicNames('t')).pump(
      new ListSource([unseenCopy('h-5', 'Ann@example.com'), unseenCopy('h-6', 'bo@example.com'), unseenCopy('h-7', 'cy@example.com')]),
      10,
    );
    expect(published()).toEqual([]);

    const crm = new ConnectorPipeline(client, sync, 'crm', publisher, topicNames('t'));
    await crm.pump(new ListSource([
      { ...inserted('crm-1', 'ann@example.com'), changedAt: new Date('2026-12-01T10:00:00Z') },
      { ...inserted('crm-2', 'bo@example.com'), changedAt: new Date('2026-12-01T10:00:09Z') },
      { ...inserted('crm-3', 'cy@example.com'), changedAt: new Date('2026-12-01T10:00:30Z'), createdAt: new Date('2026-12-01T10:00:01Z') },
    ]), 10);

    const events = published();
    const entityOf = new Map(events.map(({ data }) => [data.recordId, data.entityId]));
    expect(events.map(({ origin, data }) => [origin, data.recordId, data.operation, data.matchedByKey])).toEqual([
      ['crm', 'crm-1', 'create', undefined],
      ['crm', 'crm-2', 'create', undefined],
      ['crm', 'crm-3', 'create', undefined],
      ['hubspot', 'h-5', 'delete', true],
      ['hubspot', 'h-7', 'delete', true],
    ]);
    expect([entityOf.get('h-5'), entityOf.get('h-7')]).toEqual([entityOf.get('crm-1'), entityOf.get('crm-3')]);
    expect(events[3]!.occurredAt).toBe(archivedAt.toISOString());
    // Published once: a later batch of the same records has nothing more to give.
    await crm.pump(new ListSource([{ ...inserted('crm-1', 'ann@example.com'), sequence: '2', changedAt: new Date('2026-12-01T10:00:00Z') }]), 10);
    expect(published().map(({ data }) => [data.recordId, data.operation])).toEqual([['crm-1', 'create']]);
  });
  it('publishes the states a record first seen deleted passed through only when it is an entity\'s record', async () => {
    const tenantId = `t${uniqueSuffix()}`;
    const sync = contactsSync(tenantId, ['crm', 'hubspot']);
    const entityId = randomUUID();
    await client.query(`INSERT INTO tandem_match_keys (tenant_id, entity_type, match_key, entity_id) VALUES ($1, 'contact', 'zoe@example.com', $2)`, [tenantId, entityId]);
    // Tandem made h-1 for the entity; a person made h-8 with the same email. Both were edited and
    // archived before this connector read either.
    await new IdentityRepository(client).relink(tenantId, 'contact', 'hubspot', [{ recordId: 'h-1', entityId }]);
    const sent: TopicRecords[] = [];
    const connector = new ConnectorPipeline(client, sync, 'hubspot', new Publisher({ send: async (batches) => void sent.push(...batches) }), topicNames('t'));
    const lived = (recordId: string): RecordChange[] => [
      { ...inserted(recordId, 'zoe@example.com'), sequence: '1' },
      { sequence: '2', operation: 'update', recordId, before: { email: 'zoe@example.com', name: 'Ann' }, after: { email: 'zoe@example.com', name: 'Zoe' }, changedAt: new Date() },
      { ...deleted(recordId), sequence: '3', before: { email: 'zoe@example.com', name: 'Zoe' } },
    ];
    await connector.pump(new ListSource([...lived('h-1'), ...lived('h-8')]), 10);

    const published = sent.flatMap((batch) => batch.records.map((record) => JSON.parse(String(record.value)) as { data: { recordId: string; entityId: string; operation: string; matchedByKey?: boolean } }));
    expect(published.map(({ data }) => [data.recordId, data.entityId, data.operation, data.matchedByKey])).toEqual([
      ['h-1', entityId, 'create', undefined],
      ['h-1', entityId, 'update', undefined],
      ['h-1', entityId, 'delete', undefined],
      ['h-8', entityId, 'delete', true],
    ]);
    expect(connector.stats.unlinkedDeletes).toBe(2);
  });
  it('gives the late edits of a record Tandem replaced to its entity, not to a new one', async () => {
    const tenantId = `t${uniqueSuffix()}`;
    const sync = contactsSync(tenantId, ['crm', 'customer']);
    const identities = new IdentityRepository(client);
    const entityId = (await identities.resolve(tenantId, 'contact', 'customer', [{ recordId: 'c-1', matchKey: 'ann@example.com' }])).get('c-1')!.entityId;
    // Tandem deleted c-1 and re-created the entity there as c-2; an edit made on c-1 before the delete arrives now.
    await identities.relink(tenantId, 'contact', 'customer', [{ recordId: 'c-2', entityId }]);
    const sent: TopicRecords[] = [];
    const connector = new ConnectorPipeline(client, sync, 'customer', new Publisher({ send: async (batches) => void sent.push(...batches) }), topicNames('t'));
    const edit: RecordChange = { sequence: '5', operation: 'update', recordId: 'c-1', before: { email: 'ann@example.com', name: 'Ann' }, after: { email: 'ann@example.com', name: 'Anna' }, changedAt: new Date() };

    // Like PostgreSQL capture, this source never reports Tandem's writes, and its events say so.
    const source = Object.assign(new ListSource([edit, deleted('c-1')]), { omitsTandemWrites: true });
    await connector.pump(source, 10);

    const published = sent.flatMap((batch) => batch.records.map((record) => JSON.parse(String(record.value)) as { data: { recordId: string; entityId: string; operation: string; notFromTandem?: boolean } }));
    expect(published.map(({ data }) => [data.recordId, data.entityId, data.operation, data.notFromTandem])).toEqual([['c-1', entityId, 'update', true], ['c-1', entityId, 'delete', true]]);
    expect(await identities.recordIdFor(tenantId, 'contact', 'customer', entityId)).toBe('c-2');
  });
});
