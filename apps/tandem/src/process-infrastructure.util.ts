import { createMemoryCoordination, createRedisCoordination } from '@tandem/coordination';
import { EmbeddedBroker, KafkaBroker } from '@tandem/messaging';
import { contextLogger, type Infrastructure } from '@tandem/service-kit';
import { createPgliteSqlClient, createPgSqlClient, migrate, type SqlClient } from '@tandem/state';
import { join } from 'node:path';
import { Pool } from 'pg';
import type { Logger } from 'pino';
import type { ShutdownStack } from './shutdown-stack.util';
import type { TandemEnv } from './tandem-env.schema';

export interface ProcessInfrastructure extends Infrastructure {
  /** Where each part runs, for the terminal. */
  where: { database: string; broker: string; coordination: string };
}

/**
 * Tandem's database, broker and coordination, shared by every service of the process: each is the
 * server its variable names, or else embedded (PGlite under the data directory, a durable broker in
 * that same database, coordination in memory). Closed through `shutdown` after the services.
 */
export async function openInfrastructure(env: TandemEnv, logger: Logger, shutdown: ShutdownStack): Promise<ProcessInfrastructure> {
  const log = contextLogger(logger);
  let db: SqlClient;
  let database: string;
  if (env.DATABASE_URL) {
    const pool = new Pool({ connectionString: env.DATABASE_URL, max: 8 });
    pool.on('error', (error) => logger.warn({ error: error.message }, 'database connection dropped'));
    db = createPgSqlClient(pool, { preparedStatements: env.DATABASE_PREPARED_STATEMENTS });
    shutdown.push('database', () => pool.end());
    database = redactedUrl(env.DATABASE_URL);
  } else {
    const dataDir = join(env.TANDEM_DATA_DIR, 'tandem-db');
    const pglite = await createPgliteSqlClient({ dataDir });
    db = pglite;
    shutdown.push('database', () => pglite.close());
    database = `embedded PostgreSQL (PGlite) in ${dataDir}`;
  }
  const applied = await migrate(db);
  if (applied.length > 0) logger.info({ applied }, 'database migrated');

  const broker = env.KAFKA_BROKERS ? new KafkaBroker({ clientId: 'tandem', brokers: env.KAFKA_BROKERS, logger: log }) : new EmbeddedBroker({ db, logger: log });
  shutdown.push('broker', () => broker.close());
  const coordination = env.REDIS_URL ? await createRedisCoordination(env.REDIS_URL) : createMemoryCoordination();
  shutdown.push('coordination', () => coordination.close());
  return {
    db,
    broker,
    coordination,
    where: {
      database,
      broker: env.KAFKA_BROKERS ? `Kafka at ${env.KAFKA_BROKERS.join(',')}` : "embedded broker (a partitioned log in Tandem's database)",
      coordination: env.REDIS_URL ? `Redis at ${redactedUrl(env.REDIS_URL)}` : 'in process (leases, rate limits, dedupe in memory)',
    },
  };
}

/** A URL as printed: without its password. */
export function redactedUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}
