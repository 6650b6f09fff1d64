import { ApplierEnvSchema, type ApplierEnv } from '@tandem/applier-service';
import { ConfigError, env, parseEnv } from '@tandem/config';
import { ConnectorEnvSchema, type ConnectorEnv } from '@tandem/connector-service';
import { ReconcilerEnvSchema, type ReconcilerEnv } from '@tandem/reconciler-service';
import { PlatformEnvSchema } from '@tandem/service-kit';
import { resolve } from 'node:path';
import { z } from 'zod';

const REPOSITORY_ROOT = resolve(__dirname, '../../..');
/** 0 lets the system pick a free port. */
const anyPort = () => env.int(0, 65_535);

/**
 * `npm start`: every service in one process. Each of KAFKA_BROKERS, DATABASE_URL and REDIS_URL
 * switches its part from the embedded default to the server it names; the other variables of the
 * services (TOPIC_*, BATCH_SIZE, ...) apply to every service in the process.
 */
export const TandemEnvSchema = PlatformEnvSchema.omit({ KAFKA_BROKERS: true, DATABASE_URL: true, HTTP_PORT: true }).extend({
  KAFKA_BROKERS: env.brokers().optional().describe('Kafka instead of the embedded broker'),
  DATABASE_URL: env.url(['postgres', 'postgresql']).optional().describe("a PostgreSQL server for Tandem's own database instead of the embedded one"),
  /** Embedded databases, the simulated HubSpot account's contacts and the logs. */
  TANDEM_DATA_DIR: z.string().min(1).default(resolve(REPOSITORY_ROOT, '.tandem', 'embedded')),
  /** The live demo's edits; the demo systems and every service run either way. */
  DEMO_SCENARIO: env.flag().default(true),
  /** The services' HTTP ports (health, webhooks) are this one and the four after it; 0 for free ports. */
  HTTP_PORT: env.int(0, 65_531).default(8080),
  DEMO_CRM_PORT: anyPort().default(5433),
  DEMO_HUBSPOT_PORT: anyPort().default(8090),
});
export type TandemEnv = z.infer<typeof TandemEnvSchema>;

/** Set per service by this process, never by the environment. */
const PER_SERVICE = {
  KAFKA_BROKERS: true,
  DATABASE_URL: true,
  REDIS_URL: true,
  HTTP_PORT: true,
} as const;
const PER_APPLIER = { ...PER_SERVICE, SYSTEM_ID: true, SYSTEM_DATABASE_URL: true, SYSTEM_ACCESS_TOKEN: true } as const;
const PER_CONNECTOR = { ...PER_APPLIER, SYSTEM_WEBHOOK_SECRET: true, WEBHOOK_PUBLIC_URL: true } as const;

const ReconcilerTuningSchema = ReconcilerEnvSchema.omit(PER_SERVICE);
const ConnectorTuningSchema = ConnectorEnvSchema.omit(PER_CONNECTOR);
const ApplierTuningSchema = ApplierEnvSchema.omit({ ...PER_APPLIER, SYSTEM_DATABASE_PREPARED_STATEMENTS: true });

export interface TandemConfig {
  env: TandemEnv;
  reconciler: z.infer<typeof ReconcilerTuningSchema>;
  connector: z.infer<typeof ConnectorTuningSchema>;
  applier: z.infer<typeof ApplierTuningSchema>;
}

/** Every variable checked at once; one error names each bad one and what is allowed. */
export function parseTandemConfig(source: Record<string, string | undefined>): TandemConfig {
  const problems: string[] = [];
  const parse = <S extends z.ZodObject>(service: string, schema: S): z.infer<S> | undefined => {
    try {
      return parseEnv(service, schema, source);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems.filter((problem) => !problems.includes(problem)));
      return undefined;
    }
  };
  const config = {
    env: parse('tandem', TandemEnvSchema),
    reconciler: parse('reconciler', ReconcilerTuningSchema),
    connector: parse('connector', ConnectorTuningSchema),
    applier: parse('applier', ApplierTuningSchema),
  };
  if (!config.env || !config.reconciler || !config.connector || !config.applier) throw new ConfigError('tandem', problems);
  return { env: config.env, reconciler: config.reconciler, connector: config.connector, applier: config.applier };
}

/**
 * The connection variables as a service sees them here. Services given the process's shared
 * infrastructure never connect with them; a part that runs in this process is named `in-process`.
 */
function connection({ env }: TandemConfig) {
  return { KAFKA_BROKERS: env.KAFKA_BROKERS ?? [IN_PROCESS], DATABASE_URL: env.DATABASE_URL ?? IN_PROCESS, REDIS_URL: env.REDIS_URL ?? IN_PROCESS };
}
const IN_PROCESS = 'in-process';

export function reconcilerConfig(config: TandemConfig, port: number): ReconcilerEnv {
  return { ...config.reconciler, ...connection(config), HTTP_PORT: port };
}

export interface SystemAccess {
  SYSTEM_ID: string;
  SYSTEM_DATABASE_URL?: string;
  SYSTEM_ACCESS_TOKEN?: string;
  SYSTEM_WEBHOOK_SECRET?: string;
}

export function connectorConfig(config: TandemConfig, system: SystemAccess, port: number): ConnectorEnv {
  return { ...config.connector, ...connection(config), ...system, HTTP_PORT: port };
}

export function applierConfig(config: TandemConfig, { SYSTEM_WEBHOOK_SECRET: _readByConnectors, ...system }: SystemAccess, port: number): ApplierEnv {
  // The process's databases are PGlite, one session behind every connection: a statement prepared
  // by name on one connection would collide with the same name prepared on another.
  return { ...config.applier, ...connection(config), ...system, SYSTEM_DATABASE_PREPARED_STATEMENTS: false, HTTP_PORT: port };
}
