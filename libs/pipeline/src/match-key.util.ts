import type { FieldValues } from '@tandem/contracts';
import { normalizeMatchKey } from '@tandem/state';

/** A record's match key from its canonical fields, as stored in the key registry; null when a part is missing. */
export function matchKeyOf(matchOn: readonly string[], record: FieldValues | null): string | null {
  if (!record) return null;
  const parts = matchOn.map((field) => normalizeMatchKey(record[field]));
  return parts.every((part) => part !== null) ? parts.join('|') : null;
}
