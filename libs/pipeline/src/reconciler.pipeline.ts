import type { MessageDraft } from '@tandem/contracts';
import { TRACEPARENT, type MessageBatch, type Publisher, type TopicNames, type TracedDraft } from '@tandem/messaging';
import { emptyEntityState, reconcile, type ReconcilerInput } from '@tandem/reconciliation';
import {
  ConflictLogRepository,
  EntityStateRepository,
  SyncLogRepository,
  type SqlClient,
  type SyncLogEntry,
} from '@tandem/state';
import { CoalescingPublisher, type BatchPublication } from './coalescing-publisher';
import { StageTimings } from './stage-timings.util';
import { decodeStoredEntity, encodeStoredEntity, type StoredEntity, type StoredEntityRecord } from './stored-entity.codec';
import type { SyncCatalog } from './sync-catalog';

/** How long a partition's ready outputs wait for the partitions worked alongside it, to go out together. */
const PUBLISH_TOGETHER_MAX_WAIT_MS = 200;

interface Working {
  stored: StoredEntity;
  rev: number | null;
  dirty: boolean;
}

export interface ReconcilerStats {
  messages: number;
  applied: number;
  redelivered: number;
  commands: number;
  conflicts: number;
  pendingConflicts: number;
}

/**
 * Works one partition's batch: loads every entity it touches in one query, reconciles each message in
 * order, publishes the commands, resolved changes and conflicts, then writes all state, the conflict
 * log and the sync log in one transaction. Offsets are committed by the consumer only after this
 * resolves, so a crash at any point redelivers the batch and nothing is lost; deterministic ids make
 * the republished messages recognisable downstream.
 */
export class ReconcilerPipeline {
  readonly stats: ReconcilerStats = { messages: 0, applied: 0, redelivered: 0, commands: 0, conflicts: 0, pendingConflicts: 0 };
  readonly timings = new StageTimings();
  private readonly publications: CoalescingPublisher;

  constructor(
    private readonly db: SqlClient,
    private readonly catalog: SyncCatalog,
    publisher: Publisher,
    private readonly topics: TopicNames,
  ) {
    this.publications = new CoalescingPublisher(publisher, { maxWaitMs: PUBLISH_TOGETHER_MAX_WAIT_MS });
  }

  /**
   * Partitions worked at once publish together (see CoalescingPublisher), so the apply commands of
   * one burst of changes reach each applier in one fetch and share its calls to the target.
   */
  async handle(batch: MessageBatch<ReconcilerInput>): Promise<void> {
    const publication = this.publications.join();
    try {
      await this.work(batch, publication);
    } finally {
      publication.leave();
    }
  }

  private async work(batch: MessageBatch<ReconcilerInput>, publication: BatchPublication): Promise<void> {
    const working = await this.timings.time('load', () => this.load(batch));
    const commands = new Map<string, TracedDraft[]>();
    // The resolved topic is compacted by entity: within a batch only an entity's last state matters.
    const resolved = new Map<string, TracedDraft>();
    const conflicts: TracedDraft[] = [];
    const log: SyncLogEntry[] = [];

    for (const { message, record } of batch.messages) {
      this.stats.messages += 1;
      const key = `${message.tenantId}/${message.data.entityId}`;
      const sync = await this.syncFor(message);
      const current = working.get(key);
      if (!sync || !current) {
        log.push({ tenantId: message.tenantId, entityId: message.data.entityId, systemId: message.origin, action: 'skipped', detail: { reason: `no sync configured for ${message.data.entityType}s of tenant ${message.tenantId}`, eventId: message.eventId } });
        continue;
      }
      const { inboxOffset } = current.stored;
      if (inboxOffset !== null && BigInt(record.offset) <= BigInt(inboxOffset)) {
        this.stats.redelivered += 1;
        continue;
      }
      // The batch's working states are its own (decoded for it, or left by its previous message), and
      // a batch that fails is dropped whole and loaded afresh: each state may change in place.
      const outcome = reconcile(current.stored.entity, message, sync, { owned: true });
      current.stored = { entity: outcome.state, inboxOffset: record.offset };
      current.dirty = true;
      const parentTrace = record.headers[TRACEPARENT];
      const traced = (draft: MessageDraft): TracedDraft => (parentTrace === undefined ? { draft } : { draft, parentTrace });
      for (const command of outcome.commands) {
        const topic = this.topics.apply(command.data.target);
        const entries = commands.get(topic);
        if (entries) entries.push(traced(command));
        else commands.set(topic, [traced(command)]);
      }
      if (outcome.resolved) resolved.set(key, traced(outcome.resolved));
      conflicts.push(...outcome.conflicts.map(traced));
      this.stats.applied += outcome.skipped ? 0 : 1;
      this.stats.commands += outcome.commands.length;
      this.stats.conflicts += outcome.conflicts.length;
      this.stats.pendingConflicts += outcome.conflicts.filter((c) => c.data.status === 'pending').length;
      log.push(logEntry(message, outcome.skipped, outcome.commands.length, outcome.conflicts.length));
    }

    await this.timings.time('publish', () =>
      publication.publishAll([
        ...[...commands].map(([topic, entries]) => ({ topic, entries })),
        { topic: this.topics.resolved, entries: [...resolved.values()] },
        { topic: this.topics.conflicts, entries: conflicts },
      ]),
    );
    await this.timings.time('save', () => this.save(working, conflicts, log));
  }

