import { env } from '@tandem/config';
import { SystemIdSchema } from '@tandem/contracts';
import { PlatformEnvSchema, type KindRequirements } from '@tandem/service-kit';
import { z } from 'zod';

/**
 * What a connector needs depends on the kind of system it reads, which the sync configuration
 * says; the kind-specific variables are optional here and checked once the kind is known.
 */
export const ConnectorEnvSchema = PlatformEnvSchema.extend({
  /** The linked system this instance reads; its kind and settings come from the sync configuration. */
  SYSTEM_ID: SystemIdSchema,
  /** postgres systems: connection to the source database. */
  SYSTEM_DATABASE_URL: env.url(['postgres', 'postgresql']).optional(),
  /** hubspot systems: the private app's access token. */
  SYSTEM_ACCESS_TOKEN: z.string().min(1).optional(),
  /** hubspot systems: the app's client secret, which signs webhook deliveries. */
  SYSTEM_WEBHOOK_SECRET: z.string().min(1).optional(),
  /**
   * hubspot systems: the webhook URL as registered with HubSpot, when a proxy in front changes the
   * host or path this service sees (the signature covers the URL HubSpot called).
   */
  WEBHOOK_PUBLIC_URL: env.url(['http', 'https']).optional(),
  /** One instance reads a source at a time, under a lease in Redis. */
  REDIS_URL: env.url(['redis', 'rediss']),
  BATCH_SIZE: env.int(1, 50_000).default(2_000),
  /** Longest wait for a change notification before polling anyway. */
  POLL_INTERVAL_MS: env.int(10, 60_000).default(1_000),
  SNAPSHOT_CHUNK_SIZE: env.int(10, 100_000).default(5_000),
  LEASE_TTL_MS: env.int(1_000, 600_000).default(15_000),
});
export type ConnectorEnv = z.infer<typeof ConnectorEnvSchema>;

/** The variables each kind of system needs beyond the common ones. */
export const CONNECTOR_KIND_REQUIREMENTS: KindRequirements<ConnectorEnv> = {
  postgres: [['SYSTEM_DATABASE_URL', 'the source database to read']],
  hubspot: [
    ['SYSTEM_ACCESS_TOKEN', "the HubSpot private app's access token"],
    ['SYSTEM_WEBHOOK_SECRET', "the HubSpot app's client secret, to check webhook signatures"],
  ],
};
