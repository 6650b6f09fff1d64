/**
 * Drivers differ in how they hand back timestamps (Date or text) and 64-bit integers (text), so rows
 * are converted here rather than trusted to one driver's type parsers.
 */
export function toIsoTime(value: Date | string): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

export function toSafeNumber(value: string | number | bigint): number {
  const number = Number(value);
  if (!Number.isSafeInteger(number)) throw new RangeError(`${String(value)} is not a safe integer`);
  return number;
}
