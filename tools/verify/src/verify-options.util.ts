import { z } from 'zod';

export interface VerifyProfile {
  name: 'default' | 'long';
  /** Contacts created in each system before the services start (read by snapshot and backfill). */
  seedContactsPerSystem: number;
  /** Workload operations to perform at least. */
  operations: number;
  /** Concurrent workload loops. */
  workers: number;
  /** Pause between one worker's operations. */
  opGapMs: [number, number];
  /** Rounds of the fault schedule (every kind of fault once per round). */
  faultRounds: number;
  settleTimeoutMs: number;
}

const PROFILES: Record<VerifyProfile['name'], VerifyProfile> = {
  default: { name: 'default', seedContactsPerSystem: 40, operations: 1_200, workers: 4, opGapMs: [80, 320], faultRounds: 1, settleTimeoutMs: 120_000 },
  long: { name: 'long', seedContactsPerSystem: 500, operations: 100_000, workers: 6, opGapMs: [10, 60], faultRounds: 25, settleTimeoutMs: 600_000 },
};

export interface VerifyOptions {
  seed: number;
  profile: VerifyProfile;
  /** Only for development runs while others share the broker; the default restarts it. */
  skipKafkaRestart: boolean;
}

const ArgsSchema = z.object({
  seed: z.coerce.number().int().min(0).max(2 ** 31 - 1).optional(),
  profile: z.enum(['default', 'long']).default('default'),
  skipKafkaRestart: z.boolean().default(false),
});

/** `--seed S --profile default|long`; VERIFY_SEED and VERIFY_SKIP_KAFKA_RESTART=1 from the environment. */
export function parseVerifyOptions(argv: readonly string[], env: NodeJS.ProcessEnv): VerifyOptions {
  const raw: Record<string, unknown> = {};
  for (let index = 0; index < argv.length; index += 1) {
    const arg = argv[index]!;
    const [name, inline] = arg.split('=', 2);
    const value = inline ?? argv[index + 1];
    if (name === '--seed' || name === '--profile') {
      if (value === undefined) throw new Error(`${name} needs a value`);
      raw[name.slice(2)] = value;
      if (inline === undefined) index += 1;
    } else {
      throw new Error(`unknown argument ${arg} (usage: --seed S --profile default|long)`);
    }
  }
  if (raw['seed'] === undefined && env['VERIFY_SEED']) raw['seed'] = env['VERIFY_SEED'];
  raw['skipKafkaRestart'] = env['VERIFY_SKIP_KAFKA_RESTART'] === '1';
  const parsed = ArgsSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`invalid options: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
  return {
    seed: parsed.data.seed ?? Math.floor(Math.random() * 2 ** 31),
    profile: PROFILES[parsed.data.profile],
    skipKafkaRestart: parsed.data.skipKafkaRestart,
  };
}