  private async save(working: Map<string, Working>, conflicts: TracedDraft[], log: SyncLogEntry[]): Promise<void> {
    await this.db.transaction(async (tx) => {
      const dirty = [...working.values()].filter((entry) => entry.dirty);
      await new EntityStateRepository<StoredEntityRecord>(tx).saveMany(
        dirty.map(({ stored, rev }) => ({
          tenantId: stored.entity.tenantId,
          entityId: stored.entity.entityId,
          entityType: stored.entity.entityType,
          version: stored.entity.version,
          deleted: stored.entity.deleted !== null,
          state: encodeStoredEntity(stored),
          expectedRev: rev,
        })),
      );
      await new ConflictLogRepository(tx).record(
        conflicts.map(({ draft }) => draft as MessageDraft<'conflict'>).map((c) => ({ ...c.data, tenantId: c.tenantId, occurredAt: c.occurredAt })),
      );
      await new SyncLogRepository(tx).append(log);
    });
  }

  private async load(batch: MessageBatch<ReconcilerInput>): Promise<Map<string, Working>> {
    const byTenant = new Map<string, Set<string>>();
    for (const { message } of batch.messages) {
      const ids = byTenant.get(message.tenantId) ?? new Set<string>();
      ids.add(message.data.entityId);
      byTenant.set(message.tenantId, ids);
    }
    const repository = new EntityStateRepository<StoredEntityRecord>(this.db);
    const working = new Map<string, Working>();
    for (const [tenantId, ids] of byTenant) {
      const loaded = await repository.loadMany(tenantId, [...ids]);
      for (const id of ids) {
        const found = loaded.get(id);
        working.set(`${tenantId}/${id}`, found ? { stored: decodeStoredEntity(found.state), rev: found.rev, dirty: false } : { stored: { entity: emptyEntityState(tenantId, 'contact', id), inboxOffset: null }, rev: null, dirty: false });
      }
    }
    for (const { message } of batch.messages) {
      const entry = working.get(`${message.tenantId}/${message.data.entityId}`);
      if (entry && entry.rev === null) entry.stored.entity.entityType = message.data.entityType;
    }
    return working;
  }

  /** A sync added since the last refresh is picked up on first sight of its entities. */
  private async syncFor(message: ReconcilerInput) {
    const found = this.catalog.forEntity(message.tenantId, message.data.entityType);
    if (found) return found;
    await this.catalog.refresh();
    return this.catalog.forEntity(message.tenantId, message.data.entityType);
  }
}

function logEntry(message: ReconcilerInput, skipped: string | null, commands: number, conflicts: number): SyncLogEntry {
  const systemId = message.type === 'apply.result' ? message.data.target : message.origin;
  const action =
    message.type === 'change'
      ? skipped ? 'change.ignored' : 'change.applied'
      : message.type === 'apply.result'
        ? `apply.${message.data.outcome}`
        : 'conflict.decided';
  const detail: Record<string, unknown> = { eventId: message.eventId, commands, conflicts };
  // What happened where, so that an entity's story can be read from the log alone.
  if (message.type === 'change') Object.assign(detail, { operation: message.data.operation, recordId: message.data.recordId, fields: Object.keys(message.data.fields) });
  if (message.type === 'apply.result') Object.assign(detail, { recordId: message.data.recordId, version: message.data.version });
  if (skipped) detail['reason'] = skipped;
  if (message.type === 'apply.result' && message.data.error) detail['error'] = message.data.error;
  return { tenantId: message.tenantId, entityId: message.data.entityId, systemId, action, detail };
}
