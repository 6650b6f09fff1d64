import { z } from 'zod';
import { ConfigError, env, parseEnv } from './env.util';

const Schema = z.object({
  KAFKA_BROKERS: env.brokers(),
  DATABASE_URL: env.url(['postgres', 'postgresql']),
  HTTP_PORT: env.port().default(8080),
  VERBOSE: env.flag().default(false),
});

describe('parseEnv', () => {
  it('parses valid variables and fills defaults', () => {
    expect(parseEnv('svc', Schema, { KAFKA_BROKERS: 'a:1,b:2', DATABASE_URL: 'postgres://x/y' })).toEqual({
      KAFKA_BROKERS: ['a:1', 'b:2'],
      DATABASE_URL: 'postgres://x/y',
      HTTP_PORT: 8080,
      VERBOSE: false,
    });
  });

  it('names every bad variable in one error, with what was given and what is allowed', () => {
    let caught: unknown;
    try {
      parseEnv('svc', Schema, { KAFKA_BROKERS: 'nope', HTTP_PORT: 'abc', VERBOSE: 'maybe' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const message = (caught as ConfigError).message;
    expect(message).toContain('KAFKA_BROKERS: must be a comma-separated list of host:port (got "nope")');
    expect(message).toContain('DATABASE_URL');
    expect(message).toContain('not set');
    expect(message).toContain('HTTP_PORT: must be a whole number from 1 to 65535 (got "abc")');
    expect(message).toContain('VERBOSE: must be true or false (got "maybe")');
    expect((caught as ConfigError).problems).toHaveLength(4);
  });
});

describe('env.days', () => {
  const Retention = z.object({ KEEP_DAYS: env.days(36_500).default(30) });
  const keep = (value?: string) => parseEnv('svc', Retention, { KEEP_DAYS: value }).KEEP_DAYS;

  it('takes a number of days, or forever as null', () => {
    expect(keep()).toBe(30);
    expect(keep('7')).toBe(7);
    expect(keep('forever')).toBeNull();
  });

  it.each([
    ['0', 'must be at least 1'],
    ['36501', 'must be at most 36500'],
    ['a month', 'must be a number of days from 1 to 36500, or "forever"'],
  ])('refuses %j, saying what it takes', (value, problem) => {
    expect(() => keep(value)).toThrow(`KEEP_DAYS: ${problem} (got ${JSON.stringify(value)})`);
  });
});
