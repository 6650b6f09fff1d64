import { z } from 'zod';
import { HubSpotSimulatorError, HubSpotSimulatorErrorCode } from './hubspot-simulator.error';

export interface RollingLimit {
  limit: number;
  windowMs: number;
}

export interface HubSpotSimulatorWebhookOptions {
  /** Where deliveries go; can be set later with `setWebhookTarget`. No target: no events are produced. */
  targetUrl?: string | null;
  /** Events are gathered this long into one delivery (default 50). */
  batchWindowMs?: number;
  /** At most this many events per delivery (default 99; HubSpot sends fewer than 100). */
  maxBatchSize?: number;
  /** 0..1 chance an event is delivered twice (default 0). */
  duplicateRate?: number;
  /** Shuffle events within and across deliveries (default false). */
  reorder?: boolean;
  /**
   * Waits between attempts of a failed delivery; attempts = 1 + its length. The default doubles from
   * 100 ms over ten retries (about 100 s in all): HubSpot's own ten retries over a day, compressed,
   * so a receiver that restarts gets what it missed, as it would from HubSpot.
   */
  retryDelaysMs?: number[];
  /** A receiver slower than this fails the attempt (default 5000, as HubSpot). */
  responseTimeoutMs?: number;
}

/** How a batch write answers inputs with invalid values (unknown property, bad email, duplicate email). */
export type BatchValidationMode =
  /** 207 with the valid inputs applied and an error per invalid input (400/409 when every input fails). */
  | 'partial'
  /** The whole batch is rejected with 400 (409 for duplicate emails) and nothing is applied. */
  | 'reject-batch';

export interface HubSpotSimulatorOptions {
  /** Default 0 (any free port). */
  port?: number;
  /**
   * The address to listen on (default '127.0.0.1'); '0.0.0.0' when other machines or containers call it.
   * `url` names 127.0.0.1 for a wildcard address.
   */
  host?: string;
  /** The Bearer token every API call must carry (default 'sim-token'). */
  accessToken?: string;
  /** Signs webhook deliveries (default 'sim-secret'). */
  clientSecret?: string;
  /** The account id in webhook bodies (default 33). */
  portalId?: number;
  /** The app id in webhook bodies (default 1160452). */
  appId?: number;
  /** TEN_SECONDLY_ROLLING policy (default 100 per 10_000 ms). */
  rateLimit?: RollingLimit;
  /** SECONDLY policy, off by default. */
  secondlyLimit?: number | null;
  /** DAILY policy (default 250_000 per UTC day). */
  dailyLimit?: number;
  /** Search's own limit (default 5 per 1_000 ms). */
  searchRateLimit?: RollingLimit;
  /** How long a write takes to become searchable (default 0). */
  searchIndexDelayMs?: number;
  /** Properties accepted in writes besides the standard contact properties. */
  extraProperties?: string[];
  /** Default 'partial'. */
  batchValidation?: BatchValidationMode;
  /** Epoch ms for record timestamps and event times (default Date.now); limits and delays use real time. */
  clock?: () => number;
  webhooks?: HubSpotSimulatorWebhookOptions;
  /** Makes duplicate, reorder and fault choices reproducible. */
  seed?: number;
}

const nonNegativeInt = z.number().int().nonnegative();
const positiveInt = z.number().int().positive();
const rate = z.number().min(0).max(1);
const rollingLimit = z.object({ limit: positiveInt, windowMs: positiveInt });

const OptionsSchema = z.object({
  port: z.number().int().min(0).max(65_535).default(0),
  host: z.union([z.ipv4(), z.ipv6(), z.literal('localhost')]).default('127.0.0.1'),
  accessToken: z.string().min(1).default('sim-token'),
  clientSecret: z.string().min(1).default('sim-secret'),
  portalId: positiveInt.default(33),
  appId: positiveInt.default(1_160_452),
  rateLimit: rollingLimit.default({ limit: 100, windowMs: 10_000 }),
  secondlyLimit: positiveInt.nullable().default(null),
  dailyLimit: positiveInt.default(250_000),
  searchRateLimit: rollingLimit.default({ limit: 5, windowMs: 1_000 }),
  searchIndexDelayMs: nonNegativeInt.default(0),
  extraProperties: z.array(z.string().regex(/^[a-z][a-z0-9_]*$/, 'property names are lowercase identifiers')).default([]),
  batchValidation: z.enum(['partial', 'reject-batch']).default('partial'),
  clock: z.custom<() => number>((value) => typeof value === 'function', 'clock must be a function').default(() => Date.now),
  webhooks: z
    .object({
      targetUrl: z.url({ protocol: /^https?$/ }).nullable().default(null),
      batchWindowMs: nonNegativeInt.default(50),
      maxBatchSize: z.number().int().min(1).max(99).default(99),
      duplicateRate: rate.default(0),
      reorder: z.boolean().default(false),
      retryDelaysMs: z.array(nonNegativeInt).default([100, 200, 400, 800, 1600, 3200, 6400, 12_800, 25_600, 51_200]),
      responseTimeoutMs: positiveInt.default(5_000),
    })
    .prefault({}),
  seed: z.number().int().optional(),
});

export type ResolvedSimulatorOptions = Omit<z.infer<typeof OptionsSchema>, 'seed'> & { seed: number };

export type ResolvedWebhookOptions = ResolvedSimulatorOptions['webhooks'];

export function resolveSimulatorOptions(options: HubSpotSimulatorOptions): ResolvedSimulatorOptions {
  const parsed = OptionsSchema.safeParse(options);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(options)'}: ${issue.message}`);
    throw new HubSpotSimulatorError(
      HubSpotSimulatorErrorCode.InvalidOptions,
      `invalid HubSpot simulator options: ${problems.join('; ')}`,
      { cause: parsed.error },
    );
  }
  const { seed, ...rest } = parsed.data;
  // Without a seed every run differs, like the real service.
  return { ...rest, seed: seed ?? Math.floor(Math.random() * 2 ** 31) };
}
