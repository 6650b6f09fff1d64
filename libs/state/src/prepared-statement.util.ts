import { createHash } from 'node:crypto';

/** Distinct statements one namer names at most; Tandem's own are a few dozen, any beyond run unprepared. */
const MAX_PREPARED_STATEMENTS = 500;

/** The `name` a pg query gets for a statement text; undefined runs it unprepared. */
export type StatementNamer = (text: string) => string | undefined;

/**
 * A name per statement text, the same for the namer's whole life: each connection then prepares the
 * statement once and afterwards only binds and executes it. Undefined (run unprepared) for every
 * text when not `enabled`, and for new texts once the namer holds its maximum.
 */
export function preparedStatementNamer(enabled: boolean): StatementNamer {
  if (!enabled) return () => undefined;
  const names = new Map<string, string>();
  return (text) => {
    const known = names.get(text);
    if (known !== undefined || names.size >= MAX_PREPARED_STATEMENTS) return known;
    const name = `tandem_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
    names.set(text, name);
    return name;
  };
}
