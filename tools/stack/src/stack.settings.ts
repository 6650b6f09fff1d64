import { env, parseEnv } from '@tandem/config';
import { isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';

export const ROOT = resolve(__dirname, '../../..');

/** Where `npm run stack` puts what it runs; defaults suit one stack per checkout. */
export const StackEnvSchema = z.object({
  /** Logs, pid files and the applied configuration (relative to the repository unless absolute). */
  STACK_DIR: z.string().min(1).default('.tandem/stack'),
  /** The simulator takes this port and the next; the services the ten after. */
  STACK_PORT_BASE: env.int(1024, 65_000).default(18_080),
  STACK_DATABASE: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lowercase PostgreSQL identifier').default('tandem_stack'),
  STACK_CRM_DATABASE: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lowercase PostgreSQL identifier').default('tandem_stack_crm'),
  STACK_TOPIC_PREFIX: z.string().regex(/^[a-zA-Z0-9._-]{1,100}$/, 'must be letters, digits, ".", "_" or "-"').default('stack'),
  STACK_TOPIC_PARTITIONS: env.int(1, 1000).default(4),
  /** Overrides the sample configuration's tenant, so two stacks on one Redis never share a lease. */
  STACK_TENANT_ID: z.string().min(1).optional(),
  /** The machine's servers, as scripts/services.sh and scripts/kafka/start.sh run them. */
  STACK_POSTGRES_URL: env.url(['postgres', 'postgresql']).default('postgres://postgres@127.0.0.1:5432/postgres'),
  STACK_REDIS_URL: env.url(['redis', 'rediss']).default('redis://127.0.0.1:6379'),
  STACK_KAFKA_BROKERS: env.brokers().default(['127.0.0.1:9092']),
});
export type StackEnv = z.infer<typeof StackEnvSchema>;

export interface StackSettings extends StackEnv {
  dir: string;
}

export function parseStackSettings(environment: Record<string, string | undefined> = process.env): StackSettings {
  const config = parseEnv('stack', StackEnvSchema, environment);
  return { ...config, dir: isAbsolute(config.STACK_DIR) ? config.STACK_DIR : join(ROOT, config.STACK_DIR) };
}

/** A database on the stack's PostgreSQL server. */
export function databaseUrl(settings: StackSettings, database: string): string {
  const url = new URL(settings.STACK_POSTGRES_URL);
  url.pathname = `/${database}`;
  return url.toString();
}
