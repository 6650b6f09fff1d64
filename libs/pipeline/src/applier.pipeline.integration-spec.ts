import { SCHEMA_VERSION, type MessageOf } from '@tandem/contracts';
import { Publisher, topicNames, type MessageBatch, type TopicRecords } from '@tandem/messaging';
import { createPgSqlClient, CreateIntentRepository, IdentityRepository, migrate, RecordErrorRepository, type PgSqlClient } from '@tandem/state';
import { createTempDatabase, uniqueSuffix, type TempDatabase } from '@tandem/testing';
import { randomUUID } from 'node:crypto';
import { ApplierPipeline, type ApplierPipelineOptions, type ApplyInput, type ApplyOutcome, type ApplyTarget, type CreateMatch } from './applier.pipeline';

/** A target that creates records `r-<n>` and remembers what it was asked; each command lands at `landsAt`. */
class RecordingTarget implements ApplyTarget {
  readonly inputs: ApplyInput[] = [];
  private created = 0;

  constructor(private readonly landsAt: string | null | ((command: ApplyInput) => string) = null) {}

  async apply(commands: ApplyInput[]): Promise<ApplyOutcome[]> {
    this.inputs.push(...commands);
    return commands.map((command) => ({
      commandId: command.commandId,
      recordId: command.recordId ?? command.matchedRecordId ?? `r-${(this.created += 1)}`,
      outcome: 'applied',
      fields: command.fields,
      error: null,
      position: typeof this.landsAt === 'function' ? this.landsAt(command) : this.landsAt,
    }));
  }
}

function createCommand(tenantId: string, entityId: string, email = 'x@example.com'): MessageOf<'apply.command'> {
  const now = new Date().toISOString();
  return {
    schemaVersion: SCHEMA_VERSION,
    type: 'apply.command',
    eventId: `cmd-${randomUUID()}`,
    tenantId,
    occurredAt: now,
    observedAt: now,
    origin: 'reconciler',
    data: { target: 'customer', entityType: 'contact', entityId, recordId: null, operation: 'upsert', version: 1, fields: { email_address: email } },
  };
}

/** Version `version` of an entity's record r-9, setting its first name to `v<version>`. */
function updateCommand(tenantId: string, entityId: string, version: number): MessageOf<'apply.command'> {
  const command = createCommand(tenantId, entityId);
  return { ...command, eventId: `cmd-${version}`, data: { ...command.data, recordId: 'r-9', version, fields: { first_name: `v${version}` } } };
}

