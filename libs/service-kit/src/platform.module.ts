import { Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { KafkaBroker, Publisher, topicNames, type Broker } from '@tandem/messaging';
import { createPgSqlClient, migrate, type PgSqlClient } from '@tandem/state';
import { Pool } from 'pg';
import type { Logger } from 'pino';
import { HealthController } from './health.controller';
import { HealthService } from './health.service';
import { contextLogger } from './logger.util';
import type { PlatformEnv } from './platform-env.schema';
import { BROKER, LOGGER, PLATFORM_ENV, PUBLISHER, TANDEM_DB, TANDEM_POOL, TOPICS } from './platform.tokens';

/** Closes the shared connections after every service has stopped its own work. */
@Injectable()
class PlatformLifecycle implements OnApplicationShutdown {
  constructor(
    @Inject(BROKER) private readonly broker: Broker,
    @Inject(TANDEM_POOL) private readonly pool: Pool,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationShutdown(signal?: string): Promise<void> {
    await this.broker.close();
    await this.pool.end();
    this.logger.info({ signal }, 'stopped');
  }
}

/**
 * What every Tandem service shares: configuration, structured logging, Tandem's database (migrated
 * at start), the broker, the one publisher, topic names, and health endpoints that check them.
 */
@Module({})
export class PlatformModule {
  static forRoot(service: string, config: PlatformEnv, logger: Logger): DynamicModule {
    return {
      module: PlatformModule,
      global: true,
      controllers: [HealthController],
      providers: [
        { provide: PLATFORM_ENV, useValue: config },
        { provide: LOGGER, useValue: logger },
        { provide: TOPICS, useValue: topicNames(config.TOPIC_PREFIX) },
        {
          provide: TANDEM_POOL,
          useFactory: () => {
            const pool = new Pool({ connectionString: config.DATABASE_URL, max: 8 });
            // An idle connection dropped by a database restart must not crash the service.
            pool.on('error', (error) => logger.warn({ error: error.message }, 'database connection dropped'));
            return pool;
          },
        },
        {
          provide: TANDEM_DB,
          inject: [TANDEM_POOL],
          useFactory: async (pool: Pool) => {
            const db = createPgSqlClient(pool);
            const applied = await migrate(db);
            if (applied.length > 0) logger.info({ applied }, 'database migrated');
            return db;
          },
        },
        {
          provide: BROKER,
          useFactory: () => new KafkaBroker({ clientId: service, brokers: config.KAFKA_BROKERS, logger: contextLogger(logger) }),
        },
        {
          provide: PUBLISHER,
          useFactory: async (broker: Broker) => new Publisher(await broker.producer()),
          inject: [BROKER],
        },
        {
          provide: HealthService,
          useFactory: (db: PgSqlClient, broker: Broker) => {
            const health = new HealthService();
            health.register({ name: 'database', check: async () => void (await db.query('SELECT 1')) });
            health.register({ name: 'broker', check: () => broker.ping() });
            return health;
          },
          inject: [TANDEM_DB, BROKER],
        },
        PlatformLifecycle,
      ],
      exports: [PLATFORM_ENV, LOGGER, TOPICS, TANDEM_DB, BROKER, PUBLISHER, HealthService],
    };
  }
}
