import { SCHEMA_VERSION, type MessageOf } from '@tandem/contracts';
import { Publisher, topicNames, type MessageBatch, type TopicRecords } from '@tandem/messaging';
import { createPgSqlClient, IdentityRepository, migrate, type PgSqlClient } from '@tandem/state';
import { createTempDatabase, uniqueSuffix, type TempDatabase } from '@tandem/testing';
import { randomUUID } from 'node:crypto';
import { ApplierPipeline, type ApplyInput, type ApplyOutcome, type ApplyTarget } from './applier.pipeline';

/** A target that creates records `r-<n>` and remembers what it was asked. */
class RecordingTarget implements ApplyTarget {
  readonly inputs: ApplyInput[] = [];
  private created = 0;

  async apply(commands: ApplyInput[]): Promise<ApplyOutcome[]> {
    this.inputs.push(...commands);
    return commands.map((command) => ({
      commandId: command.commandId,
      recordId: command.recordId ?? command.matchedRecordId ?? `r-${(this.created += 1)}`,
      outcome: 'applied',
      fields: command.fields,
      error: null,
      position: null,
    }));
  }
}

function createCommand(tenantId: string, entityId: string): MessageOf<'apply.command'> {
  const now = new Date().toISOString();
  return {
    schemaVersion: SCHEMA_VERSION,
    type: 'apply.command',
    eventId: `cmd-${randomUUID()}`,
    tenantId,
    occurredAt: now,
    observedAt: now,
    origin: 'reconciler',
    data: { target: 'customer', entityType: 'contact', entityId, recordId: null, operation: 'upsert', version: 1, fields: { email_address: 'x@example.com' } },
  };
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

  function pipeline(target: ApplyTarget): ApplierPipeline {
    const publisher = new Publisher({ send: async (batches) => void sent.push(...batches) });
    return new ApplierPipeline(client, 'customer', target, (call) => call(), publisher, topicNames('t'), 'applier-customer');
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
});
