import { env } from '@tandem/config';
import { SystemIdSchema } from '@tandem/contracts';
import { PlatformEnvSchema } from '@tandem/service-kit';
import type { z } from 'zod';

export const ConnectorEnvSchema = PlatformEnvSchema.extend({
  /** The linked system this instance reads; its kind and settings come from the sync configuration. */
  SYSTEM_ID: SystemIdSchema,
  /** Connection to the source system's database (for `postgres` systems). */
  SYSTEM_DATABASE_URL: env.url(['postgres', 'postgresql']),
  /** Redis for the lease that lets one instance read a source at a time. */
  REDIS_URL: env.url(['redis', 'rediss']),
  BATCH_SIZE: env.int(1, 50_000).default(2_000),
  /** Longest wait for a change notification before polling anyway. */
  POLL_INTERVAL_MS: env.int(10, 60_000).default(1_000),
  SNAPSHOT_CHUNK_SIZE: env.int(10, 100_000).default(5_000),
  LEASE_TTL_MS: env.int(1_000, 600_000).default(15_000),
});
export type ConnectorEnv = z.infer<typeof ConnectorEnvSchema>;
