import { z } from 'zod';

/** Raised at start-up when configuration is invalid; its message names every bad variable. */
export class ConfigError extends Error {
  constructor(
    readonly service: string,
    readonly problems: string[],
  ) {
    super(`${service}: invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Parses the environment once, at start, against a zod object whose keys are variable names.
 * Fails with one error listing every missing or invalid variable, and what is allowed.
 */
export function parseEnv<S extends z.ZodObject>(
  service: string,
  schema: S,
  env: Record<string, string | undefined> = process.env,
): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const variable = issue.path.join('.') || '(environment)';
    const value = env[variable];
    const shown = value === undefined ? 'not set' : `got ${JSON.stringify(value)}`;
    return `${variable}: ${issue.message} (${shown})`;
  });
  throw new ConfigError(service, problems);
}

/** Common variable shapes, so every service describes them the same way. */
export const env = {
  url: (protocols: string[]) =>
    z
      .string()
      .refine((value) => {
        try {
          return protocols.includes(new URL(value).protocol.replace(/:$/, ''));
        } catch {
          return false;
        }
      }, `must be a URL with protocol ${protocols.join(' or ')}`),
  brokers: () =>
    z
      .string()
      .regex(/^[^,\s:]+:\d+(,[^,\s:]+:\d+)*$/, 'must be a comma-separated list of host:port')
      .transform((value) => value.split(',')),
  int: (min: number, max: number) =>
    z
      .string()
      .regex(/^-?\d+$/, `must be a whole number from ${min} to ${max}`)
      .transform(Number)
      .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`)),
  port: () => env.int(1, 65535),
  /** A number of days from 1 to `max`, or `forever` (null): how long something is kept. */
  days: (max: number) =>
    z.union([z.literal('forever').transform(() => null), env.int(1, max)], { error: `must be a number of days from 1 to ${max}, or "forever"` }),
  flag: () =>
    z
      .enum(['true', 'false', '1', '0'], { message: 'must be true or false' })
      .transform((value) => value === 'true' || value === '1'),
};
