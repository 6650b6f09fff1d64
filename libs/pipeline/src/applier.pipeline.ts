import type { DeadLetter, FieldValues, MessageDraft, MessageOf } from '@tandem/contracts';
import type { MessageBatch, Publisher, TopicNames } from '@tandem/messaging';
import { IdentityRepository, RecordErrorRepository, type SqlClient } from '@tandem/state';
import { StageTimings } from './stage-timings.util';

export interface ApplyInput {
  commandId: string;
  entityId: string;
  recordId: string | null;
  operation: 'upsert' | 'delete';
  version: number;
  fields: FieldValues;
  /**
   * For a create (no record id): the record the entity is already linked to in this system. The
   * same contact entered here and elsewhere at once is matched by the connector while the create is
   * on its way; a target that can should write to that record rather than make a second one.
   */
  matchedRecordId: string | null;
}

export interface ApplyOutcome {
  commandId: string;
  recordId: string | null;
  outcome: 'applied' | 'stale' | 'failed';
  fields: FieldValues;
  error: { code: string; message: string; retryable: boolean } | null;
  /** The target's change position after the write, where it has one. */
  position: string | null;
}

/** A target system's writer: applies a batch idempotently and reports per command. */
export interface ApplyTarget {
  apply(commands: ApplyInput[]): Promise<ApplyOutcome[]>;
}

/** Runs a call to the target through its circuit breaker and retries; rejects when it cannot now. */
export type TargetCall = <T>(call: () => Promise<T>) => Promise<T>;

export interface ApplierStats {
  commands: number;
  applied: number;
  stale: number;
  failed: number;
}

/**
 * Applies one partition's batch of commands to a target. A command the target rejects for good goes to
 * the dead-letter topic and the per-record error log; every command gets an apply result on the
 * changes topic, so the reconciler learns what the target holds. When the target itself is down the
 * call rejects, nothing is committed, and the batch comes back once the breaker lets it.
 */
export class ApplierPipeline {
  readonly stats: ApplierStats = { commands: 0, applied: 0, stale: 0, failed: 0 };
  readonly timings = new StageTimings();

  constructor(
    private readonly db: SqlClient,
    private readonly systemId: string,
    private readonly target: ApplyTarget,
    private readonly call: TargetCall,
    private readonly publisher: Publisher,
    private readonly topics: TopicNames,
    private readonly service: string,
  ) {}

  async handle(batch: MessageBatch<MessageOf<'apply.command'>>): Promise<void> {
    const mine = batch.messages.filter(({ message }) => message.data.target === this.systemId);
    const misrouted = batch.messages.filter(({ message }) => message.data.target !== this.systemId);
    const matched = await this.timings.time('match', () => this.matchedRecords(mine.map(({ message }) => message)));
    const outcomes = await this.timings.time('apply', () => this.call(() =>
      this.target.apply(
        mine.map(({ message }) => ({
          commandId: message.eventId,
          entityId: message.data.entityId,
          recordId: message.data.recordId,
          operation: message.data.operation,
          version: message.data.version,
          fields: message.data.fields,
          matchedRecordId: matched.get(`${message.tenantId}\u0000${message.data.entityId.toLowerCase()}`) ?? null,
        })),
      ),
    ));

    await this.timings.time('link', () => this.linkCreatedRecords(mine.map(({ message }) => message), outcomes));
    const results: MessageDraft<'apply.result'>[] = [];
    const letters: DeadLetter[] = misrouted.map(({ record }) =>
      deadLetter(record, 'wrong_target', `command for another target sent to ${this.systemId}'s topic`, this.service),
    );
    const errors: Parameters<RecordErrorRepository['record']>[0] = [];
    mine.forEach(({ message, record }, index) => {
      const outcome = outcomes[index];
      if (!outcome) throw new Error(`target ${this.systemId} returned no outcome for command ${message.eventId}`);
      this.stats.commands += 1;
      this.stats[outcome.outcome] += 1;
      results.push({
        type: 'apply.result',
        eventId: `${message.eventId}>result`,
        tenantId: message.tenantId,
        occurredAt: new Date().toISOString(),
        origin: this.systemId,
        data: {
          commandId: message.eventId,
          target: this.systemId,
          entityType: message.data.entityType,
          entityId: message.data.entityId,
          recordId: outcome.recordId,
          version: message.data.version,
          outcome: outcome.outcome,
          fields: outcome.fields,
          error: outcome.error,
          position: outcome.position,
        },
      });
      if (outcome.outcome === 'failed' && outcome.error) {
        letters.push(deadLetter(record, outcome.error.code, outcome.error.message, this.service));
        errors.push({
          tenantId: message.tenantId,
          systemId: this.systemId,
          entityId: message.data.entityId,
          recordId: message.data.recordId,
          commandId: message.eventId,
          code: outcome.error.code,
          message: outcome.error.message,
          payload: message,
        });
      }
    });
    await this.timings.time('publish', () =>
      Promise.all([this.publisher.publish(this.topics.changes, results), this.publisher.deadLetter(this.topics.deadLetters, letters)]),
    );
    if (errors.length > 0) await new RecordErrorRepository(this.db).record(errors);
  }

  /** The records this system already has linked to the entities of the batch's creates, by tenant and entity. */
  private async matchedRecords(commands: MessageOf<'apply.command'>[]): Promise<Map<string, string>> {
    const creates = new Map<string, Set<string>>();
    for (const command of commands) {
      if (command.data.operation !== 'upsert' || command.data.recordId !== null) continue;
      creates.set(command.tenantId, (creates.get(command.tenantId) ?? new Set()).add(command.data.entityId));
    }
    const matched = new Map<string, string>();
    const identities = new IdentityRepository(this.db);
    for (const [tenantId, entityIds] of creates) {
      for (const [entityId, links] of await identities.linksOf(tenantId, [...entityIds])) {
        const link = links.find((each) => each.systemId === this.systemId);
        if (link) matched.set(`${tenantId}\u0000${entityId.toLowerCase()}`, link.recordId);
      }
    }
    return matched;
  }

  /**
   * Links records the target created to their entities at once, before their echo can come back
   * through the target's connector, which must find the entity rather than start a new one.
   */
  private async linkCreatedRecords(commands: MessageOf<'apply.command'>[], outcomes: ApplyOutcome[]): Promise<void> {
    const byScope = new Map<string, { tenantId: string; entityType: string; links: { recordId: string; entityId: string }[] }>();
    commands.forEach((command, index) => {
      const outcome = outcomes[index];
      if (outcome?.outcome !== 'applied' || outcome.recordId === null || outcome.recordId === command.data.recordId) return;
      const key = `${command.tenantId}\u0000${command.data.entityType}`;
      const scope = byScope.get(key) ?? { tenantId: command.tenantId, entityType: command.data.entityType, links: [] };
      scope.links.push({ recordId: outcome.recordId, entityId: command.data.entityId });
      byScope.set(key, scope);
    });
    const identities = new IdentityRepository(this.db);
    for (const { tenantId, entityType, links } of byScope.values()) await identities.relink(tenantId, entityType, this.systemId, links);
  }
}

function deadLetter(
  record: MessageBatch<unknown>['messages'][number]['record'],
  code: string,
  reason: string,
  service: string,
): DeadLetter {
  return {
    sourceTopic: record.topic,
    partition: record.partition,
    offset: record.offset,
    key: record.key,
    code,
    reason,
    payload: record.value?.toString('utf8') ?? '',
    failedAt: new Date().toISOString(),
    service,
  };
}
