import { ConfigError } from '@tandem/config';
import { parseSimulatorEnv } from './simulator.env';

const required = { ACCESS_TOKEN: 'token', CLIENT_SECRET: 'secret' };

describe('hubspot-simulator environment', () => {
  it('fills in the defaults', () => {
    expect(parseSimulatorEnv(required)).toEqual({
      ...required,
      HOST: '0.0.0.0',
      PORT: 8080,
      HEALTH_PORT: 8081,
      PORTAL_ID: 33,
      RATE_LIMIT: 100,
      RATE_LIMIT_WINDOW_MS: 10_000,
      LOG_LEVEL: 'info',
    });
  });

  it('names every bad variable in one error', () => {
    let error: unknown;
    try {
      parseSimulatorEnv({ PORT: 'eighty', WEBHOOK_URL: 'ftp://connector/webhooks', HOST: 'everywhere', RATE_LIMIT: '0' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { problems } = error as ConfigError;
    expect(problems.map((problem) => problem.split(':')[0]).sort()).toEqual(['ACCESS_TOKEN', 'CLIENT_SECRET', 'HOST', 'PORT', 'RATE_LIMIT', 'WEBHOOK_URL']);
    expect((error as ConfigError).message).toContain('PORT: must be a whole number from 1 to 65535 (got "eighty")');
  });

  it('refuses one port for the API and health', () => {
    expect(() => parseSimulatorEnv({ ...required, PORT: '9000', HEALTH_PORT: '9000' })).toThrow('HEALTH_PORT: must differ from PORT (both 9000)');
  });
});
