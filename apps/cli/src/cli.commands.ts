import { describeIssues } from '@tandem/contracts';
import { KafkaBroker, Publisher, topicNames } from '@tandem/messaging';
import { ConflictResolver, type ConflictChoice } from '@tandem/pipeline';
import { ConflictLogRepository, RecordErrorRepository, SyncConfigRepository, type SqlClient } from '@tandem/state';
import { SyncConfigSchema } from '@tandem/sync-config';
import { readFileSync } from 'node:fs';

/** Where the commands write what they show; the entry point passes stdout. */
export type Output = (line: string) => void;

export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

const syncConfigs = (db: SqlClient) => new SyncConfigRepository(db, (raw) => SyncConfigSchema.parse(raw));

/** Validates a sync configuration file and stores it; running services pick it up on their next refresh. */
export async function applySyncConfig(db: SqlClient, file: string, out: Output): Promise<void> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new CliError(`${file}: not readable JSON: ${(error as Error).message}`);
  }
  const parsed = SyncConfigSchema.safeParse(raw);
  if (!parsed.success) throw new CliError(`${file}: invalid sync configuration: ${describeIssues(parsed.error)}`);
  const saved = await syncConfigs(db).save(parsed.data);
  out(`saved sync ${saved.id}: ${saved.entityType}s of tenant ${saved.tenantId} between ${saved.systems.map((s) => s.id).join(', ')}`);
}

export async function listSyncConfigs(db: SqlClient, out: Output): Promise<void> {
  for (const config of await syncConfigs(db).list()) {
    out(`${config.id}\t${config.tenantId}\t${config.entityType}\t${config.systems.map((s) => `${s.id}(${s.kind}, ${s.direction})`).join(' ')}`);
  }
}

export async function listConflicts(db: SqlClient, tenantId: string, status: 'pending' | 'resolved' | undefined, out: Output): Promise<void> {
  const conflicts = await new ConflictLogRepository(db).list({ tenantId, limit: 100, ...(status ? { status } : {}) });
  for (const c of conflicts) {
    const sides = c.sides.map((side) => `${side.system}=${side.deleted ? '(deleted)' : JSON.stringify(side.value)}`).join(' vs ');
    const outcome = c.outcome ? `→ ${c.outcome.winner}: ${c.outcome.deleted ? '(deleted)' : JSON.stringify(c.outcome.value)}` : '(waiting for a person)';
    out(`${c.conflictId}\t${c.status}\t${c.entityId}\t${c.field ?? '(record)'}\t${sides}\t${outcome}\t${c.decidedBy ?? ''}`);
  }
}

export async function listRecordErrors(db: SqlClient, tenantId: string, out: Output): Promise<void> {
  for (const error of await new RecordErrorRepository(db).list({ tenantId, limit: 100 })) {
    out(`${error.id}\t${error.systemId}\t${error.recordId ?? ''}\t${error.code}\t${error.message}`);
  }
}

/** Sends a person's decision on a pending conflict to the reconciler that owns the entity. */
export async function resolveConflict(
  db: SqlClient,
  kafka: { brokers: string[]; topicPrefix: string },
  conflictId: string,
  choice: ConflictChoice,
  decidedBy: string,
  out: Output,
): Promise<void> {
  const broker = new KafkaBroker({
    clientId: 'tandem-cli',
    brokers: kafka.brokers,
    logger: { info: () => undefined, warn: () => undefined, error: (message) => out(`kafka: ${message}`) },
  });
  try {
    const producer = await broker.producer().catch((error: unknown) => {
      throw new CliError(`cannot reach Kafka at ${kafka.brokers.join(',')}: ${(error as Error).message}`);
    });
    const resolver = new ConflictResolver(db, new Publisher(producer), topicNames(kafka.topicPrefix));
    await resolver.resolve(conflictId, choice, decidedBy);
    out(`decision on ${conflictId} sent: ${choice.kind === 'side' ? `keep ${choice.system}` : `set ${JSON.stringify(choice.value)}`}`);
  } finally {
    await broker.close();
  }
}
