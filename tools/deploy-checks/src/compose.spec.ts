import { HubSpotSettingsSchema } from '@tandem/hubspot-system';
import { PostgresTableSchema } from '@tandem/postgres-system';
import { SERVICE_NODE_FLAGS } from '@tandem/config';
import { eventually, freePort } from '@tandem/testing';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  ROOT,
  dockerfileStages,
  isServiceApp,
  kafkaImageProperties,
  listeners,
  loadYaml,
  projectKafkaProperties,
  readRepoFile,
  sampleSync,
  serviceEnvProblems,
  type ServiceApp,
} from './deploy-files.util';

interface ComposeService {
  image?: string;
  build?: { context: string; target?: string };
  environment?: Record<string, string | number | boolean | null>;
  healthcheck?: { test?: string | string[]; disable?: boolean };
  depends_on?: Record<string, { condition?: string }> | string[];
  restart?: string;
  volumes?: string[];
  command?: string | string[];
}

const compose = loadYaml('docker-compose.yml') as { services: Record<string, ComposeService> };
const services = Object.entries(compose.services);
const sync = sampleSync();

function env(service: ComposeService): Record<string, string> {
  return Object.fromEntries(Object.entries(service.environment ?? {}).map(([name, value]) => [name, value === null ? '' : String(value)]));
}
function named(name: string): ComposeService {
  const service = compose.services[name];
  if (!service) throw new Error(`docker-compose.yml has no service ${name}`);
  return service;
}
function dependencies(service: ComposeService): Record<string, { condition?: string }> {
  return Array.isArray(service.depends_on) ? Object.fromEntries(service.depends_on.map((name) => [name, {}])) : (service.depends_on ?? {});
}
/** Services others wait for to finish (setup): they run once and have nothing to check while running. */
const oneShot = new Set(services.flatMap(([, service]) => Object.entries(dependencies(service)).filter(([, d]) => d.condition === 'service_completed_successfully').map(([name]) => name)));
const tandemServices = services.filter(([, service]) => isServiceApp(service.build?.target));

describe('the sample sync configuration (deploy/config/contacts-sync.json)', () => {
  it('is valid, with valid settings for the kind of each system', () => {
    const kinds = { postgres: PostgresTableSchema, hubspot: HubSpotSettingsSchema } as const;
    expect(sync.systems.map((system) => system.kind).sort()).toEqual(['hubspot', 'postgres']);
    for (const system of sync.systems) expect(kinds[system.kind as keyof typeof kinds].safeParse(system.settings).error).toBeUndefined();
  });
});

