/**
 * The form a match key is stored and compared in, so " Ada@Example.com" and "ada@example.com" find
 * the same entity: trimmed, lower-cased, inner whitespace collapsed. Empty or non-text values give
 * null (no key: such a record is never matched, only linked).
 */
export function normalizeMatchKey(value: unknown): string | null {
  if (typeof value === 'number' && !Number.isFinite(value)) return null;
  if (typeof value !== 'string' && typeof value !== 'number') return null;
  const normalized = String(value).trim().replace(/\s+/g, ' ').toLowerCase();
  return normalized === '' ? null : normalized;
}