describe('ApplierPipeline', () => {
  let db: TempDatabase;
  let client: PgSqlClient;
  const sent: TopicRecords[] = [];

  beforeAll(async () => {
    db = await createTempDatabase('pipeline_applier');
    client = createPgSqlClient(db.url);
    await migrate(client);
  });

  afterAll(async () => {
    await client.close();
    await db.drop();
  });

  function pipeline(target: ApplyTarget, options: ApplierPipelineOptions = {}): ApplierPipeline {
    const publisher = new Publisher({ send: async (batches) => void sent.push(...batches) });
    return new ApplierPipeline(client, 'customer', target, (call) => call(), publisher, topicNames('t'), 'applier-customer', options);
  }

  const batchOf = (commands: MessageOf<'apply.command'>[]): MessageBatch<MessageOf<'apply.command'>> => ({
    topic: 't.apply.customer',
    partition: 0,
    messages: commands.map((message, index) => ({
      message,
      record: { topic: 't.apply.customer', partition: 0, offset: String(index), key: message.data.entityId, value: Buffer.from(JSON.stringify(message)), headers: {} },
    })),
  });

  it('hands a create the record the entity is already linked to there, and links what a create made', async () => {
    const tenantId = `t${uniqueSuffix()}`;
    const [linked, fresh] = [randomUUID(), randomUUID()];
    // The person entered the same contact in the customer database too; its connector linked it already.
    await new IdentityRepository(client).relink(tenantId, 'contact', 'customer', [{ recordId: 'own-row', entityId: linked }]);
    const target = new RecordingTarget();

    await pipeline(target).handle(batchOf([createCommand(tenantId, linked), createCommand(tenantId, fresh)]));

    expect(target.inputs.map((input) => [input.entityId, input.matchedRecordId])).toEqual([
      [linked, 'own-row'],
      [fresh, null],
    ]);
    const links = await new IdentityRepository(client).linksOf(tenantId, [linked, fresh]);
    expect(links.get(fresh)?.map((link) => [link.systemId, link.recordId])).toEqual([['customer', 'r-1']]);
    expect(links.get(linked)?.map((link) => link.recordId)).toEqual(['own-row']);
  });

  it('announces the creates it sends to a target that keeps no bookkeeping, and settles them once it links their records', async () => {
    const tenantId = `t${uniqueSuffix()}`;
    const [created, updated, lost, untracked] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    const intents = new CreateIntentRepository(client, 'customer');
    let announcedDuringApply = new Set<string>();
    // Reads, while the writes are on their way, what the system's connector would find announced.
    const watching = (outcome: 'answers' | 'dies'): ApplyTarget => ({
      apply: async (commands) => {
        announcedDuringApply = await intents.creating(tenantId, [created, updated, lost, untracked]);
        const outcomes = await new RecordingTarget().apply(commands);
        if (outcome === 'dies') throw new Error('killed');
        return outcomes;
      },
    });
    const update = createCommand(tenantId, updated);

    await pipeline(watching('answers'), { tracksWrites: true }).handle(batchOf([createCommand(tenantId, created), { ...update, data: { ...update.data, recordId: 'r-9' } }]));
    expect(announcedDuringApply).toEqual(new Set([created]));
    expect(await intents.creating(tenantId, [created])).toEqual(new Set());

    // The applier makes the record and dies before it can link it: the intent outlives it.
    await expect(pipeline(watching('dies'), { tracksWrites: true }).handle(batchOf([createCommand(tenantId, lost)]))).rejects.toThrow('killed');
    expect(await intents.creating(tenantId, [lost])).toEqual(new Set([lost]));

    // A target that writes its bookkeeping with the record needs no announcement.
    await pipeline(watching('answers')).handle(batchOf([createCommand(tenantId, untracked)]));
    expect(announcedDuringApply).toEqual(new Set([lost]));
  });

  it('hands a create the match key to find a person\'s own record by, while the key is the entity\'s', async () => {
    const tenantId = `t${uniqueSuffix()}`;
    const [owner, unregistered, other] = [randomUUID(), randomUUID(), randomUUID()];
    const identities = new IdentityRepository(client);
    // The CRM's connector registered both keys; the second belongs to another entity.
    await identities.resolve(tenantId, 'contact', 'crm', [{ recordId: 'crm-1', matchKey: 'ada@example.com' }]);
    const [ada] = [...(await identities.entitiesByMatchKey(tenantId, 'contact', ['ada@example.com'])).values()];
    await client.query(`INSERT INTO tandem_match_keys (tenant_id, entity_type, match_key, entity_id) VALUES ($1, 'contact', 'bob@example.com', $2)`, [tenantId, owner]);
    const match: CreateMatch = { entityType: 'contact', column: 'email_address', keyOf: (fields) => String(fields['email_address']).trim().toLowerCase() };
    const target = new RecordingTarget();

    await pipeline(target, { createMatch: match }).handle(
      batchOf([
        createCommand(tenantId, ada!, ' Ada@Example.com'),
        createCommand(tenantId, unregistered, 'new@example.com'),
        createCommand(tenantId, other, 'bob@example.com'),
      ]),
    );

    expect(target.inputs.map((input) => input.matchBy)).toEqual([
      { column: 'email_address', value: 'ada@example.com' },
      { column: 'email_address', value: 'new@example.com' },
      null,
    ]);
  });

  it('answers a command no newer than what it wrote to a target without versions of its own as stale', async () => {
    const tenantId = `t${uniqueSuffix()}`;
    const entityId = randomUUID();
    const update = (version: number) => updateCommand(tenantId, entityId, version);
    const target = new RecordingTarget();
    const guarded = pipeline(target, { tracksWrites: true });
    sent.length = 0;

    await guarded.handle(batchOf([update(1), update(2)]));
    // A crash before the offsets were committed: the batch comes again, with a newer command behind it.
    await guarded.handle(batchOf([update(1), update(2), update(3)]));

    expect(target.inputs.map((input) => input.version)).toEqual([1, 2, 3]);
    const results = sent.flatMap((batch) => batch.records.map((record) => JSON.parse(record.value) as MessageOf<'apply.result'>));
    expect(results.map((result) => [result.data.version, result.data.outcome])).toEqual([
      [1, 'applied'],
      [2, 'applied'],
      [1, 'stale'],
      [2, 'stale'],
      [3, 'applied'],
    ]);
  });

  it('answers a command whose failure it logged with that failure when it comes again, and writes nothing of it', async () => {
    const tenantId = `t${uniqueSuffix()}`;
    const entityId = randomUUID();
    // The target refuses the create: a person's record holds the email (verify seed 195).
    class RefusingCreates extends RecordingTarget {
      override async apply(commands: ApplyInput[]): Promise<ApplyOutcome[]> {
        const outcomes = await super.apply(commands);
        return outcomes.map((outcome, index) =>
          commands[index]!.recordId === null ? { ...outcome, recordId: 'r-9', outcome: 'failed', fields: {}, error: { code: 'record_exists', message: 'taken', retryable: false } } : outcome,
        );
      }
    }
    const target = new RefusingCreates();
    const guarded = pipeline(target, { tracksWrites: true });
    const create = { ...createCommand(tenantId, entityId), data: { ...createCommand(tenantId, entityId).data, fields: { email_address: 'x@example.com', first_name: 'Old' } } };
    await guarded.handle(batchOf([create]));
    sent.length = 0;
    // Its result was taken, but the offset not committed: it comes again, behind a newer edit.
    await guarded.handle(batchOf([create, updateCommand(tenantId, entityId, 2)]));

    expect(target.inputs.map((input) => [input.version, input.fields])).toEqual([
      [1, { email_address: 'x@example.com', first_name: 'Old' }],
      [2, { first_name: 'v2' }],
    ]);
    const results = sent.flatMap((batch) => batch.records.map((record) => JSON.parse(record.value) as MessageOf<'apply.result'>));
    expect(results.filter((result) => result.type === 'apply.result').map((result) => [result.data.version, result.data.outcome, result.data.error?.code ?? null])).toEqual([
      [1, 'failed', 'record_exists'],
      [2, 'applied', null],
    ]);
    expect((await new RecordErrorRepository(client).list({ tenantId, limit: 10 })).map((error) => error.commandId)).toEqual([create.eventId]);
  });

  it('gives stale answers the position where the write that carried them landed, when the first answers were lost', async () => {
    const tenantId = `t${uniqueSuffix()}`;
    const entityId = randomUUID();
    const update = (version: number) => updateCommand(tenantId, entityId, version);
    const remove = { ...update(3), eventId: 'cmd-delete', data: { ...update(3).data, operation: 'delete' as const, fields: {} } };
    const guarded = pipeline(new RecordingTarget('1796411850426'), { tracksWrites: true });

    await guarded.handle(batchOf([update(1), update(2), remove]));
    sent.length = 0;
    // Written at 1796411850426 and lost with a crash: the system will report that state as if it were
    // its own edit unless the reconciler learns where Tandem's write landed. The delete landed there too.
    await guarded.handle(batchOf([update(1), update(2), remove]));

    const results = sent.flatMap((batch) => batch.records.map((record) => JSON.parse(record.value) as MessageOf<'apply.result'>));
    expect(results.map((result) => [result.data.version, result.data.outcome, result.data.position])).toEqual([
      [1, 'stale', '1796411850426'],
      [2, 'stale', '1796411850426'],
      [3, 'stale', '1796411850426'],
    ]);
  });

  it('names the record a re-create made, and where the delete before it landed, in their stale answers after a crash', async () => {
    const tenantId = `t${uniqueSuffix()}`;
    const entityId = randomUUID();
    const command = createCommand(tenantId, entityId);
    // Tandem deletes the entity's record there, then a restore creates it anew.
    const remove = { ...command, eventId: 'cmd-delete', data: { ...command.data, recordId: 'old-row', operation: 'delete' as const, version: 1, fields: {} } };
    const recreate = { ...command, eventId: 'cmd-recreate', data: { ...command.data, version: 2 } };
    const landing = (input: ApplyInput) => (input.operation === 'upsert' ? '1796411850002' : input.recordId === 'old-row' ? '1796411850001' : '1796411850003');
    const guarded = pipeline(new RecordingTarget(landing), { tracksWrites: true });
    const answers = () => sent.flatMap((batch) => batch.records.map((record) => JSON.parse(record.value) as MessageOf<'apply.result'>)).map((result) => [result.data.commandId, result.data.outcome, result.data.recordId, result.data.position]);

    await guarded.handle(batchOf([remove, recreate]));
    sent.length = 0;
    // The applier wrote the batch and died before its results went out: the batch comes again. The
    // record made is the entity's now; where the delete landed tells a person's delete of old-row,
    // reported meanwhile, from Tandem's own.
    await guarded.handle(batchOf([remove, recreate]));
    expect(answers()).toEqual([
      ['cmd-delete', 'stale', 'old-row', '1796411850001'],
      ['cmd-recreate', 'stale', 'r-1', '1796411850002'],
    ]);

    // Only the newest delete is kept: an older one, of another record, is answered with no position.
    const later = { ...remove, eventId: 'cmd-delete-2', data: { ...remove.data, recordId: 'r-1', version: 3 } };
    await guarded.handle(batchOf([later]));
    sent.length = 0;
    await guarded.handle(batchOf([remove, later]));
    expect(answers()).toEqual([
      ['cmd-delete', 'stale', 'old-row', null],
      ['cmd-delete-2', 'stale', 'r-1', '1796411850003'],
    ]);
  });
});
