import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { MessageConsumer, topicSpecs, type Broker, type Publisher, type TopicNames } from '@tandem/messaging';
import { ReconcilerPipeline, SyncCatalog } from '@tandem/pipeline';
import { BROKER, HealthService, LOGGER, PLATFORM_ENV, PUBLISHER, TANDEM_DB, TOPICS, topicsConfig } from '@tandem/service-kit';
import { SyncConfigRepository, type SqlClient } from '@tandem/state';
import { SyncConfigSchema } from '@tandem/sync-config';
import type { Logger } from 'pino';
import type { ReconcilerEnv } from './reconciler.env';

@Injectable()
export class ReconcilerService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private consumer: MessageConsumer<'change' | 'apply.result' | 'conflict.decision'> | null = null;
  private refreshTimer: NodeJS.Timeout | null = null;

  constructor(
    @Inject(PLATFORM_ENV) private readonly config: ReconcilerEnv,
    @Inject(TANDEM_DB) private readonly db: SqlClient,
    @Inject(BROKER) private readonly broker: Broker,
    @Inject(PUBLISHER) private readonly publisher: Publisher,
    @Inject(TOPICS) private readonly topics: TopicNames,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly health: HealthService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const catalog = new SyncCatalog(new SyncConfigRepository(this.db, (raw) => SyncConfigSchema.parse(raw)));
    await catalog.refresh();
    await this.ensureTopics(catalog);
    this.refreshTimer = setInterval(() => {
      catalog
        .refresh()
        .then(() => this.ensureTopics(catalog))
        .catch((error: unknown) => this.logger.error({ error: String(error) }, 'sync configuration refresh failed; keeping the previous one'));
    }, this.config.SYNC_CONFIG_REFRESH_MS);
    this.refreshTimer.unref();

    const pipeline = new ReconcilerPipeline(this.db, catalog, this.publisher, this.topics);
    const consumer = this.broker.consumer({
      groupId: `${this.config.TOPIC_PREFIX}.reconciler`,
      topics: [this.topics.changes],
      concurrency: this.config.RECONCILER_CONCURRENCY,
    });
    this.consumer = new MessageConsumer({
      consumer,
      publisher: this.publisher,
      deadLetterTopic: this.topics.deadLetters,
      accepted: ['change', 'apply.result', 'conflict.decision'],
      service: 'reconciler',
    });
    this.health.detail('reconciler', () => ({ stats: pipeline.stats, timings: pipeline.timings.stages, assignments: consumer.assignments(), syncs: catalog.all().map((s) => s.config.id) }));
    await this.consumer.start((batch) => pipeline.handle(batch));
    this.logger.info({ syncs: catalog.all().length, topic: this.topics.changes }, 'reconciling');
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    // Finishes the batch in flight and commits it; the rest is handed back to the group.
    await this.consumer?.stop();
  }

  private async ensureTopics(catalog: SyncCatalog): Promise<void> {
    const systems = [...new Set(catalog.all().flatMap((sync) => [...sync.systems.keys()]))];
    await this.broker.ensureTopics(topicSpecs(topicsConfig(this.config), systems));
  }
}
