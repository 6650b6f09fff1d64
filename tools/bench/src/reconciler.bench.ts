import { parseMessage, SCHEMA_VERSION, type MessageOf } from '@tandem/contracts';
import { crmCustomerSync } from '@tandem/local-stack';
import { Publisher, topicNames, type MessageBatch, type TopicRecords } from '@tandem/messaging';
import { ReconcilerPipeline, SyncCatalog } from '@tandem/pipeline';
import type { ReconcilerInput } from '@tandem/reconciliation';
import { createPgSqlClient, migrate } from '@tandem/state';
import { createTempDatabase } from '@tandem/testing';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { CpuMeter } from './cpu-meter.util';

/**
 * The reconciler's own CPU per change, without the broker: batches of CRM creates and then their
 * apply results, validated as the consumer validates them, through the pipeline on a real Tandem
 * database, with a producer that only keeps what it is given. Its figures vary far less than the
 * whole pipeline's when other work shares the machine, so they tell small changes apart. The last
 * line is `{"changes","node_us_per_change","pg_us_per_change"}`.
 */
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 20);
const BATCH = Number(process.env['BENCH_BATCH'] ?? 600);
/** `create` measures CRM creates; `update` creates the contacts first, unmeasured, then measures an update of each. */
const OPERATION = process.env['BENCH_OPERATION'] ?? 'create';
const WARMUP_ROUNDS = 2;
const TRACE = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

async function main(): Promise<void> {
  const database = await createTempDatabase('bench_reconciler');
  const db = createPgSqlClient(database.url);
  const observer = new Client({ connectionString: database.url });
  try {
    await migrate(db);
    await observer.connect();
    const config = crmCustomerSync();
    const catalog = new SyncCatalog({ list: async () => [config] });
    await catalog.refresh();
    const topics = topicNames('bench');
    let sent: TopicRecords[] = [];
    const pipeline = new ReconcilerPipeline(db, catalog, new Publisher({ send: async (batches) => void sent.push(...batches) }), topics);
    let offset = 0;
    const batchOf = (messages: object[]): MessageBatch<ReconcilerInput> => ({
      topic: topics.changes,
      partition: 0,
      messages: messages.map((message) => {
        const value = Buffer.from(JSON.stringify(message));
        const parsed = parseMessage(value, ['change', 'apply.result', 'conflict.decision']);
        if (!parsed.ok) throw new Error(parsed.reason);
        return { message: parsed.message, record: { topic: topics.changes, partition: 0, offset: String(offset++), key: null, value, headers: { traceparent: TRACE } } };
      }),
    });
    const postgresCpu = new CpuMeter(['pg'], async () => {
      const { rows } = await observer.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [database.name]);
      return rows.map((row) => ({ group: 'pg', pid: row.pid }));
    });

    let sequence = 0;
    let position = 0;
    const envelope = () => {
      const now = new Date().toISOString();
      return { tenantId: config.tenantId, occurredAt: now, observedAt: now, schemaVersion: SCHEMA_VERSION };
    };
    /** Reconciles a batch of CRM changes, then the customer applier's results of the commands they gave. */
    const reconcileRound = async (changes: Array<{ entityId: string; recordId: string; operation: 'create' | 'update'; fields: object }>): Promise<void> => {
      sent = [];
      const changed = envelope();
      await pipeline.handle(
        batchOf(
          changes.map(({ entityId, recordId, operation, fields }) => {
            sequence += 1;
            const data = { entityType: 'contact', entityId, recordId, operation, fields, sequence: String(sequence), snapshot: false };
            return { ...changed, type: 'change', eventId: `crm:${recordId}:${sequence}`, origin: 'crm', data };
          }),
        ),
      );
      const commands = sent
        .filter((batch) => batch.topic === topics.apply('customer'))
        .flatMap((batch) => batch.records.map((record) => JSON.parse(record.value) as MessageOf<'apply.command'>));
      if (commands.length !== changes.length) throw new Error(`${changes.length} changes gave ${commands.length} commands`);
      const answered = envelope();
      const results = commands.map((command) => {
        position += 1;
        const recordId = command.data.recordId ?? String(position);
        const data = { commandId: command.eventId, target: 'customer', entityType: 'contact', entityId: command.data.entityId, recordId, version: command.data.version, outcome: 'applied', fields: command.data.fields, error: null, position: String(position) };
        return { ...answered, type: 'apply.result', eventId: `${command.eventId}>result`, origin: 'customer', data };
      });
      await pipeline.handle(batchOf(results));
    };

    const contacts: Array<{ entityId: string; recordId: string }> = [];
    const createRound = () =>
      reconcileRound(
        Array.from({ length: BATCH }, () => {
          const recordId = String(contacts.length + 1);
          contacts.push({ entityId: randomUUID(), recordId });
          const fields = { first_name: { after: 'Person' }, last_name: { after: recordId }, email: { after: `p${recordId}@example.com` }, phone: { after: '0' } };
          return { entityId: contacts.at(-1)!.entityId, recordId, operation: 'create' as const, fields };
        }),
      );
    const updateRound = (round: number) =>
      reconcileRound(
        contacts.slice(round * BATCH, (round + 1) * BATCH).map(({ entityId, recordId }) => ({
          entityId,
          recordId,
          operation: 'update' as const,
          fields: { phone: { before: '0', after: `u${recordId}` } },
        })),
      );

    if (OPERATION === 'update') for (let round = 0; round < WARMUP_ROUNDS + ROUNDS; round += 1) await createRound();
    let node = process.cpuUsage();
    for (let round = 0; round < WARMUP_ROUNDS + ROUNDS; round += 1) {
      if (round === WARMUP_ROUNDS) {
        node = process.cpuUsage();
        await postgresCpu.start();
      }
      await (OPERATION === 'update' ? updateRound(round) : createRound());
      await postgresCpu.sample();
    }
    const used = process.cpuUsage(node);
    const changes = ROUNDS * BATCH;
    const result = {
      changes,
      node_us_per_change: Math.round((used.user + used.system) / changes),
      pg_us_per_change: Math.round((((await postgresCpu.used())[0]?.[1] ?? 0) * 1e6) / changes),
    };
    process.stderr.write(`bench: ${changes} ${OPERATION}s and their apply results in batches of ${BATCH}; stages ${JSON.stringify(pipeline.timings.stages)}\n`);
    console.log(JSON.stringify(result));
  } finally {
    await observer.end();
    await db.close();
    await database.drop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
