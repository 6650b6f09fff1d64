import type { HubSpotSimulator } from '@tandem/hubspot-simulator';
import type { KafkaReader, ServiceStack } from '@tandem/local-stack';
import type { FieldMapper } from '@tandem/mapping';
import { consumerGroups, topicNames } from '@tandem/messaging';
import type { Pool } from 'pg';
import { findSilentLosses, type CanonicalRecord, type ConflictEntry, type OpRecord, type SilentLoss } from './history-check.util';
import { SYSTEMS, type SystemId } from './workload';

const CANONICAL_FIELDS = ['first_name', 'last_name', 'email', 'phone'] as const;

export interface CheckInput {
  crm: Pool;
  customer: Pool;
  hubspot: HubSpotSimulator;
  mappers: Record<SystemId, FieldMapper>;
  stack: ServiceStack;
  kafka: KafkaReader;
  tenantId: string;
  ops: readonly OpRecord[];
}

export interface CheckReport {
  entities: number;
  diverged: string[];
  duplicates: number;
  /** "system email ×n" for each duplicated record. */
  duplicated: string[];
  losses: SilentLoss[];
  pendingManual: number;
  /** Consumer groups whose committed offset is ahead of what they processed. */
  offsetViolations: string[];
}

/**
 * Reads every system directly (the CRM and customer tables, the simulator's contacts), maps each
 * record to canonical fields with the sync configuration's mapping, and compares. Tandem's own state
 * is read only for the conflict log (the record of overwritten edits) and to check its consumers.
 */
export async function check(input: CheckInput): Promise<CheckReport> {
  const views = await readSystems(input);
  const emails = new Set<string>([...input.ops.map((op) => op.email), ...SYSTEMS.flatMap((system) => [...views[system].keys()])]);
  let duplicates = 0;
  const duplicated: string[] = [];
  const diverged: string[] = [];
  const finals = new Map<string, CanonicalRecord | null>();
  for (const email of emails) {
    const records = SYSTEMS.map((system) => views[system].get(email) ?? []);
    records.forEach((list, index) => {
      if (list.length < 2) return;
      duplicates += list.length - 1;
      duplicated.push(`${SYSTEMS[index]} ${email} ×${list.length}`);
    });
    const present = records.map((list) => list[0] ?? null);
    const first = present.find((record) => record !== null) ?? null;
    finals.set(email, first);
    const same = present.every((record) => (record === null) === (first === null) && (record === null || first === null || sameRecord(record, first)));
    if (!same) diverged.push(`${email}: ${SYSTEMS.map((system, index) => `${system}=${present[index] ? JSON.stringify(present[index]) : '(none)'}`).join(' ')}`);
  }
  const conflicts = await readConflicts(input);
  return {
    entities: emails.size,
    diverged,
    duplicates,
    duplicated,
    losses: findSilentLosses(input.ops, finals, conflicts.entries),
    pendingManual: conflicts.pending,
    offsetViolations: await checkConsumers(input),
  };
}

async function readSystems({ crm, customer, hubspot, mappers }: CheckInput): Promise<Record<SystemId, Map<string, CanonicalRecord[]>>> {
  const { rows: crmRows } = await crm.query<Record<string, string | null>>(`SELECT full_name, email, phone FROM contacts`);
  const { rows: customerRows } = await customer.query<Record<string, string | null>>(`SELECT first_name, last_name, email_address, phone FROM contacts`);
  const hubspotRows = hubspot.contacts().map((contact) => contact.properties);
  return {
    crm: byEmail(crmRows, mappers.crm),
    customer: byEmail(customerRows, mappers.customer),
    hubspot: byEmail(hubspotRows, mappers.hubspot),
  };
}

