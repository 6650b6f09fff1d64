import { Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { ConfigError } from '@tandem/config';
import { describeIssues } from '@tandem/contracts';
import { LeaseKeeper, type Coordination } from '@tandem/coordination';
import { topicSpecs } from '@tandem/messaging';
import { ConnectorPipeline, SyncCatalog } from '@tandem/pipeline';
import { PostgresChangeCapture, PostgresTableSchema } from '@tandem/postgres-system';
import { ServicePlatform, topicsConfig } from '@tandem/service-kit';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Pool } from 'pg';
import type { ConnectorEnv } from './connector.env';

/**
 * Reads one system's changes and publishes them. Only the instance holding the system's lease reads
 * (others wait as standbys), and the source is acknowledged only after Kafka has the events.
 */
@Injectable()
export class ConnectorService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly stopping = new AbortController();
  private loop: Promise<void> | null = null;
  private pool: Pool | null = null;
  private capture: PostgresChangeCapture | null = null;
  private status: 'starting' | 'standby' | 'snapshot' | 'streaming' = 'starting';

  constructor(private readonly platform: ServicePlatform<ConnectorEnv>) {}

  async onApplicationBootstrap(): Promise<void> {
    const systemId = this.platform.config.SYSTEM_ID;
    const catalog = SyncCatalog.fromDatabase(this.platform.db);
    await catalog.refresh();
    const { sync, system } = catalog.linkedSystem(systemId) ?? {};
    if (!sync || !system) throw new ConfigError('connector', [`SYSTEM_ID: no sync configuration links system "${systemId}"`]);
    if (system.kind !== 'postgres') throw new ConfigError('connector', [`SYSTEM_ID: system "${systemId}" is a ${system.kind} system; this connector reads postgres systems`]);
    const table = PostgresTableSchema.safeParse(system.settings);
    if (!table.success) throw new ConfigError('connector', [`sync settings of system "${systemId}": ${describeIssues(table.error)}`]);
    await this.platform.broker.ensureTopics(topicSpecs(topicsConfig(this.platform.config), [systemId]));

    const pool = new Pool({ connectionString: this.platform.config.SYSTEM_DATABASE_URL, max: 4 });
    pool.on('error', (error) => this.platform.logger.warn({ error: error.message }, 'source connection dropped'));
    this.pool = pool;
    const capture = new PostgresChangeCapture({
      pool,
      table: table.data,
      onListenerError: (error) => this.platform.logger.warn({ error: error.message }, 'change notifications unavailable; polling'),
    });
    this.capture = capture;
    await capture.install();
    const coordination = this.platform.coordination;
    if (!coordination) throw new ConfigError('connector', ['REDIS_URL: required (one instance reads a source at a time, under a lease)']);
    const pipeline = new ConnectorPipeline(this.platform.db, sync, systemId, this.platform.publisher, this.platform.topics);
    this.platform.health.register({ name: 'source', check: async () => void (await pool.query('SELECT 1')) });
    this.platform.health.detail('connector', () => ({ system: systemId, status: this.status, stats: pipeline.stats, timings: pipeline.timings.stages }));
    this.loop = this.run(capture, pipeline, coordination, `connector:${sync.config.tenantId}:${systemId}`);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping.abort();
    // The batch in flight finishes publishing and acknowledging before the loop returns.
    await this.loop;
    await this.capture?.close();
    await this.pool?.end();
  }

  /** Takes the lease (waiting as a standby while another instance has it), then reads until stopped. */
  private async run(capture: PostgresChangeCapture, pipeline: ConnectorPipeline, coordination: Coordination, resource: string): Promise<void> {
    const holderId = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
    while (!this.stopping.signal.aborted) {
      let keeper: LeaseKeeper | null = null;
      try {
        keeper = await LeaseKeeper.acquire(coordination.lease, { resource, holderId, ttlMs: this.platform.config.LEASE_TTL_MS });
        if (!keeper) {
          this.status = 'standby';
          await sleep(this.platform.config.LEASE_TTL_MS / 3, this.stopping.signal);
          continue;
        }
        const signal = AbortSignal.any([this.stopping.signal, keeper.signal]);
        this.status = 'snapshot';
        const snapshot = await capture.snapshot({
          chunkSize: this.platform.config.SNAPSHOT_CHUNK_SIZE,
          signal,
          onProgress: (progress) => this.platform.logger.info(progress, 'initial snapshot'),
        });
        if (snapshot.rowsDone > 0) this.platform.logger.info(snapshot, 'initial snapshot done');
        this.status = 'streaming';
        await pipeline.run(capture, signal, { batchSize: this.platform.config.BATCH_SIZE, idleWaitMs: this.platform.config.POLL_INTERVAL_MS });
        if (!keeper.held && !this.stopping.signal.aborted) this.platform.logger.warn({ resource }, 'lease lost; reading stopped until it is regained');
      } catch (error) {
        if (this.stopping.signal.aborted) break;
        this.platform.logger.error({ error: error instanceof Error ? error.message : String(error) }, 'connector loop failed; retrying');
        await sleep(1_000, this.stopping.signal);
      } finally {
        await keeper?.release().catch(() => undefined);
      }
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });
}
