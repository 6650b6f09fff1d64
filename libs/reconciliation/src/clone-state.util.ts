/**
 * A deep copy of JSON data (plain objects, arrays, scalars), which is all an entity's state holds.
 * Several times cheaper than `structuredClone`, which the reconciler paid for every message.
 */
export function cloneState<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    const copy: unknown[] = new Array(value.length);
    for (let i = 0; i < value.length; i += 1) copy[i] = cloneState(value[i]);
    return copy as T;
  }
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) copy[key] = cloneState((value as Record<string, unknown>)[key]);
  return copy as T;
}
