import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, isServiceApp, loadManifests, loadYaml, mebibytes, sampleSync, serviceEnvProblems, type ServiceApp, type ServiceEnv } from './deploy-files.util';

const DIR = 'deploy/kubernetes';

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; configMapKeyRef?: { name: string; key: string } };
}
interface Probe {
  httpGet?: { path: string; port: string | number };
}
interface Container {
  name: string;
  image: string;
  ports?: Array<{ name?: string; containerPort: number }>;
  env?: EnvVar[];
  envFrom?: Array<{ configMapRef?: { name: string }; secretRef?: { name: string } }>;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
}
interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}
interface Deployment extends Manifest {
  spec: {
    replicas?: number;
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: { containers: Container[]; securityContext?: { runAsNonRoot?: boolean } } };
  };
}

const kustomization = loadYaml(join(DIR, 'kustomization.yaml')) as { resources: string[] };
const manifests = loadManifests(DIR, kustomization.resources) as unknown as Manifest[];
const of = <T extends Manifest>(kind: string) => manifests.filter((manifest): manifest is T => manifest.kind === kind);
const deployments = of<Deployment>('Deployment');
const configMaps = new Map(of('ConfigMap').map((map) => [map.metadata.name, map.data ?? {}]));
const secrets = new Map(of('Secret').map((secret) => [secret.metadata.name, { ...secret.stringData, ...decoded(secret.data) }]));
const sync = sampleSync();

