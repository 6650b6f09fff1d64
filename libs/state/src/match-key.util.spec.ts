import { normalizeMatchKey } from './match-key.util';

describe('normalizeMatchKey', () => {
  it('trims, lower-cases and collapses inner whitespace', () => {
    expect(normalizeMatchKey('  Ada@Example.COM ')).toBe('ada@example.com');
    expect(normalizeMatchKey('Ada \t  Lovelace\n')).toBe('ada lovelace');
  });

  it('gives null for empty, blank and missing values', () => {
    expect(normalizeMatchKey('')).toBeNull();
    expect(normalizeMatchKey(' \n\t ')).toBeNull();
    expect(normalizeMatchKey(null)).toBeNull();
    expect(normalizeMatchKey(undefined)).toBeNull();
  });

  it('keeps numeric ids as text and ignores values that are not scalars', () => {
    expect(normalizeMatchKey(4711)).toBe('4711');
    expect(normalizeMatchKey(Number.NaN)).toBeNull();
    expect(normalizeMatchKey(true)).toBeNull();
    expect(normalizeMatchKey({ email: 'a@b.c' })).toBeNull();
  });
});
