import { ConfigError } from '@tandem/config';
import { join } from 'node:path';
import { simulatorProcess, serviceProcesses, SIMULATOR_ACCESS_TOKEN, SIMULATOR_CLIENT_SECRET } from './stack-roster.util';
import { stackSyncConfig } from './stack.service';
import { ROOT, parseStackSettings } from './stack.settings';

describe('stack settings and roster', () => {
  it('defaults to one stack per checkout, on the machine servers', () => {
    const settings = parseStackSettings({});
    expect(settings).toMatchObject({
      dir: join(ROOT, '.tandem/stack'),
      STACK_PORT_BASE: 18_080,
      STACK_DATABASE: 'tandem_stack',
      STACK_CRM_DATABASE: 'tandem_stack_crm',
      STACK_KAFKA_BROKERS: ['127.0.0.1:9092'],
    });
  });

  it('names every bad variable', () => {
    let error: unknown;
    try {
      parseStackSettings({ STACK_PORT_BASE: '80', STACK_DATABASE: 'Drop Table' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((problem) => problem.split(':')[0])).toEqual(['STACK_PORT_BASE', 'STACK_DATABASE']);
  });

  it('points the sample configuration at the local simulator, under the stack tenant when given', () => {
    const settings = parseStackSettings({ STACK_TENANT_ID: 'stack-a' });
    const sync = stackSyncConfig(settings, 'http://127.0.0.1:18080');
    expect(sync.tenantId).toBe('stack-a');
    expect(sync.systems.find((system) => system.kind === 'hubspot')?.settings['baseUrl']).toBe('http://127.0.0.1:18080');
    expect(stackSyncConfig(parseStackSettings({})).tenantId).toBe('acme');
  });

  it('gives each process its own port and what its system needs, and sends webhooks to the HubSpot connector', () => {
    const settings = parseStackSettings({ STACK_PORT_BASE: '20000', STACK_TOPIC_PREFIX: 'demo' });
    const sync = stackSyncConfig(settings);
    const services = serviceProcesses(settings, sync);
    expect(services.map((service) => service.name)).toEqual(['reconciler', 'connector-crm', 'applier-crm', 'connector-hubspot', 'applier-hubspot']);
    expect(new Set(services.map((service) => service.port)).size).toBe(services.length);
    expect(services.every((service) => service.env['TOPIC_PREFIX'] === 'demo' && service.env['HTTP_PORT'] === String(service.port))).toBe(true);
    const byName = new Map(services.map((service) => [service.name, service.env]));
    expect(byName.get('connector-crm')?.['SYSTEM_DATABASE_URL']).toBe('postgres://postgres@127.0.0.1:5432/tandem_stack_crm');
    expect(byName.get('applier-hubspot')).toMatchObject({ SYSTEM_ACCESS_TOKEN: SIMULATOR_ACCESS_TOKEN, REDIS_URL: 'redis://127.0.0.1:6379' });
    expect(byName.get('connector-hubspot')?.['SYSTEM_WEBHOOK_SECRET']).toBe(SIMULATOR_CLIENT_SECRET);
    const simulator = simulatorProcess(settings, sync);
    expect(simulator.env).toMatchObject({ PORT: '20000', HEALTH_PORT: '20001', ACCESS_TOKEN: SIMULATOR_ACCESS_TOKEN, CLIENT_SECRET: SIMULATOR_CLIENT_SECRET, PORTAL_ID: '33' });
    expect(simulator.env['WEBHOOK_URL']).toBe(`http://127.0.0.1:${services.find((service) => service.name === 'connector-hubspot')!.port}/webhooks/hubspot`);
  });
});
