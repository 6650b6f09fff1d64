import type { DeadLetter, FieldValues, MessageDraft, MessageOf } from '@tandem/contracts';
import type { MessageBatch, Publisher, TopicNames } from '@tandem/messaging';
import { AppliedVersionRepository, CreateIntentRepository, IdentityRepository, normalizeMatchKey, RecordErrorRepository, type SqlClient } from '@tandem/state';
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
  /**
   * For a create with no record linked in this system: the column carrying the sync's match key and
   * the value the create writes there, normalized like a match key (see `normalizeMatchKey`). A
   * person may have entered the same contact here while this system's connector lagged; a target
   * that can should write to such a record (one Tandem did not create) rather than make a second one.
   */
  matchBy: { column: string; value: string } | null;
}

export interface ApplierPipelineOptions {
  /** Lets the target find a record a person entered for an entity being created (see `ApplyInput.matchBy`). */
  createMatch?: CreateMatch | null;
  /**
   * The target keeps no bookkeeping of Tandem's writes with the writes themselves (an API, unlike a
   * database written in one transaction with it), so the pipeline keeps it: the newest version
   * written per entity, so that an older command is answered stale rather than written over newer
   * edits; and the creates on their way (see `CreateIntentRepository`), so that the system's
   * connector knows a record Tandem made for an entity before the applier links it, or when the
   * applier dies in between.
   */
  tracksWrites?: boolean;
}