describe('docker-compose.yml', () => {
  it('gives every service an image or a build, and a health check unless it runs once', () => {
    for (const [name, service] of services) {
      expect({ name, source: Boolean(service.image || service.build) }).toEqual({ name, source: true });
      if (oneShot.has(name)) {
        expect({ name, restart: service.restart }).toEqual({ name, restart: 'no' });
      } else {
        const test = service.healthcheck?.test;
        expect({ name, healthcheck: Boolean(test && test.length > 0 && !service.healthcheck?.disable) }).toEqual({ name, healthcheck: true });
      }
    }
  });

  it('orders start-up with conditions a dependency can meet', () => {
    for (const [name, service] of services) {
      for (const [dependency, { condition }] of Object.entries(dependencies(service))) {
        expect(compose.services[dependency]).toBeDefined();
        const expected = oneShot.has(dependency) ? 'service_completed_successfully' : 'service_healthy';
        expect({ name, dependency, condition }).toEqual({ name, dependency, condition: expected });
      }
    }
  });

  it('builds every image from a target of the Dockerfile', () => {
    const targets = dockerfileStages();
    for (const [name, service] of services.filter(([, s]) => s.build)) {
      expect({ name, target: targets.has(service.build!.target ?? '') }).toEqual({ name, target: true });
      expect(service.build!.context).toBe('.');
    }
  });

  it("runs each Dockerfile target's own app, non-root, from sources the build context holds", () => {
    const dockerfile = readRepoFile('Dockerfile');
    const stages = dockerfileStages();
    for (const target of ['reconciler', 'connector', 'applier', 'cli', 'hubspot-simulator']) {
      const stage = stages.get(target) ?? '';
      const main = /"dist\/(apps\/[a-z-]+\/src\/main)\.js"/.exec(stage)?.[1];
      expect({ target, main }).toEqual({ target, main: `apps/${target}/src/main` });
      expect(existsSync(join(ROOT, `${main}.ts`))).toBe(true);
    }
    expect(dockerfile).toMatch(/^USER 1000:1000$/m);
    const allowed = readRepoFile('.dockerignore').split('\n').filter((line) => line.startsWith('!')).map((line) => line.slice(1).replace(/\/$/, ''));
    const sources = [...dockerfile.matchAll(/^COPY (?!--from)(.+)$/gm)].flatMap(([, args]) => args!.trim().split(/\s+/).slice(0, -1));
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      expect({ source, inContext: allowed.includes(source.replace(/\/$/, '')) && existsSync(join(ROOT, source)) }).toEqual({ source, inContext: true });
    }
  });

  it('builds the images with every dependency patch that npm install applies', () => {
    const stages = dockerfileStages();
    const patched = readdirSync(join(ROOT, 'patches')).map((file) => /^(.+)\+[^+]+\.patch$/.exec(file)?.[1]);
    expect(patched.length).toBeGreaterThan(0);
    expect(JSON.parse(readRepoFile('package.json')).scripts.postinstall).toBe('patch-package --error-on-fail');
    expect(stages.get('deps')).toMatch(/^COPY patches \.\/patches$/m);
    expect(stages.get('deps')).toMatch(/^RUN npm ci .*&& npx patch-package --error-on-fail$/m);
    for (const name of patched) {
      // The production dependencies are installed again without devDependencies (so without the
      // patcher): each patched package is taken from the stage that patched it.
      expect({ name, copied: stages.get('prod-deps')?.includes(`COPY --from=deps /build/node_modules/${name} ./node_modules/${name}\n`) }).toEqual({ name, copied: true });
    }
  });

  it('starts every service image with the Node.js flags the services are measured and sized with', () => {
    const stages = dockerfileStages();
    for (const target of ['reconciler', 'connector', 'applier']) {
      const command = /^CMD (\[.*\])$/m.exec(stages.get(target) ?? '')?.[1];
      expect({ target, command: command && (JSON.parse(command) as string[]) }).toEqual({
        target,
        command: ['node', ...SERVICE_NODE_FLAGS, `dist/apps/${target}/src/main.js`],
      });
    }
  });

  it('runs a reconciler, and a connector and an applier for every system of the sample configuration', () => {
    const roles = tandemServices.map(([, service]) => `${service.build!.target}:${env(service)['SYSTEM_ID'] ?? '-'}`);
    expect(roles.filter((role) => role.startsWith('reconciler:'))).toHaveLength(1);
    for (const system of sync.systems) {
      expect(roles.filter((role) => role === `connector:${system.id}`)).toHaveLength(1);
      expect(roles.filter((role) => role === `applier:${system.id}`)).toHaveLength(1);
    }
  });

  it('gives every service each variable its app requires, valid, for its system kind', () => {
    const problems = serviceEnvProblems(tandemServices.map(([name, service]) => ({ name, app: service.build!.target as ServiceApp, env: env(service) })));
    expect(problems).toEqual(Object.fromEntries(tandemServices.map(([name]) => [name, []])));
  }, 30_000);

  it('points every service at the same Kafka, database, topics and partition count, and checks health on its port', () => {
    const shared = ['KAFKA_BROKERS', 'DATABASE_URL', 'TOPIC_PREFIX', 'TOPIC_PARTITIONS'];
    const values = tandemServices.map(([, service]) => shared.map((name) => env(service)[name]));
    expect(new Set(values.map((v) => JSON.stringify(v))).size).toBe(1);
    expect(env(named('setup'))['DATABASE_URL']).toBe(values[0]![1]);
    for (const [name, service] of tandemServices) {
      const port = env(service)['HTTP_PORT'] ?? '8080';
      expect({ name, probe: JSON.stringify(service.healthcheck?.test).includes(`127.0.0.1:${port}/health/ready`) }).toEqual({ name, probe: true });
      for (const variable of ['DATABASE_URL', 'SYSTEM_DATABASE_URL', 'REDIS_URL']) {
        const url = env(service)[variable];
        if (url) expect({ name, variable, host: compose.services[new URL(url).hostname] !== undefined }).toEqual({ name, variable, host: true });
      }
    }
  });

  it('runs Kafka as the services expect it: the settings of the project broker, reachable at KAFKA_BROKERS', () => {
    const kafka = named('kafka');
    expect(kafka.image).toMatch(/^apache\/kafka:4\./);
    const properties = kafkaImageProperties(env(kafka));
    // Addresses, paths and sizing differ between a development machine and a container; the rest
    // (roles, replication factors, min ISR, topic creation, group start-up) must be the same.
    const local = new Set(['listeners', 'advertised.listeners', 'controller.quorum.voters', 'log.dirs', 'num.network.threads', 'num.io.threads', 'background.threads', 'offsets.topic.num.partitions', 'transaction.state.log.num.partitions']);
    for (const [property, value] of projectKafkaProperties()) {
      if (!local.has(property)) expect({ property, value: properties.get(property) }).toEqual({ property, value });
    }
    for (const property of [...properties.keys()].filter((key) => key.endsWith('replication.factor') || key.endsWith('min.isr') || key === 'min.insync.replicas')) {
      expect({ property, value: properties.get(property) }).toEqual({ property, value: '1' });
    }
    const advertised = listeners(properties.get('advertised.listeners'));
    const bound = listeners(properties.get('listeners'));
    const protocols = new Map((properties.get('listener.security.protocol.map') ?? '').split(',').map((pair) => pair.split(':') as [string, string]));
    const brokers = env(tandemServices[0]![1])['KAFKA_BROKERS']!.split(',');
    for (const broker of brokers) {
      const [host, port] = broker.split(':');
      const listener = [...advertised].find(([, address]) => address.host === host && address.port === port);
      expect({ broker, listener: listener?.[0] }).toEqual({ broker, listener: expect.any(String) });
      expect(protocols.get(listener![0])).toBe('PLAINTEXT');
      expect(bound.get(listener![0])?.port).toBe(port);
      expect(compose.services[host!]).toBe(kafka);
    }
    const controller = properties.get('controller.listener.names')!;
    expect(properties.get('controller.quorum.voters')).toBe(`${properties.get('node.id')}@localhost:${bound.get(controller)?.port}`);
    expect(properties.get('process.roles')).toBe('broker,controller');
    expect(env(kafka)['CLUSTER_ID']).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('wires the simulated HubSpot account to the HubSpot system, its connector and applier', () => {
    const simulator = env(named('hubspot-simulator'));
    const hubspot = sync.systems.find((system) => system.kind === 'hubspot')!;
    const connector = tandemServices.find(([, s]) => s.build!.target === 'connector' && env(s)['SYSTEM_ID'] === hubspot.id)!;
    const applier = tandemServices.find(([, s]) => s.build!.target === 'applier' && env(s)['SYSTEM_ID'] === hubspot.id)!;
    expect(hubspot.settings['baseUrl']).toBe(`http://hubspot-simulator:${simulator['PORT']}`);
    expect(String(hubspot.settings['accountId'])).toBe(simulator['PORTAL_ID']);
    expect(env(connector[1])['SYSTEM_ACCESS_TOKEN']).toBe(simulator['ACCESS_TOKEN']);
    expect(env(applier[1])['SYSTEM_ACCESS_TOKEN']).toBe(simulator['ACCESS_TOKEN']);
    expect(env(connector[1])['SYSTEM_WEBHOOK_SECRET']).toBe(simulator['CLIENT_SECRET']);
    expect(simulator['WEBHOOK_URL']).toBe(`http://${connector[0]}:${env(connector[1])['HTTP_PORT']}/webhooks/hubspot`);
    expect(JSON.stringify(named('hubspot-simulator').healthcheck?.test)).toContain(`127.0.0.1:${simulator['HEALTH_PORT']}/health/ready`);
  });

  it('sets up the CRM database the crm system reads, from files that exist', () => {
    const setup = named('setup');
    const crm = sync.systems.find((system) => system.kind === 'postgres')!;
    const connector = tandemServices.find(([, s]) => s.build!.target === 'connector' && env(s)['SYSTEM_ID'] === crm.id)!;
    expect(env(setup)['CRM_DATABASE_URL']).toBe(env(connector[1])['SYSTEM_DATABASE_URL']);
    const mounts = new Map((setup.volumes ?? []).map((volume) => volume.split(':') as [string, string, string]).map(([host, container]) => [container, host]));
    const command = ([] as string[]).concat(setup.command ?? []).join(' ');
    for (const file of command.match(/\/deploy\/\S+\.(sql|json)/g) ?? []) {
      const mount = [...mounts.keys()].find((container) => file.startsWith(`${container}/`));
      expect({ file, mounted: mount !== undefined }).toEqual({ file, mounted: true });
      expect(existsSync(join(ROOT, mounts.get(mount!)!, file.slice(mount!.length)))).toBe(true);
    }
    expect(command).toContain('sync apply /deploy/config/contacts-sync.json');
    for (const [name, service] of services) {
      for (const volume of service.volumes ?? []) {
        const host = volume.split(':')[0]!;
        if (host.startsWith('./')) expect({ name, host, exists: existsSync(join(ROOT, host)) }).toEqual({ name, host, exists: true });
      }
    }
  });

  it('starts the simulator app with its compose environment', async () => {
    const [port, healthPort] = [await freePort(), await freePort()];
    // The compose network's ports and address are the container's; the rest is checked as given.
    const environment = { ...env(named('hubspot-simulator')), HOST: '127.0.0.1', PORT: String(port), HEALTH_PORT: String(healthPort), LOG_LEVEL: 'warn' };
    const child = spawn(process.execPath, ['-r', '@swc-node/register', join(ROOT, 'apps/hubspot-simulator/src/main.ts')], {
      cwd: ROOT,
      env: { PATH: process.env['PATH'] ?? '', ...environment },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let errors = '';
    child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      await eventually(
        async () => {
          if (child.exitCode !== null) throw new Error(`exited ${child.exitCode}: ${errors}`);
          expect((await fetch(`http://127.0.0.1:${healthPort}/health/ready`)).status).toBe(200);
        },
        { timeoutMs: 20_000, intervalMs: 200 },
      );
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  }, 30_000);
});

