import { APPLIER_KIND_REQUIREMENTS, ApplierEnvSchema } from '@tandem/applier-service';
import { ConfigError, parseEnv } from '@tandem/config';
import { CONNECTOR_KIND_REQUIREMENTS, ConnectorEnvSchema } from '@tandem/connector-service';
import { ReconcilerEnvSchema } from '@tandem/reconciler-service';
import { missingForKind, type KindRequirements } from '@tandem/service-kit';
import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { sampleSync, type ServiceApp, type ServiceEnv } from './deploy-files.util';

/**
 * Reads `ServiceEnv[]` as JSON on stdin and prints, per name, the problems its app would stop with:
 * the app's own schema, then the variables its system's kind needs (the kind from the sample sync
 * configuration), as the services check them at start.
 */
type Requirements = KindRequirements<Record<string, unknown>>;
const APPS: Record<ServiceApp, { schema: z.ZodObject; kinds?: Requirements }> = {
  reconciler: { schema: ReconcilerEnvSchema },
  connector: { schema: ConnectorEnvSchema, kinds: CONNECTOR_KIND_REQUIREMENTS as Requirements },
  applier: { schema: ApplierEnvSchema, kinds: APPLIER_KIND_REQUIREMENTS as Requirements },
};

const sync = sampleSync();

function problems({ app, env }: ServiceEnv): string[] {
  const { schema, kinds } = APPS[app];
  let config: Record<string, unknown>;
  try {
    config = parseEnv(app, schema, env) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  if (!kinds) return [];
  const systemId = String(config['SYSTEM_ID']);
  const system = sync.systems.find((candidate) => candidate.id === systemId);
  if (!system) return [`SYSTEM_ID: the sample sync configuration links no system "${systemId}"`];
  return missingForKind(config, system.kind, kinds);
}

const services = JSON.parse(readFileSync(0, 'utf8')) as ServiceEnv[];
process.stdout.write(JSON.stringify(Object.fromEntries(services.map((service) => [service.name, problems(service)]))));
