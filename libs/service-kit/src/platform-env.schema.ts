import { env } from '@tandem/config';
import { z } from 'zod';

/** Variables every service reads. Each app extends this with its own. */
export const PlatformEnvSchema = z.object({
  KAFKA_BROKERS: env.brokers().describe('Kafka bootstrap servers, host:port[,host:port]'),
  DATABASE_URL: env.url(['postgres', 'postgresql']).describe("Tandem's own PostgreSQL database"),
  /** Off behind a pooler that shares sessions' prepared statements between clients (see `PgSqlClientOptions`). */
  DATABASE_PREPARED_STATEMENTS: env.flag().default(true),
  /** Shared leases, rate limits and dedupe windows; services that need them require it. */
  REDIS_URL: env.url(['redis', 'rediss']).optional(),
  TOPIC_PREFIX: z.string().regex(/^[a-zA-Z0-9._-]{1,100}$/, 'must be letters, digits, ".", "_" or "-"').default('tandem'),
  TOPIC_PARTITIONS: env.int(1, 1000).default(12),
  /** Retention of topics created at start, except the compacted resolved-changes topic (7 days). */
  TOPIC_RETENTION_MS: env.int(60_000, 31_536_000_000).default(604_800_000),
  HTTP_PORT: env.port().default(8080),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
});
export type PlatformEnv = z.infer<typeof PlatformEnvSchema>;

/** The topic layout every service creates at start when missing, from its configuration. */
export function topicsConfig(config: PlatformEnv) {
  return { prefix: config.TOPIC_PREFIX, partitions: config.TOPIC_PARTITIONS, retentionMs: config.TOPIC_RETENTION_MS };
}
