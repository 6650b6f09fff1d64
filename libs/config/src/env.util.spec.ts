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
