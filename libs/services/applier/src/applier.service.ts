import { Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { describeIssues } from '@tandem/contracts';
import { MessageConsumer, topicSpecs } from '@tandem/messaging';
import { ApplierPipeline, SyncCatalog, type TargetCall } from '@tandem/pipeline';
import { PostgresApplier, PostgresSystemError, PostgresTableSchema } from '@tandem/postgres-system';
import { retry, TargetBreaker } from '@tandem/resilience';
import { ServicePlatform, topicsConfig } from '@tandem/service-kit';
import { ConfigError } from '@tandem/config';
import { Pool } from 'pg';
import type { ApplierEnv } from './applier.env';

/**
 * Writes one system's apply commands, a batch at a time, through a circuit breaker. While the target
 * is down the breaker is open and the consumer paused: nothing is dropped and nothing hammers it;
 * the breaker probes the target and the backlog resumes when it answers.
 */
@Injectable()
export class ApplierService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private consumer: MessageConsumer<'apply.command'> | null = null;
  private breaker: TargetBreaker | null = null;
  private pool: Pool | null = null;

  constructor(private readonly platform: ServicePlatform<ApplierEnv>) {}

  async onApplicationBootstrap(): Promise<void> {
    const systemId = this.platform.config.SYSTEM_ID;
    const catalog = SyncCatalog.fromDatabase(this.platform.db);
    await catalog.refresh();
    const system = catalog.linkedSystem(systemId)?.system;
    if (!system) throw new ConfigError('applier', [`SYSTEM_ID: no sync configuration links system "${systemId}" (got "${systemId}")`]);
    if (system.kind !== 'postgres') throw new ConfigError('applier', [`SYSTEM_ID: system "${systemId}" is a ${system.kind} system; this applier writes postgres systems`]);
    const table = PostgresTableSchema.safeParse(system.settings);
    if (!table.success) throw new ConfigError('applier', [`sync settings of system "${systemId}": ${describeIssues(table.error)}`]);

    const pool = new Pool({ connectionString: this.platform.config.SYSTEM_DATABASE_URL, max: 4 });
    pool.on('error', (error) => this.platform.logger.warn({ error: error.message }, 'target connection dropped'));
    this.pool = pool;
    const target = new PostgresApplier({ pool, table: table.data });
    await target.install();
    await this.platform.broker.ensureTopics(topicSpecs(topicsConfig(this.platform.config), [systemId]));

    const consumer = this.platform.broker.consumer({
      groupId: `${this.platform.config.TOPIC_PREFIX}.applier.${systemId}`,
      topics: [this.platform.topics.apply(systemId)],
      concurrency: this.platform.config.APPLIER_CONCURRENCY,
    });
    let outage = false;
    const breaker = new TargetBreaker({
      target: systemId,
      probe: () => pool.query('SELECT 1'),
      timeoutMs: this.platform.config.APPLY_TIMEOUT_MS,
      resetTimeoutMs: this.platform.config.BREAKER_RESET_MS,
      volumeThreshold: 2,
      isFailure: (error) => !(error instanceof PostgresSystemError) || error.retryable,
      // opossum opens again after every failed probe; the outage is reported once.
      onOpen: () => {
        consumer.pause();
        if (!outage) this.platform.logger.warn({ target: systemId }, 'target failing: breaker open, queue paused');
        outage = true;
      },
      onProbeFailed: (error) => this.platform.logger.debug({ target: systemId, error: String(error) }, 'target still failing'),
      onClose: () => {
        outage = false;
        this.platform.logger.info({ target: systemId }, 'target answers again: breaker closed, queue resumed');
        consumer.resume();
      },
    });
    this.breaker = breaker;
    const call: TargetCall = (work) =>
      breaker.fire(() =>
        retry(() => work(), {
          retries: 2,
          baseDelayMs: 100,
          maxDelayMs: 1_000,
          isRetryable: (error) => error instanceof PostgresSystemError && error.retryable,
        }),
      );
    const pipeline = new ApplierPipeline(this.platform.db, systemId, target, call, this.platform.publisher, this.platform.topics, `applier-${systemId}`);
    this.consumer = new MessageConsumer({
      consumer,
      publisher: this.platform.publisher,
      deadLetterTopic: this.platform.topics.deadLetters,
      accepted: ['apply.command'],
      service: `applier-${systemId}`,
    });
    this.platform.health.register({ name: 'target', check: async () => void (await pool.query('SELECT 1')) });
    this.platform.health.detail('applier', () => ({ system: systemId, breaker: breaker.state, stats: pipeline.stats, timings: pipeline.timings.stages, assignments: consumer.assignments() }));
    await this.consumer.start((batch) => pipeline.handle(batch));
    this.platform.logger.info({ system: systemId, topic: this.platform.topics.apply(systemId) }, 'applying');
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.consumer?.stop();
    this.breaker?.shutdown();
    await this.pool?.end();
  }
}
