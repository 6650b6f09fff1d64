import { Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { describeIssues } from '@tandem/contracts';
import { consumerGroups, MessageConsumer, topicSpecs } from '@tandem/messaging';
import { ApplierPipeline, createMatchFor, SyncCatalog, type TargetCall } from '@tandem/pipeline';
import { HubSpotSettingsSchema } from '@tandem/hubspot-system';
import { PostgresTableSchema } from '@tandem/postgres-system';
import { retry, TargetBreaker } from '@tandem/resilience';
import { missingForKind, ServicePlatform, topicsConfig } from '@tandem/service-kit';
import { ConfigError } from '@tandem/config';
import type { LinkedSystem } from '@tandem/sync-config';
import { APPLIER_KIND_REQUIREMENTS, type ApplierEnv } from './applier.env';
import { openHubSpotTarget } from './targets/hubspot.target';
import { openPostgresTarget } from './targets/postgres.target';
import type { TargetConnection } from './targets/target-connection.interface';

/**
 * Writes one system's apply commands, a batch at a time, through a circuit breaker. While the target
 * is down the breaker is open and the consumer paused: nothing is dropped and nothing hammers it;
 * the breaker probes the target and the backlog resumes when it answers.
 */
/** How long a fetch waits to gather commands for batch-API targets; a fraction of HubSpot's latency budget. */
const GATHER_FOR_SHARED_CALLS_MS = 100;

@Injectable()
export class ApplierService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private consumer: MessageConsumer<'apply.command'> | null = null;
  private breaker: TargetBreaker | null = null;
  private connection: TargetConnection | null = null;

  constructor(private readonly platform: ServicePlatform<ApplierEnv>) {}

  async onApplicationBootstrap(): Promise<void> {
    const { config } = this.platform;
    const systemId = config.SYSTEM_ID;
    const catalog = SyncCatalog.fromDatabase(this.platform.db);
    await catalog.refresh();
    const linked = catalog.linkedSystem(systemId);
    if (!linked) throw new ConfigError('applier', [`SYSTEM_ID: no sync configuration links system "${systemId}"`]);
    const { system } = linked;
    const missing = missingForKind(config, system.kind, APPLIER_KIND_REQUIREMENTS);
    if (missing.length > 0) throw new ConfigError('applier', missing);
    const createMatch = createMatchFor(linked.sync.config, system);
    const connection = await this.openTarget(system, createMatch?.column ?? null);
    this.connection = connection;
    const { target } = connection;
    await this.platform.broker.ensureTopics(topicSpecs(topicsConfig(this.platform.config), [systemId]));

    const consumer = this.platform.broker.consumer({
      groupId: consumerGroups(this.platform.config.TOPIC_PREFIX).applier(systemId),
      topics: [this.platform.topics.apply(systemId)],
      concurrency: connection.sharesCalls ? config.TOPIC_PARTITIONS : config.APPLIER_CONCURRENCY,
      // Commands published together arrive in one fetch, so their partitions can share calls.
      ...(connection.sharesCalls ? { gatherMs: GATHER_FOR_SHARED_CALLS_MS } : {}),
    });
    let outage = false;
    const breaker = new TargetBreaker({
      target: systemId,
      probe: () => connection.probe(),
      timeoutMs: this.platform.config.APPLY_TIMEOUT_MS,
      resetTimeoutMs: this.platform.config.BREAKER_RESET_MS,
      volumeThreshold: 2,
      isFailure: (error) => connection.isTransient(error),
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
          isRetryable: (error) => connection.isTransient(error),
        }),
      );
    const pipeline = new ApplierPipeline(this.platform.db, systemId, target, call, this.platform.publisher, this.platform.topics, `applier-${systemId}`, {
      createMatch,
      tracksWrites: !connection.keepsBookkeeping,
    });
    this.consumer = new MessageConsumer({
      consumer,
      publisher: this.platform.publisher,
      deadLetterTopic: this.platform.topics.deadLetters,
      accepted: ['apply.command'],
      service: `applier-${systemId}`,
    });
    this.platform.health.register({ name: 'target', check: () => connection.check() });
    this.platform.health.detail('applier', () => ({ system: systemId, breaker: breaker.state, stats: pipeline.stats, timings: pipeline.timings.stages, assignments: consumer.assignments() }));
    await this.consumer.start((batch) => pipeline.handle(batch));
    this.platform.logger.info({ system: systemId, kind: system.kind, topic: this.platform.topics.apply(systemId) }, 'applying');
  }

  private async openTarget(system: LinkedSystem, matchColumn: string | null): Promise<TargetConnection> {
    const { config, logger } = this.platform;
    const problem = (detail: string) => new ConfigError('applier', [`sync settings of system "${system.id}": ${detail}`]);
    switch (system.kind) {
      case 'postgres': {
        const table = PostgresTableSchema.safeParse(system.settings);
        if (!table.success) throw problem(describeIssues(table.error));
        const target = { url: config.SYSTEM_DATABASE_URL!, table: table.data, matchColumn, preparedStatements: config.SYSTEM_DATABASE_PREPARED_STATEMENTS };
        return openPostgresTarget(target, logger);
      }
      case 'hubspot': {
        const settings = HubSpotSettingsSchema.safeParse(system.settings);
        if (!settings.success) throw problem(describeIssues(settings.error));
        const coordination = await this.platform.useCoordination();
        return openHubSpotTarget(system.id, settings.data, config.SYSTEM_ACCESS_TOKEN!, coordination!.rateLimiter, this.platform.db);
      }
      default:
        throw new ConfigError('applier', [`SYSTEM_ID: system "${system.id}" is a ${system.kind} system, which no applier writes yet`]);
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.consumer?.stop();
    this.breaker?.shutdown();
    await this.connection?.close();
  }
}
