import { env } from '@tandem/config';
import { SystemIdSchema } from '@tandem/contracts';
import { PlatformEnvSchema, type KindRequirements } from '@tandem/service-kit';
import { z } from 'zod';

/** Kind-specific variables are optional here and checked once the sync configuration names the kind. */
export const ApplierEnvSchema = PlatformEnvSchema.extend({
  /** The linked system this instance writes to; its kind and settings come from the sync configuration. */
  SYSTEM_ID: SystemIdSchema,
  /** postgres systems: connection to the target database. */
  SYSTEM_DATABASE_URL: env.url(['postgres', 'postgresql']).optional(),
  /** postgres systems: off behind a pooler that does not keep a session's prepared statements. */
  SYSTEM_DATABASE_PREPARED_STATEMENTS: env.flag().default(true),
  /** hubspot systems: the private app's access token. */
  SYSTEM_ACCESS_TOKEN: z.string().min(1).optional(),
  APPLIER_CONCURRENCY: env.int(1, 64).default(4),
  /** How long the breaker stays open before it probes the target. */
  BREAKER_RESET_MS: env.int(100, 600_000).default(5_000),
  /** Per batch; a slower write counts as a target failure. */
  APPLY_TIMEOUT_MS: env.int(100, 600_000).default(30_000),
});
export type ApplierEnv = z.infer<typeof ApplierEnvSchema>;

/** The variables each kind of system needs beyond the common ones. */
export const APPLIER_KIND_REQUIREMENTS: KindRequirements<ApplierEnv> = {
  postgres: [['SYSTEM_DATABASE_URL', 'the target database to write']],
  hubspot: [
    ['SYSTEM_ACCESS_TOKEN', "the HubSpot private app's access token"],
    ['REDIS_URL', "the account's rate limit, shared by every replica"],
  ],
};
