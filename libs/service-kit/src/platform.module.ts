import { Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { KafkaBroker, Publisher, topicNames, type Broker, type TopicNames } from '@tandem/messaging';
import { createPgSqlClient, migrate, type PgSqlClient, type SqlClient } from '@tandem/state';
import { Pool } from 'pg';
import type { Logger } from 'pino';
import { HealthController } from './health.controller';
import { HealthService } from './health.service';
import { contextLogger } from './logger.util';
import type { PlatformEnv } from './platform-env.schema';
import { BROKER, LOGGER, PUBLISHER, TANDEM_DB, TANDEM_POOL } from './platform.tokens';

/** Everything a service shares, as one injectable, so each service does not list every token. */
export class ServicePlatform<E extends PlatformEnv = PlatformEnv> {
  constructor(
    readonly config: E,
    readonly db: SqlClient,
    readonly broker: Broker,
    readonly publisher: Publisher,
    readonly topics: TopicNames,
    readonly logger: Logger,
    readonly health: HealthService,
  ) {}
}

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
        { provide: LOGGER, useValue: logger },
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
        {
          provide: ServicePlatform,
          useFactory: (db: PgSqlClient, broker: Broker, publisher: Publisher, health: HealthService) =>
            new ServicePlatform(config, db, broker, publisher, topicNames(config.TOPIC_PREFIX), logger, health),
          inject: [TANDEM_DB, BROKER, PUBLISHER, HealthService],
        },
        PlatformLifecycle,
      ],
      exports: [ServicePlatform, HealthService],
    };
  }
}
