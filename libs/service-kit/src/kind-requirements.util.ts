/** Per system kind, the variables a service needs for it, each with why. */
export type KindRequirements<E> = Readonly<Record<string, ReadonlyArray<readonly [keyof E & string, string]>>>;

/**
 * What a system of `kind` needs that is not set, one line per variable naming it and why: checked
 * once the sync configuration says the kind, since the environment alone cannot.
 */
export function missingForKind<E extends object>(config: E, kind: string, requirements: KindRequirements<E>): string[] {
  return (requirements[kind] ?? [])
    .filter(([name]) => config[name] === undefined)
    .map(([name, why]) => `${name}: required for ${kind} systems (${why})`);
}
