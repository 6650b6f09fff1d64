import { env } from '@tandem/config';
import { PlatformEnvSchema } from '@tandem/service-kit';
import type { z } from 'zod';

export const ReconcilerEnvSchema = PlatformEnvSchema.extend({
  /** Partitions one instance works at the same time. */
  RECONCILER_CONCURRENCY: env.int(1, 64).default(4),
  /** How often configuration changes are picked up. */
  SYNC_CONFIG_REFRESH_MS: env.int(1_000, 3_600_000).default(30_000),
  /** Days the sync log keeps its entries; `forever` keeps them all (null). */
  SYNC_LOG_RETENTION_DAYS: env.days(36_500).default(30),
});
export type ReconcilerEnv = z.infer<typeof ReconcilerEnvSchema>;
