import { createHash } from 'node:crypto';

/** Distinct statements one namer names at most; Tandem's own are a few dozen, any beyond run unprepared. */
const MAX_PREPARED_STATEMENTS = 500;

/**
 * A name per statement text, the same for the namer's whole life, for the `name` of a pg query: each
 * connection then prepares the statement once and afterwards only binds and executes it. Undefined
 * (run unprepared) once the namer holds its maximum of distinct texts.
 */
export function preparedStatementNamer(): (text: string) => string | undefined {
  const names = new Map<string, string>();
  return (text) => {
    const known = names.get(text);
    if (known !== undefined || names.size >= MAX_PREPARED_STATEMENTS) return known;
    const name = `tandem_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
    names.set(text, name);
    return name;
  };
}