function decoded(data: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(data ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')]));
}
function container(deployment: Deployment): Container {
  const [only, ...others] = deployment.spec.template.spec.containers;
  expect({ deployment: deployment.metadata.name, containers: others.length + 1 }).toEqual({ deployment: deployment.metadata.name, containers: 1 });
  return only!;
}
/** The app an image runs: tandem/<app>[:tag]. */
function appOf(deployment: Deployment): string {
  return /^tandem\/([a-z-]+)(:.+)?$/.exec(container(deployment).image)?.[1] ?? '';
}
/** The environment the container gets, as Kubernetes assembles it: envFrom first, then env. */
function resolvedEnv(deployment: Deployment): Record<string, string> {
  const { env = [], envFrom = [] } = container(deployment);
  const result: Record<string, string> = {};
  const lookup = (source: Map<string, Record<string, string>>, ref: { name: string; key: string }, what: string) => {
    const value = source.get(ref.name)?.[ref.key];
    if (value === undefined) throw new Error(`${deployment.metadata.name}: ${what} ${ref.name} has no key ${ref.key}`);
    return value;
  };
  for (const from of envFrom) {
    if (from.configMapRef) Object.assign(result, configMaps.get(from.configMapRef.name) ?? failMissing(deployment, 'ConfigMap', from.configMapRef.name));
    if (from.secretRef) Object.assign(result, secrets.get(from.secretRef.name) ?? failMissing(deployment, 'Secret', from.secretRef.name));
  }
  for (const variable of env) {
    const { secretKeyRef, configMapKeyRef } = variable.valueFrom ?? {};
    result[variable.name] = secretKeyRef
      ? lookup(secrets, secretKeyRef, 'Secret')
      : configMapKeyRef
        ? lookup(configMaps, configMapKeyRef, 'ConfigMap')
        : (variable.value ?? '');
  }
  return result;
}
function failMissing(deployment: Deployment, kind: string, name: string): never {
  throw new Error(`${deployment.metadata.name}: no ${kind} ${name} in ${DIR}`);
}
function probePort(deployment: Deployment, probe: Probe | undefined): number | undefined {
  const port = probe?.httpGet?.port;
  return typeof port === 'number' ? port : container(deployment).ports?.find((candidate) => candidate.name === port)?.containerPort;
}

const services = deployments.filter((deployment) => isServiceApp(appOf(deployment)));
const partitions = Number(configMaps.get('tandem-config')?.['TOPIC_PARTITIONS']);

describe('Kubernetes manifests', () => {
  it('lists every manifest of the directory in the kustomization', () => {
    const files = readdirSync(join(ROOT, DIR)).filter((file) => file.endsWith('.yaml') && file !== 'kustomization.yaml');
    expect([...kustomization.resources].sort()).toEqual(files.sort());
    expect(deployments.map((deployment) => appOf(deployment)).every(isServiceApp)).toBe(true);
  });

  it('runs a reconciler, and a connector and an applier for every system of the sample configuration', () => {
    const roles = services.map((deployment) => `${appOf(deployment)}:${resolvedEnv(deployment)['SYSTEM_ID'] ?? '-'}`);
    expect(roles.filter((role) => role.startsWith('reconciler:'))).toHaveLength(1);
    for (const system of sync.systems) {
      expect(roles.filter((role) => role === `connector:${system.id}`)).toHaveLength(1);
      expect(roles.filter((role) => role === `applier:${system.id}`)).toHaveLength(1);
    }
  });

  it.each(deployments.map((deployment) => [deployment.metadata.name, deployment] as const))('%s: probes the health endpoints on its HTTP port, as non-root, with resources', (name, deployment) => {
    const { readinessProbe, livenessProbe, resources } = container(deployment);
    const httpPort = Number(resolvedEnv(deployment)['HTTP_PORT'] ?? 8080);
    expect({ name, path: readinessProbe?.httpGet?.path, port: probePort(deployment, readinessProbe) }).toEqual({ name, path: '/health/ready', port: httpPort });
    expect({ name, path: livenessProbe?.httpGet?.path, port: probePort(deployment, livenessProbe) }).toEqual({ name, path: '/health/live', port: httpPort });
    for (const resource of ['cpu', 'memory']) {
      expect({ name, resource, request: resources?.requests?.[resource], limit: resources?.limits?.[resource] }).toEqual({ name, resource, request: expect.any(String), limit: expect.any(String) });
    }
    // Sized for a service that stays under 300 MB resident: room above it, and requests within limits.
    expect(mebibytes(resources!.limits!['memory']!)).toBeGreaterThanOrEqual(300);
    expect(mebibytes(resources!.requests!['memory']!)).toBeLessThanOrEqual(mebibytes(resources!.limits!['memory']!));
    expect(deployment.spec.template.spec.securityContext?.runAsNonRoot).toBe(true);
    expect(deployment.spec.template.metadata.labels).toMatchObject(deployment.spec.selector.matchLabels);
  });

  it('gives every Deployment each variable its app requires, valid, for its system kind', () => {
    const envs: ServiceEnv[] = services.map((deployment) => ({ name: deployment.metadata.name, app: appOf(deployment) as ServiceApp, env: resolvedEnv(deployment) }));
    expect(serviceEnvProblems(envs)).toEqual(Object.fromEntries(envs.map(({ name }) => [name, []])));
    const shared = ['KAFKA_BROKERS', 'DATABASE_URL', 'TOPIC_PREFIX', 'TOPIC_PARTITIONS'];
    expect(new Set(envs.map(({ env }) => JSON.stringify(shared.map((name) => env[name])))).size).toBe(1);
  }, 30_000);

  it('scales every applier with a HorizontalPodAutoscaler, never beyond the partitions', () => {
    const autoscalers = of<Manifest & { spec: { scaleTargetRef: { kind: string; name: string }; minReplicas: number; maxReplicas: number } }>('HorizontalPodAutoscaler');
    expect(partitions).toBeGreaterThan(0);
    for (const applier of services.filter((deployment) => appOf(deployment) === 'applier')) {
      const name = applier.metadata.name;
      const hpa = autoscalers.find((candidate) => candidate.spec.scaleTargetRef.kind === 'Deployment' && candidate.spec.scaleTargetRef.name === name);
      expect({ name, autoscaled: hpa !== undefined }).toEqual({ name, autoscaled: true });
      expect(hpa!.spec.minReplicas).toBeGreaterThanOrEqual(1);
      expect(hpa!.spec.maxReplicas).toBeLessThanOrEqual(partitions);
      // The autoscaler owns the replica count; a fixed one would be reset at every apply.
      expect({ name, replicas: applier.spec.replicas }).toEqual({ name, replicas: undefined });
    }
    for (const hpa of autoscalers) expect(deployments.map((deployment) => deployment.metadata.name)).toContain(hpa.spec.scaleTargetRef.name);
    for (const deployment of services) expect(deployment.spec.replicas ?? 1).toBeLessThanOrEqual(partitions);
  });

  it("exposes the HubSpot connector's webhook endpoint through a Service", () => {
    const hubspot = sync.systems.find((system) => system.kind === 'hubspot')!;
    const connector = services.find((deployment) => appOf(deployment) === 'connector' && resolvedEnv(deployment)['SYSTEM_ID'] === hubspot.id)!;
    const service = of<Manifest & { spec: { selector: Record<string, string>; ports: Array<{ targetPort: string | number }> } }>('Service').find((candidate) =>
      Object.entries(candidate.spec.selector).every(([label, value]) => connector.spec.template.metadata.labels[label] === value),
    );
    expect(service).toBeDefined();
    const target = service!.spec.ports[0]!.targetPort;
    expect(typeof target === 'number' ? target : container(connector).ports?.find((port) => port.name === target)?.containerPort).toBe(Number(resolvedEnv(connector)['HTTP_PORT']));
    expect(resolvedEnv(connector)['WEBHOOK_PUBLIC_URL']).toMatch(/^https:\/\/.+\/webhooks\/hubspot$/);
  });
});
