import { SyncConfigSchema, type SyncConfig } from '@tandem/sync-config';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';

export const ROOT = resolve(__dirname, '../../..');

export function readRepoFile(path: string): string {
  return readFileSync(join(ROOT, path), 'utf8');
}

/** The Dockerfile's named stages, each with its text, by target name. */
export function dockerfileStages(): Map<string, string> {
  const stages = readRepoFile('Dockerfile').split(/^(?=FROM )/m);
  return new Map(stages.flatMap((text) => {
    const target = /^FROM \S+ AS (\S+)$/m.exec(text)?.[1];
    return target === undefined ? [] : [[target, text] as const];
  }));
}

/** The Tandem services deployed per role (and per system for connectors and appliers), by app. */
export type ServiceApp = 'reconciler' | 'connector' | 'applier';

export function isServiceApp(app: string | undefined): app is ServiceApp {
  return app === 'reconciler' || app === 'connector' || app === 'applier';
}

export interface ServiceEnv {
  /** Where the environment comes from, for messages: a compose service or a Deployment. */
  name: string;
  app: ServiceApp;
  env: Record<string, string>;
}

/**
 * What each app would refuse in its environment, exactly as it checks at start (its zod schema, then
 * what its system's kind needs). Run in a child process: the services' modules load NestJS, which
 * is an ES module the test runner cannot load.
 */
export function serviceEnvProblems(services: ServiceEnv[]): Record<string, string[]> {
  const output = execFileSync(process.execPath, ['-r', '@swc-node/register', join(__dirname, 'service-env.check.ts')], {
    cwd: ROOT,
    input: JSON.stringify(services),
    encoding: 'utf8',
    env: { PATH: process.env['PATH'] ?? '' },
  });
  return JSON.parse(output) as Record<string, string[]>;
}

/** The sample sync configuration that compose, Kubernetes and the stack apply, validated as the CLI does. */
export function sampleSync(): SyncConfig {
  return SyncConfigSchema.parse(JSON.parse(readRepoFile('deploy/config/contacts-sync.json')));
}

/** A docker-compose file as parsed (YAML merge keys resolved, as Compose does). */
export function loadYaml(path: string): unknown {
  return parse(readRepoFile(path), { merge: true });
}

export function loadManifests(dir: string, files: string[]): Array<Record<string, unknown>> {
  return files.flatMap((file) =>
    parseAllDocuments(readRepoFile(join(dir, file)))
      .map((document) => {
        if (document.errors.length > 0) throw new Error(`${file}: ${document.errors.map((error) => error.message).join('; ')}`);
        return document.toJS() as Record<string, unknown> | null;
      })
      .filter((manifest): manifest is Record<string, unknown> => manifest !== null),
  );
}

/**
 * The broker configuration the project's own Kafka runs with (scripts/kafka/start.sh writes it),
 * which the services are developed and tested against.
 */
export function projectKafkaProperties(): Map<string, string> {
  const script = readRepoFile('scripts/kafka/start.sh');
  const body = /cat >"\$CONF" <<EOF\n([\s\S]*?)\nEOF/.exec(script)?.[1];
  if (!body) throw new Error('scripts/kafka/start.sh: broker configuration not found');
  return new Map(
    body
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.startsWith('#'))
      .map((line) => {
        const at = line.indexOf('=');
        return [line.slice(0, at), line.slice(at + 1)] as const;
      }),
  );
}

/** Variables of the apache/kafka image that are not broker properties. */
const KAFKA_IMAGE_SETTINGS = new Set(['KAFKA_HEAP_OPTS', 'KAFKA_OPTS', 'KAFKA_JMX_OPTS', 'KAFKA_LOG4J_OPTS', 'KAFKA_JVM_PERFORMANCE_OPTS', 'KAFKA_GC_LOG_OPTS', 'KAFKA_VERSION']);

/**
 * The broker properties an apache/kafka container gets from its environment: KAFKA_ stripped,
 * lower-cased, "___" a dash, "__" an underscore, "_" a dot.
 */
export function kafkaImageProperties(env: Record<string, string>): Map<string, string> {
  const properties = new Map<string, string>();
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('KAFKA_') || KAFKA_IMAGE_SETTINGS.has(name)) continue;
    const property = name
      .slice('KAFKA_'.length)
      .toLowerCase()
      .replace(/___/g, '\u0001')
      .replace(/__/g, '\u0002')
      .replace(/_/g, '.')
      .replace(/\u0001/g, '-')
      .replace(/\u0002/g, '_');
    properties.set(property, value);
  }
  return properties;
}

/** Listener name -> host:port, from a `NAME://host:port,…` list. */
export function listeners(value: string | undefined): Map<string, { host: string; port: string }> {
  const result = new Map<string, { host: string; port: string }>();
  for (const entry of (value ?? '').split(',').filter(Boolean)) {
    const match = /^([A-Z_]+):\/\/([^:]*):(\d+)$/.exec(entry.trim());
    if (!match) throw new Error(`not a listener: ${entry}`);
    result.set(match[1]!, { host: match[2]!, port: match[3]! });
  }
  return result;
}

/** Mebibytes of a Kubernetes memory quantity (Mi, Gi, M, G). */
export function mebibytes(quantity: string): number {
  const match = /^(\d+(?:\.\d+)?)(Mi|Gi|M|G)$/.exec(quantity);
  if (!match) throw new Error(`unsupported memory quantity ${quantity}`);
  const value = Number(match[1]);
  const unit = match[2]!;
  return unit === 'Mi' ? value : unit === 'Gi' ? value * 1024 : unit === 'M' ? (value * 1e6) / 2 ** 20 : (value * 1e9) / 2 ** 20;
}
