import type { SyncConfig } from '@tandem/sync-config';
import { databaseUrl, type StackSettings } from './stack.settings';

/** The simulated account's secrets: the stack is a demo, and only its own processes see them. */
export const SIMULATOR_ACCESS_TOKEN = 'stack-private-app-token';
export const SIMULATOR_CLIENT_SECRET = 'stack-app-client-secret';

/** One process of the stack: what it runs, where it listens, and its environment. */
export interface StackProcess {
  name: string;
  /** The entry point, relative to the repository; also how stop recognises the process. */
  main: string;
  port: number;
  /** Where its readiness is asked. */
  healthUrl: string;
  /** What it serves, for the summary. */
  url: string;
  env: Record<string, string>;
}

export function simulatorProcess(settings: StackSettings, sync: SyncConfig): StackProcess {
  const port = settings.STACK_PORT_BASE;
  const hubspot = sync.systems.find((system) => system.kind === 'hubspot');
  const webhookTarget = hubspot ? `http://127.0.0.1:${serviceProcesses(settings, sync).find((p) => p.name === `connector-${hubspot.id}`)!.port}/webhooks/hubspot` : null;
  return {
    name: 'hubspot-simulator',
    main: 'apps/hubspot-simulator/src/main.ts',
    port,
    healthUrl: `http://127.0.0.1:${port + 1}/health/ready`,
    url: `http://127.0.0.1:${port}`,
    env: {
      HOST: '127.0.0.1',
      PORT: String(port),
      HEALTH_PORT: String(port + 1),
      ACCESS_TOKEN: SIMULATOR_ACCESS_TOKEN,
      CLIENT_SECRET: SIMULATOR_CLIENT_SECRET,
      PORTAL_ID: String(hubspot?.settings['accountId'] ?? 33),
      ...(webhookTarget ? { WEBHOOK_URL: webhookTarget } : {}),
    },
  };
}

/** The reconciler, then a connector and an applier per linked system, each on its own port. */
export function serviceProcesses(settings: StackSettings, sync: SyncConfig): StackProcess[] {
  const base = {
    KAFKA_BROKERS: settings.STACK_KAFKA_BROKERS.join(','),
    DATABASE_URL: databaseUrl(settings, settings.STACK_DATABASE),
    TOPIC_PREFIX: settings.STACK_TOPIC_PREFIX,
    TOPIC_PARTITIONS: String(settings.STACK_TOPIC_PARTITIONS),
    LOG_LEVEL: 'info',
  };
  let port = settings.STACK_PORT_BASE + 10;
  const service = (name: string, app: string, env: Record<string, string>): StackProcess => {
    const at = port++;
    return { name, main: `apps/${app}/src/main.ts`, port: at, healthUrl: `http://127.0.0.1:${at}/health/ready`, url: `http://127.0.0.1:${at}`, env: { ...base, ...env, HTTP_PORT: String(at) } };
  };
  const processes = [service('reconciler', 'reconciler', {})];
  for (const system of sync.systems) {
    const access: Record<string, string> =
      system.kind === 'postgres'
        ? { SYSTEM_DATABASE_URL: databaseUrl(settings, settings.STACK_CRM_DATABASE) }
        : system.kind === 'hubspot'
          ? { SYSTEM_ACCESS_TOKEN: SIMULATOR_ACCESS_TOKEN, SYSTEM_WEBHOOK_SECRET: SIMULATOR_CLIENT_SECRET }
          : {};
    const systemEnv = { SYSTEM_ID: system.id, REDIS_URL: settings.STACK_REDIS_URL, ...access };
    processes.push(service(`connector-${system.id}`, 'connector', systemEnv));
    processes.push(service(`applier-${system.id}`, 'applier', systemEnv));
  }
  return processes;
}
