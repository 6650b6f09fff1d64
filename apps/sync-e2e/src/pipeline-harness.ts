import { deleteKafkaNamespace } from '@tandem/local-stack';
import { consumerGroups, KafkaBroker, MessageConsumer, Publisher, topicNames, topicSpecs, type Broker } from '@tandem/messaging';
import { ApplierPipeline, ConflictResolver, ConnectorPipeline, ReconcilerPipeline, SyncCatalog, compileSync, createMatchFor } from '@tandem/pipeline';
import { PostgresApplier, PostgresChangeCapture } from '@tandem/postgres-system';
import { createPgSqlClient, migrate, type PgSqlClient } from '@tandem/state';
import type { SyncConfig } from '@tandem/sync-config';
import { TEST_KAFKA_BROKERS, uniqueSuffix } from '@tandem/testing';
import { Pool } from 'pg';

export interface LinkedDatabase {
  systemId: string;
  url: string;
  table: string;
}

const logger = {
  info: () => undefined,
  warn: () => undefined,
  error: (message: string, context?: Record<string, unknown>) => console.error(message, context ?? ''),
};

/**
 * Every role of the pipeline in one process, wired as the services wire it, on the real Kafka broker:
 * a connector and an applier per linked database, and the reconciler between them.
 */
export class PipelineHarness {
  private readonly stopping = new AbortController();
  private readonly tasks: Promise<unknown>[] = [];
  private readonly consumers: Array<{ stop(): Promise<void> }> = [];
  private readonly pools: Pool[] = [];
  private readonly captures: PostgresChangeCapture[] = [];
  readonly reconciler: ReconcilerPipeline;
  readonly conflicts: ConflictResolver;
  readonly connectors = new Map<string, ConnectorPipeline>();
  readonly appliers = new Map<string, ApplierPipeline>();

  private constructor(
    private readonly broker: Broker,
    readonly db: PgSqlClient,
    private readonly publisher: Publisher,
    private readonly config: SyncConfig,
    private readonly prefix: string,
  ) {
    const catalog = new SyncCatalog({ list: async () => [config] });
    this.reconciler = new ReconcilerPipeline(db, catalog, publisher, topicNames(prefix));
    this.conflicts = new ConflictResolver(db, publisher, topicNames(prefix));
  }

  static async start(tandemUrl: string, config: SyncConfig, databases: LinkedDatabase[]): Promise<PipelineHarness> {
    const prefix = `t${uniqueSuffix()}`;
    const broker = new KafkaBroker({ clientId: 'harness', brokers: TEST_KAFKA_BROKERS, logger });
    await broker.ensureTopics(topicSpecs({ prefix, partitions: 3, retentionMs: 3_600_000 }, databases.map((d) => d.systemId)));
    const db = createPgSqlClient(tandemUrl);
    await migrate(db);
    const publisher = new Publisher(await broker.producer());
    const harness = new PipelineHarness(broker, db, publisher, config, prefix);
    await harness.startReconciler();
    for (const database of databases) await harness.startSystem(database);
    return harness;
  }

  private async startReconciler(): Promise<void> {
    const topics = topicNames(this.prefix);
    const consumer = new MessageConsumer({
      consumer: this.broker.consumer({ groupId: consumerGroups(this.prefix).reconciler, topics: [topics.changes] }),
      publisher: this.publisher,
      deadLetterTopic: topics.deadLetters,
      accepted: ['change', 'apply.result', 'conflict.decision'],
      service: 'reconciler',
    });
    await consumer.start((batch) => this.reconciler.handle(batch));
    this.consumers.push(consumer);
  }

  private async startSystem(database: LinkedDatabase): Promise<void> {
    const topics = topicNames(this.prefix);
    const pool = new Pool({ connectionString: database.url, max: 4 });
    pool.on('error', (error) => logger.error(`pool ${database.systemId}`, { error: error.message }));
    this.pools.push(pool);

    const applier = new PostgresApplier({ pool, table: { table: database.table } });
    await applier.install();
    const linked = this.config.systems.find((system) => system.id === database.systemId);
    const createMatch = linked ? createMatchFor(this.config, linked) : null;
    const applierPipeline = new ApplierPipeline(this.db, database.systemId, applier, (call) => call(), this.publisher, topics, `applier-${database.systemId}`, { createMatch });
    this.appliers.set(database.systemId, applierPipeline);
    const consumer = new MessageConsumer({
      consumer: this.broker.consumer({ groupId: consumerGroups(this.prefix).applier(database.systemId), topics: [topics.apply(database.systemId)] }),
      publisher: this.publisher,
      deadLetterTopic: topics.deadLetters,
      accepted: ['apply.command'],
      service: `applier-${database.systemId}`,
    });
    await consumer.start((batch) => applierPipeline.handle(batch));
    this.consumers.push(consumer);

    const capture = new PostgresChangeCapture({
      pool,
      table: { table: database.table },
      onListenerError: (error) => logger.error(`listener ${database.systemId}`, { error: error.message }),
    });
    this.captures.push(capture);
    await capture.install();
    await capture.snapshot({ chunkSize: 1_000 });
    const connector = new ConnectorPipeline(this.db, compileSync(this.config), database.systemId, this.publisher, topics);
    this.connectors.set(database.systemId, connector);
    this.tasks.push(
      connector.run(capture, this.stopping.signal, { idleWaitMs: 200 }).catch((error: unknown) => {
        if (!this.stopping.signal.aborted) logger.error(`connector ${database.systemId} stopped`, { error: String(error) });
      }),
    );
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await Promise.all(this.tasks);
    await Promise.all(this.consumers.map((consumer) => consumer.stop()));
    await this.broker.close();
    await Promise.all(this.captures.map((capture) => capture.close()));
    await Promise.all(this.pools.map((pool) => pool.end()));
    await this.db.close();
    await deleteKafkaNamespace(TEST_KAFKA_BROKERS, this.prefix);
  }
}
