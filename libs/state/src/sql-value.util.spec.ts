import { toIsoTime, toSafeNumber } from './sql-value.util';

describe('toIsoTime', () => {
  it('gives the same ISO text for a Date and for the text form of the same instant', () => {
    expect(toIsoTime(new Date('2024-05-01T10:00:00Z'))).toBe('2024-05-01T10:00:00.000Z');
    expect(toIsoTime('2024-05-01 12:00:00+02')).toBe('2024-05-01T10:00:00.000Z');
  });
});

describe('toSafeNumber', () => {
  it('reads 64-bit integers handed back as text', () => {
    expect(toSafeNumber('42')).toBe(42);
    expect(toSafeNumber(BigInt(7))).toBe(7);
  });

  it('refuses values that a number cannot hold exactly', () => {
    expect(() => toSafeNumber('9007199254740993')).toThrow(RangeError);
  });
});
