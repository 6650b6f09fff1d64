import { Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { ConfigError } from '@tandem/config';
import { describeIssues } from '@tandem/contracts';
import { LeaseKeeper, type Coordination } from '@tandem/coordination';
import { HubSpotClient, HubSpotSettingsSchema } from '@tandem/hubspot-system';
import { topicSpecs } from '@tandem/messaging';
import { ConnectorPipeline, SyncCatalog, systemMapper } from '@tandem/pipeline';
import { PostgresTableSchema } from '@tandem/postgres-system';
import type { CompiledSync } from '@tandem/reconciliation';
import type { LinkedSystem } from '@tandem/sync-config';
import { missingForKind, ServicePlatform, topicsConfig } from '@tandem/service-kit';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { CONNECTOR_KIND_REQUIREMENTS, type ConnectorEnv } from './connector.env';
import { HubSpotWebhookReceiver } from './hubspot-webhook.receiver';
import { FencedOutError, HubSpotSourceReader } from './readers/hubspot-source.reader';
import { PostgresSourceReader } from './readers/postgres-source.reader';
import type { SourceReader } from './readers/source-reader.interface';
import { sleep } from './sleep.util';

type ConnectorStatus = 'starting' | 'standby' | 'preparing' | 'streaming';

/**
 * Reads one system's changes and publishes them. Only the instance holding the system's lease reads
 * (others wait as standbys, though every instance takes webhooks into the shared inbox), and the
 * source is acknowledged only after the broker has the events.
 */
@Injectable()
export class ConnectorService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly stopping = new AbortController();
  private loop: Promise<void> | null = null;
  private reader: SourceReader | null = null;
  private receiver: HubSpotWebhookReceiver | null = null;
  private status: ConnectorStatus = 'starting';

  constructor(private readonly platform: ServicePlatform<ConnectorEnv>) {}

  async onApplicationBootstrap(): Promise<void> {
    const { config } = this.platform;
    const catalog = SyncCatalog.fromDatabase(this.platform.db);
    await catalog.refresh();
    const { sync, system } = catalog.linkedSystem(config.SYSTEM_ID) ?? {};
    if (!sync || !system) throw new ConfigError('connector', [`SYSTEM_ID: no sync configuration links system "${config.SYSTEM_ID}"`]);
    const coordination = await this.platform.useCoordination();
    const missing = [...missingForKind(config, system.kind, CONNECTOR_KIND_REQUIREMENTS), ...(coordination ? [] : ['REDIS_URL: required (one instance reads a source at a time, under a lease)'])];
    if (missing.length > 0) throw new ConfigError('connector', missing);
    await this.platform.broker.ensureTopics(topicSpecs(topicsConfig(config), [system.id]));

    const reader = await this.openReader(sync, system, coordination!);
    this.reader = reader;
    const pipeline = new ConnectorPipeline(this.platform.db, sync, system.id, this.platform.publisher, this.platform.topics);
    this.platform.health.register({ name: 'source', check: () => reader.check() });
    this.platform.health.detail('connector', () => ({ system: system.id, kind: system.kind, status: this.status, stats: pipeline.stats, timings: pipeline.timings.stages }));
    this.loop = this.run(reader, pipeline, coordination!, `connector:${sync.config.tenantId}:${system.id}`);
  }

  /** The webhook endpoint's handler, for systems that push changes; null for the others. */
  webhookReceiver(): HubSpotWebhookReceiver | null {
    return this.receiver;
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping.abort();
    // The batch in flight finishes publishing and acknowledging before the loop returns.
    await this.loop;
    await this.reader?.close();
  }

  private async openReader(sync: CompiledSync, system: LinkedSystem, coordination: Coordination): Promise<SourceReader> {
    const { config, logger, db } = this.platform;
    const problem = (detail: string) => new ConfigError('connector', [`sync settings of system "${system.id}": ${detail}`]);
    switch (system.kind) {
      case 'postgres': {
        const table = PostgresTableSchema.safeParse(system.settings);
        if (!table.success) throw problem(describeIssues(table.error));
        return PostgresSourceReader.open({ url: config.SYSTEM_DATABASE_URL!, table: table.data, snapshotChunkSize: config.SNAPSHOT_CHUNK_SIZE, logger });
      }
      case 'hubspot': {
        const settings = HubSpotSettingsSchema.safeParse(system.settings);
        if (!settings.success) throw problem(describeIssues(settings.error));
        const client = HubSpotClient.fromSettings(settings.data, { accessToken: config.SYSTEM_ACCESS_TOKEN!, rateLimiter: coordination.rateLimiter });
        const reader = new HubSpotSourceReader({
          db,
          client,
          settings: settings.data,
          tenantId: sync.config.tenantId,
          systemId: system.id,
          properties: systemMapper(sync.config, system).mapper.nativeFields,
          logger,
        });
        this.receiver = new HubSpotWebhookReceiver({
          inbox: reader.source,
          clientSecret: config.SYSTEM_WEBHOOK_SECRET!,
          accountId: settings.data.accountId,
          dedupe: coordination.dedupe,
          logger,
        });
        return reader;
      }
      default:
        throw new ConfigError('connector', [`SYSTEM_ID: system "${system.id}" is a ${system.kind} system, which no connector reads yet`]);
    }
  }

  /** Takes the lease (waiting as a standby while another instance has it), then reads until stopped. */
  private async run(reader: SourceReader, pipeline: ConnectorPipeline, coordination: Coordination, resource: string): Promise<void> {
    const { config, logger } = this.platform;
    const holderId = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
    while (!this.stopping.signal.aborted) {
      let keeper: LeaseKeeper | null = null;
      try {
        keeper = await LeaseKeeper.acquire(coordination.lease, { resource, holderId, ttlMs: config.LEASE_TTL_MS });
        if (!keeper) {
          this.status = 'standby';
          await sleep(config.LEASE_TTL_MS / 3, this.stopping.signal);
          continue;
        }
        // Either of the two loops failing stops the other before the lease is given back.
        const failed = new AbortController();
        const signal = AbortSignal.any([this.stopping.signal, keeper.signal, failed.signal]);
        this.status = 'preparing';
        await reader.prepare(signal, keeper.token);
        this.status = 'streaming';
        const stopOnFailure = (work: Promise<void>) => work.catch((error: unknown) => (failed.abort(), Promise.reject(error)));
        const outcomes = await Promise.allSettled([
          stopOnFailure(reader.runBeside(signal, keeper.token)),
          stopOnFailure(pipeline.run(reader.source, signal, { batchSize: config.BATCH_SIZE, idleWaitMs: config.POLL_INTERVAL_MS })),
        ]);
        const failure = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
        if (failure) throw failure.reason;
        if (!keeper.held && !this.stopping.signal.aborted) logger.warn({ resource }, 'lease lost; reading stopped until it is regained');
      } catch (error) {
        if (this.stopping.signal.aborted) break;
        if (error instanceof FencedOutError) {
          // After a Redis restart tokens start again from 1; the next grant must outrank what was written.
          logger.warn({ resource, error: error.message }, 'fenced out; raising the fence and taking the lease again');
          await coordination.lease.raiseFence(resource, error.newerToken).catch(() => undefined);
          continue;
        }
        logger.error({ error: error instanceof Error ? error.message : String(error) }, 'connector loop failed; retrying');
        await sleep(1_000, this.stopping.signal);
      } finally {
        await keeper?.release().catch(() => undefined);
      }
    }
  }
}
