import { Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { createRedisCoordination, type Coordination } from '@tandem/coordination';
import { KafkaBroker, Publisher, topicNames, type Broker, type TopicNames } from '@tandem/messaging';
import { createPgSqlClient, migrate, type SqlClient } from '@tandem/state';
import { Pool } from 'pg';
import type { Logger } from 'pino';
import { HealthController } from './health.controller';
import { HealthService } from './health.service';
import { contextLogger } from './logger.util';
import type { PlatformEnv } from './platform-env.schema';
import { INFRASTRUCTURE, LOGGER, PUBLISHER } from './platform.tokens';

/**
 * The database, broker and coordination a service runs on. A service started alone connects its
 * own from its configuration; services sharing one process (the embedded default) share one set,
 * owned and closed by whoever made it.
 */
export interface Infrastructure {
  db: SqlClient;
  broker: Broker;
  /** Null when the configuration names no Redis and nothing was shared. */
  coordination: Coordination | null;
}

/** Infrastructure whose coordination is opened by the first service that asks for it. */
interface LazyInfrastructure extends Omit<Infrastructure, 'coordination'> {
  coordination(): Promise<Coordination | null>;
}

/** Everything a service shares, as one injectable, so each service does not list every token. */
export class ServicePlatform<E extends PlatformEnv = PlatformEnv> {
  private coordinationChecked = false;

  constructor(
    readonly config: E,
    readonly db: SqlClient,
    readonly broker: Broker,
    private readonly openCoordination: () => Promise<Coordination | null>,
    readonly publisher: Publisher,
    readonly topics: TopicNames,
    readonly logger: Logger,
    readonly health: HealthService,
  ) {}

  /**
   * Leases, dedupe and rate limits shared by replicas; null when no Redis is configured. Only a
   * service that uses them connects Redis and is unready while it is down (a PostgreSQL applier
   * never needs it).
   */
  async useCoordination(): Promise<Coordination | null> {
    const coordination = await this.openCoordination();
    if (coordination && !this.coordinationChecked) {
      this.coordinationChecked = true;
      this.health.register({ name: 'coordination', check: () => coordination.ping() });
    }
    return coordination;
  }
}

interface OwnedInfrastructure extends LazyInfrastructure {
  /** Closes what this service opened; nothing when the infrastructure was shared with it. */
  close(): Promise<void>;
}

/** Connects to the servers the configuration names, migrating Tandem's database first. */
async function connectInfrastructure(service: string, config: PlatformEnv, logger: Logger): Promise<OwnedInfrastructure> {
  const pool = new Pool({ connectionString: config.DATABASE_URL, max: 8 });
  // An idle connection dropped by a database restart must not crash the service.
  pool.on('error', (error) => logger.warn({ error: error.message }, 'database connection dropped'));
  const db = createPgSqlClient(pool, { preparedStatements: config.DATABASE_PREPARED_STATEMENTS });
  const applied = await migrate(db);
  if (applied.length > 0) logger.info({ applied }, 'database migrated');
  const broker = new KafkaBroker({ clientId: service, brokers: config.KAFKA_BROKERS, logger: contextLogger(logger) });
  let coordination: Promise<Coordination> | null = null;
  return {
    db,
    broker,
    coordination: () => {
      if (!config.REDIS_URL) return Promise.resolve(null);
      coordination ??= createRedisCoordination(config.REDIS_URL, {
        onConnectionError: (error) => logger.warn({ error: error.message }, 'Redis unreachable; retrying'),
      });
      return coordination;
    },
    close: async () => {
      await broker.close();
      await (await coordination)?.close();
      await pool.end();
    },
  };
}

/** Closes the service's own connections after every service has stopped its own work. */
@Injectable()
class PlatformLifecycle implements OnApplicationShutdown {
  constructor(
    @Inject(INFRASTRUCTURE) private readonly infrastructure: OwnedInfrastructure,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationShutdown(signal?: string): Promise<void> {
    await this.infrastructure.close();
    this.logger.info({ signal }, 'stopped');
  }
}

/**
 * What every Tandem service shares: configuration, structured logging, Tandem's database (migrated
 * at start), the broker, the one publisher, topic names, and health endpoints that check them.
 */
@Module({})
export class PlatformModule {
  /** `shared`: run on infrastructure another owner made (one process for every service). */
  static forRoot(service: string, config: PlatformEnv, logger: Logger, shared?: Infrastructure): DynamicModule {
    return {
      module: PlatformModule,
      global: true,
      controllers: [HealthController],
      providers: [
        { provide: LOGGER, useValue: logger },
        {
          provide: INFRASTRUCTURE,
          useFactory: (): Promise<OwnedInfrastructure> | OwnedInfrastructure =>
                        shared
              ? { ...shared, coordination: async () => shared.coordination, close: async () => undefined }
              : connectInfrastructure(service, config, logger),
        },
        {
          provide: PUBLISHER,
          useFactory: async ({ broker }: OwnedInfrastructure) => new Publisher(await broker.producer()),
          inject: [INFRASTRUCTURE],
        },
        {
          provide: HealthService,
          useFactory: ({ db, broker }: OwnedInfrastructure) => {
            const health = new HealthService();
            health.register({ name: 'database', check: async () => void (await db.query('SELECT 1')) });
            health.register({ name: 'broker', check: () => broker.ping() });
            return health;
          },
          inject: [INFRASTRUCTURE],
        },
        {
          provide: ServicePlatform,
          useFactory: ({ db, broker, coordination }: OwnedInfrastructure, publisher: Publisher, health: HealthService) =>
            new ServicePlatform(config, db, broker, coordination, publisher, topicNames(config.TOPIC_PREFIX), logger, health),
          inject: [INFRASTRUCTURE, PUBLISHER, HealthService],
        },
        PlatformLifecycle,
      ],
      exports: [ServicePlatform, HealthService],
    };
  }
}
