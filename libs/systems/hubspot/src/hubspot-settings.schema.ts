import type { RateLimitPolicy } from '@tandem/coordination';
import { z } from 'zod';

/** HubSpot's API tiers, which set the account's request limits. */
export const HubSpotTierSchema = z.enum(['starter', 'professional', 'enterprise', 'api_add_on']);
export type HubSpotTier = z.infer<typeof HubSpotTierSchema>;

const TEN_SECONDS_MS = 10_000;

/** Requests per 10 s and per day for each tier (private apps). */
const TIER_LIMITS: Readonly<Record<HubSpotTier, { perTenSeconds: number; daily: number }>> = {
  starter: { perTenSeconds: 100, daily: 250_000 },
  professional: { perTenSeconds: 190, daily: 650_000 },
  enterprise: { perTenSeconds: 190, daily: 650_000 },
  api_add_on: { perTenSeconds: 250, daily: 1_000_000 },
};

const RateLimitPolicySchema = z.object({
  limit: z.number().int().positive(),
  windowMs: z.number().int().positive(),
});

const positiveMs = () => z.number().int().positive();

/** The `settings` of a linked HubSpot system. Secrets (access token, client secret) are passed separately. */
export const HubSpotSettingsSchema = z.strictObject({
  baseUrl: z.url({ protocol: /^https?$/ }).default('https://api.hubapi.com'),
  /** The portal (account) id: the key its rate limits are shared under. */
  accountId: z.union([z.string().regex(/^\d+$/, 'must be a numeric portal id'), z.number().int().positive()]).transform(String),
  tier: HubSpotTierSchema.default('starter'),
  /** Overrides the tier's requests-per-window limit. */
  rateLimit: RateLimitPolicySchema.optional(),
  searchRateLimit: RateLimitPolicySchema.default({ limit: 5, windowMs: 1_000 }),
  requestTimeoutMs: positiveMs().default(10_000),
  pollIntervalMs: positiveMs().default(30_000),
  /**
   * How often archived contacts are listed to find deletions whose webhooks never came. A listing,
   * unlike the search poll, so on its own, slower cadence.
   */
  archivedSweepIntervalMs: positiveMs().default(300_000),
  /** How far behind now the poll window re-reads, since writes take seconds to become searchable. */
  searchLagMs: z.number().int().nonnegative().default(10_000),
});
export type HubSpotSettings = z.infer<typeof HubSpotSettingsSchema>;
export type HubSpotSettingsInput = z.input<typeof HubSpotSettingsSchema>;

/** The limits a client keeps to for one account. */
export interface HubSpotLimits {
  /** Every API call, search included. */
  requests: RateLimitPolicy;
  /** Search calls, in addition to `requests`. */
  search: RateLimitPolicy;
  /** Requests per day; HubSpot enforces it, the client only reports it. */
  daily: number;
}

export function hubSpotLimits(settings: Pick<HubSpotSettings, 'tier' | 'rateLimit' | 'searchRateLimit'>): HubSpotLimits {
  const tier = TIER_LIMITS[settings.tier];
  return {
    requests: settings.rateLimit ?? { limit: tier.perTenSeconds, windowMs: TEN_SECONDS_MS },
    search: settings.searchRateLimit,
    daily: tier.daily,
  };
}