function byEmail(rows: Record<string, string | null | undefined>[], mapper: FieldMapper): Map<string, CanonicalRecord[]> {
  const result = new Map<string, CanonicalRecord[]>();
  for (const row of rows) {
    const native = Object.fromEntries(mapper.nativeFields.map((field) => [field, row[field] ?? null]));
    const mapped = mapper.toCanonical(native);
    if (mapped.errors.length > 0) throw new Error(`a record does not map to canonical fields: ${JSON.stringify(row)}: ${mapped.errors.map((e) => e.reason).join('; ')}`);
    const record: CanonicalRecord = Object.fromEntries(CANONICAL_FIELDS.map((field) => [field, (mapped.values[field] as string | null | undefined) ?? null]));
    const email = record['email'] ?? '(no email)';
    result.set(email, [...(result.get(email) ?? []), record]);
  }
  return result;
}

function sameRecord(a: CanonicalRecord, b: CanonicalRecord): boolean {
  return CANONICAL_FIELDS.every((field) => (a[field] ?? null) === (b[field] ?? null));
}

/** The conflict log, each conflict attributed to its entity's email. */
async function readConflicts({ stack, tenantId }: CheckInput): Promise<{ entries: ConflictEntry[]; pending: number }> {
  const { rows } = await stack.db.query<{ email: string | null; field: string | null; kind: ConflictEntry['kind']; status: ConflictEntry['status']; sides: ConflictEntry['sides']; outcome: ConflictEntry['outcome'] }>(
    // A field is stored as [value, …] (see stored-entity.codec), or as an object in rows written before.
    `SELECT COALESCE(e.state::jsonb #>> '{entity,fields,email,0}', e.state::jsonb #>> '{entity,fields,email,value}') AS email,
            c.field, c.kind, c.status, c.sides, c.outcome
       FROM tandem_conflicts c LEFT JOIN tandem_entities e ON e.tenant_id = c.tenant_id AND e.entity_id = c.entity_id
      WHERE c.tenant_id = $1`,
    [tenantId],
  );
  return {
    entries: rows.filter((row) => row.email !== null).map((row) => ({ ...row, email: row.email! })),
    pending: rows.filter((row) => row.status === 'pending').length,
  };
}

/**
 * No consumer committed past what it processed: every message on the changes topic below the
 * reconciler group's committed offset has its sync-log entry, and every apply command below an
 * applier group's committed offset has its apply result on the changes topic.
 */
async function checkConsumers({ stack, kafka, tenantId }: CheckInput): Promise<string[]> {
  const violations: string[] = [];
  const topics = topicNames(stack.prefix);
  const groups = consumerGroups(stack.prefix);
  const { rows } = await stack.db.query<{ event_id: string }>(`SELECT DISTINCT detail->>'eventId' AS event_id FROM tandem_sync_log WHERE tenant_id = $1`, [tenantId]);
  const logged = new Set(rows.map((row) => row.event_id));
  const changes = await kafka.readAll(topics.changes);
  const results = new Set(changes.filter((m) => m.value['type'] === 'apply.result').map((m) => String(m.value['eventId'])));
  const reconciler = await kafka.offsets(topics.changes, groups.reconciler);
  for (const message of changes) {
    const committed = reconciler.committed.get(message.partition) ?? 0n;
    if (message.offset < committed && !logged.has(String(message.value['eventId']))) {
      violations.push(`reconciler committed ${topics.changes}[${message.partition}] past offset ${message.offset} (${String(message.value['type'])} ${String(message.value['eventId'])}), which has no sync-log entry`);
    }
  }
  for (const system of SYSTEMS) {
    const topic = topics.apply(system);
    const applier = await kafka.offsets(topic, groups.applier(system));
    for (const command of await kafka.readAll(topic)) {
      const committed = applier.committed.get(command.partition) ?? 0n;
      if (command.offset < committed && !results.has(`${String(command.value['eventId'])}>result`)) {
        violations.push(`applier ${system} committed ${topic}[${command.partition}] past offset ${command.offset} (command ${String(command.value['eventId'])}), which has no apply result`);
      }
    }
  }
  return violations;
}
