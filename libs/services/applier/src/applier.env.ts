import { env } from '@tandem/config';
import { SystemIdSchema } from '@tandem/contracts';
import { PlatformEnvSchema } from '@tandem/service-kit';
import type { z } from 'zod';

export const ApplierEnvSchema = PlatformEnvSchema.extend({
  /** The linked system this instance writes to; its kind and settings come from the sync configuration. */
  SYSTEM_ID: SystemIdSchema,
  /** Connection to the target system's database (for `postgres` systems). */
  SYSTEM_DATABASE_URL: env.url(['postgres', 'postgresql']),
  APPLIER_CONCURRENCY: env.int(1, 64).default(4),
  /** How long the breaker stays open before it probes the target. */
  BREAKER_RESET_MS: env.int(100, 600_000).default(5_000),
  /** Per batch; a slower write counts as a target failure. */
  APPLY_TIMEOUT_MS: env.int(100, 600_000).default(30_000),
});
export type ApplierEnv = z.infer<typeof ApplierEnvSchema>;