/** The native column a system carries the sync's match key in, and the key of a create's fields. */
export interface CreateMatch {
  entityType: string;
  column: string;
  keyOf(fields: FieldValues): string | null;
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
    private readonly options: ApplierPipelineOptions = {},
  ) {}

  async handle(batch: MessageBatch<MessageOf<'apply.command'>>): Promise<void> {
    const mine = batch.messages.filter(({ message }) => message.data.target === this.systemId);
    const misrouted = batch.messages.filter(({ message }) => message.data.target !== this.systemId);
    const stale = await this.timings.time('versions', () => this.staleCommands(mine.map(({ message }) => message)));
    const failedBefore = await this.timings.time('versions', () => this.failedBefore(mine.map(({ message }) => message)));
    const fresh = mine.filter(({ message }) => !stale.has(message.eventId) && !failedBefore.has(message.eventId));
    const matched = await this.timings.time('match', () => this.matchedRecords(fresh.map(({ message }) => message)));
    if (this.options.tracksWrites) await this.timings.time('announce', () => this.announceCreates(fresh.map(({ message }) => message)));
    const written = await this.timings.time('apply', () => this.call(() =>
      this.target.apply(
        fresh.map(({ message }) => ({
          commandId: message.eventId,
          entityId: message.data.entityId,
          recordId: message.data.recordId,
          operation: message.data.operation,
          version: message.data.version,
          fields: message.data.fields,
          matchedRecordId: matched.links.get(entityKey(message)) ?? null,
          matchBy: matched.keys.get(entityKey(message)) ?? null,
        })),
      ),
    ));
    const byCommand = new Map(fresh.map(({ message }, index) => [message.eventId, written[index]]));
    const outcomes = mine.map(({ message }) => stale.get(message.eventId) ?? failedBefore.get(message.eventId) ?? byCommand.get(message.eventId));
    if (this.options.tracksWrites) await this.timings.time('versions', () => this.recordVersions(mine.map(({ message }) => message), outcomes));

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
      if (outcome.outcome === 'failed' && outcome.error && !failedBefore.has(message.eventId)) {
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
    // Logged before the results go out, so a batch delivered again finds its failures answered.
    if (errors.length > 0) await new RecordErrorRepository(this.db).record(errors);
    await this.timings.time('publish', () =>
      Promise.all([this.publisher.publish(this.topics.changes, results), this.publisher.deadLetter(this.topics.deadLetters, letters)]),
    );
  }

  /**
   * With `tracksWrites`: the commands whose failure is in the error log and not redriven, answered
   * as they were. Written again, a create that failed would be folded into the later commands of its
   * entity, and its values would overwrite what those commands left alone.
   */
  private async failedBefore(commands: MessageOf<'apply.command'>[]): Promise<Map<string, ApplyOutcome>> {
    const failed = new Map<string, ApplyOutcome>();
    if (!this.options.tracksWrites || commands.length === 0) return failed;
    const log = new RecordErrorRepository(this.db);
    for (const [tenantId, tenantCommands] of groupByTenant(commands)) {
      for (const [commandId, error] of await log.unredrivenByCommand(tenantId, this.systemId, tenantCommands.map((command) => command.eventId))) {
        failed.set(commandId, { commandId, recordId: error.recordId, outcome: 'failed', fields: {}, error: { code: error.code, message: error.message, retryable: false }, position: null });
      }
    }
    return failed;
  }

  /**
   * With `tracksWrites`: the commands no newer than what this applier already wrote for their entity
   * (a batch redelivered after a crash, or a retry), as stale outcomes by command id.
   */
  private async staleCommands(commands: MessageOf<'apply.command'>[]): Promise<Map<string, ApplyOutcome>> {
    const stale = new Map<string, ApplyOutcome>();
    if (!this.options.tracksWrites || commands.length === 0) return stale;
    const versions = new AppliedVersionRepository(this.db);
    for (const [tenantId, tenantCommands] of groupByTenant(commands)) {
      const newest = await versions.newest(tenantId, this.systemId, [...new Set(tenantCommands.map((command) => command.data.entityId))]);
      for (const command of tenantCommands) {
        const written = newest.get(command.data.entityId.toLowerCase());
        if (!written || command.data.version > written.version) continue;
        // A delete names the record it removed, and where the newest delete of that record landed:
        // a report of the record's deletion from before that is the system's own. A write names the
        // record the newest write went to (a create's own result, lost with a crash, named the
        // record it made) and where that write landed: it carried this command's values, merged
        // with the later ones of its batch, so the system's report of that state is Tandem's.
        if (command.data.operation === 'delete') {
          const removed = written.lastDelete?.recordId === command.data.recordId ? written.lastDelete : null;
          stale.set(command.eventId, { commandId: command.eventId, recordId: command.data.recordId, outcome: 'stale', fields: {}, error: null, position: removed?.position ?? null });
          continue;
        }
        const recordId = written.recordId ?? command.data.recordId;
        stale.set(command.eventId, { commandId: command.eventId, recordId, outcome: 'stale', fields: {}, error: null, position: written.position });
      }
    }
    return stale;
  }

  /** Remembers the versions written, before their results go out (and their offsets are committed). */
  private async recordVersions(commands: MessageOf<'apply.command'>[], outcomes: Array<ApplyOutcome | undefined>): Promise<void> {
    const entries = commands.flatMap((command, index) => {
      const outcome = outcomes[index];
      if (outcome?.outcome !== 'applied') return [];
      return [
        {
          tenantId: command.tenantId,
          entityId: command.data.entityId,
          version: command.data.version,
          recordId: outcome.recordId,
          position: outcome.position,
          deletes: command.data.operation === 'delete',
        },
      ];
    });
    await new AppliedVersionRepository(this.db).record(this.systemId, entries);
  }

  /**
   * For the batch's creates, by tenant and entity: the record this system already has linked to the
   * entity, or else the match key the target may find a record of the entity by. A key counts only
   * while the registry gives it to this entity (or to none), so a record matched by it is one the
   * connector would link to the entity too.
   */
  private async matchedRecords(commands: MessageOf<'apply.command'>[]): Promise<{ links: Map<string, string>; keys: Map<string, { column: string; value: string }> }> {
    const creates = new Map<string, { tenantId: string; entityType: string; commands: MessageOf<'apply.command'>[] }>();
    for (const command of commands) {
      if (command.data.operation !== 'upsert' || command.data.recordId !== null) continue;
      const scope = `${command.tenantId}\u0000${command.data.entityType}`;
      const scoped = creates.get(scope);
      if (scoped) scoped.commands.push(command);
      else creates.set(scope, { tenantId: command.tenantId, entityType: command.data.entityType, commands: [command] });
    }
    const links = new Map<string, string>();
    const keys = new Map<string, { column: string; value: string }>();
    const identities = new IdentityRepository(this.db);
    for (const { tenantId, entityType, commands: scoped } of creates.values()) {
      const entityIds = [...new Set(scoped.map((command) => command.data.entityId))];
      // Only this system's records: a create's entity almost always has its others already.
      for (const [entityId, recordId] of await identities.recordIdsFor(tenantId, entityType, this.systemId, entityIds)) {
        links.set(`${tenantId}\u0000${entityId.toLowerCase()}`, recordId);
      }
      const match = this.options.createMatch;
      if (!match || entityType !== match.entityType) continue;
      const keyed = scoped.flatMap((command) => {
        if (links.has(entityKey(command))) return [];
        const key = match.keyOf(command.data.fields);
        const value = normalizeMatchKey(command.data.fields[match.column]);
        return key === null || value === null ? [] : [{ command, key, value }];
      });
      const owners = await identities.entitiesByMatchKey(tenantId, match.entityType, [...new Set(keyed.map(({ key }) => key))]);
      for (const { command, key, value } of keyed) {
        const owner = owners.get(key);
        if (owner === undefined || owner === command.data.entityId.toLowerCase()) keys.set(entityKey(command), { column: match.column, value });
      }
    }
    return { links, keys };
  }

  /**
   * Links records the target created to their entities at once, before their echo can come back
   * through the target's connector, which must find the entity rather than start a new one.
   */
  private async linkCreatedRecords(commands: MessageOf<'apply.command'>[], outcomes: Array<ApplyOutcome | undefined>): Promise<void> {
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
    const intents = new CreateIntentRepository(this.db, this.systemId);
    for (const { tenantId, entityType, links } of byScope.values()) {
      await identities.relink(tenantId, entityType, this.systemId, links);
      if (this.options.tracksWrites) await intents.settle(tenantId, links.map((link) => link.entityId));
    }
  }

  /** Announces the creates about to be sent, so the system's connector knows their records before they are linked. */
  private async announceCreates(commands: MessageOf<'apply.command'>[]): Promise<void> {
    const creates = commands.filter((command) => command.data.operation === 'upsert' && command.data.recordId === null);
    await new CreateIntentRepository(this.db, this.systemId).announce(
      creates.map((command) => ({ tenantId: command.tenantId, entityId: command.data.entityId, commandId: command.eventId })),
    );
  }
}

function groupByTenant(commands: MessageOf<'apply.command'>[]): Map<string, MessageOf<'apply.command'>[]> {
  const groups = new Map<string, MessageOf<'apply.command'>[]>();
  for (const command of commands) {
    const group = groups.get(command.tenantId);
    if (group) group.push(command);
    else groups.set(command.tenantId, [command]);
  }
  return groups;
}

function entityKey(command: MessageOf<'apply.command'>): string {
  return `${command.tenantId}\u0000${command.data.entityId.toLowerCase()}`;
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
