import { ConfigError, env, parseEnv } from '@tandem/config';
import { z } from 'zod';

export const SIMULATOR_SERVICE = 'hubspot-simulator';

/** The standalone simulator's environment: one simulated HubSpot account, as compose, the stack and demos run it. */
export const SimulatorEnvSchema = z.object({
  /** Where both listeners bind; 0.0.0.0 so other containers reach it, 127.0.0.1 to keep it on this machine. */
  HOST: z.union([z.ipv4(), z.ipv6()], { message: 'must be an IP address, e.g. 0.0.0.0 or 127.0.0.1' }).default('0.0.0.0'),
  /** The API (under /crm/v3/), what a HubSpot system's `baseUrl` points at. */
  PORT: env.port().default(8080),
  /** GET /health/live and /health/ready, apart from the API so probes are never counted or rate limited. */
  HEALTH_PORT: env.port().default(8081),
  /** The private app token every API call must carry: the connector's and applier's SYSTEM_ACCESS_TOKEN. */
  ACCESS_TOKEN: z.string().min(1, 'must not be empty'),
  /** Signs webhook deliveries: the connector's SYSTEM_WEBHOOK_SECRET. */
  CLIENT_SECRET: z.string().min(1, 'must not be empty'),
  /** The account id in webhook bodies: the HubSpot system's `accountId`. */
  PORTAL_ID: env.int(1, 2_147_483_647).default(33),
  /** Where webhook deliveries go (the HubSpot connector's /webhooks/hubspot); none: no webhooks. */
  WEBHOOK_URL: env.url(['http', 'https']).optional(),
  /** The account's TEN_SECONDLY_ROLLING policy: requests per window. */
  RATE_LIMIT: env.int(1, 1_000_000).default(100),
  RATE_LIMIT_WINDOW_MS: env.int(100, 3_600_000).default(10_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
});
export type SimulatorEnv = z.infer<typeof SimulatorEnvSchema>;

/** Parses the environment, naming every bad variable at once. */
export function parseSimulatorEnv(environment: Record<string, string | undefined> = process.env): SimulatorEnv {
  const config = parseEnv(SIMULATOR_SERVICE, SimulatorEnvSchema, environment);
  if (config.PORT === config.HEALTH_PORT) {
    throw new ConfigError(SIMULATOR_SERVICE, [`HEALTH_PORT: must differ from PORT (both ${config.PORT})`]);
  }
  return config;
}
