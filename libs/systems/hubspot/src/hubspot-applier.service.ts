import { RECORD_EXISTS, RECORD_MISSING, type FieldValue, type FieldValues } from '@tandem/contracts';
import { contactModifiedAtMs } from './contact-record.util';
import { HubSpotApiError, HubSpotApiErrorCode, isHubSpotApiError } from './hubspot-api.error';
import { changedNothing } from './hubspot-failure.util';
import { BATCH_LIMIT, chunks, type BatchReadResult, type BatchWriteResult, type HubSpotClient, type HubSpotProperties } from './hubspot-client.service';
import type { BatchError, HubSpotContact } from './hubspot-response.schema';

/** One apply command, as the applier pipeline hands it over (the envelope's eventId as `commandId`). */
export interface HubSpotApplyInput {
  commandId: string;
  entityId: string;
  recordId: string | null;
  operation: 'upsert' | 'delete';
  version: number;
  fields: FieldValues;
  /** For a create: the contact the connector has since linked to the entity, if any. */
  matchedRecordId?: string | null;
}

export interface HubSpotApplyOutcome {
  commandId: string;
  /** The contact id (the new one after a create). */
  recordId: string | null;
  outcome: 'applied' | 'stale' | 'failed';
  /** The command's properties as HubSpot now holds them; empty when nothing was written. */
  fields: FieldValues;
  /** Only per-input failures a retry cannot fix; transient failures throw instead. */
  error: { code: string; message: string; retryable: boolean } | null;
  /** The contact's lastmodifieddate after the write (epoch ms, decimal); null for archives. */
  position: string | null;
}

/** Why one command failed. */
export enum HubSpotApplyFailureCode {
  /** HubSpot refused a value (an invalid email, an unknown property, ...). */
  InvalidValue = 'invalid_value',
  /** The contact to update no longer exists (or is archived). */
  RecordMissing = RECORD_MISSING,
  /** HubSpot refused the write as conflicting, e.g. a create for an email another contact has. */
  Conflict = 'conflict',
  /**
   * A create found a contact with its email that Tandem has not linked (a person made it meanwhile,
   * or an earlier attempt whose result was lost): written over, that contact's own values would be
   * lost without a record, so it is left for its connector's report, which links and reconciles it.
   * Once that report has linked it to the create's entity, the create writes to it instead.
   */
  RecordExists = RECORD_EXISTS,
  /** HubSpot refused the input for another reason. */
  Rejected = 'rejected',
  /** The command itself is malformed (version, record id or a value). */
  InvalidCommand = 'invalid_command',
}

/**
 * How much later than its request's answer was due an archive can still be an attempt's own: HubSpot
 * may finish a request the client gave up on, and its clock is not the applier's.
 */
const ARCHIVE_MARGIN_MS = 5_000;

export type HubSpotApplierClient = Pick<HubSpotClient, 'batchRead' | 'batchUpdate' | 'batchUpsert' | 'batchCreate' | 'batchArchive' | 'probe'>;

type WriteKind = 'update' | 'upsert' | 'create';

/** What one entity's commands in a batch come to, after merging them in order. */
interface EntityWrite {
  kind: WriteKind;
  /** The contact id (update) or email (upsert). */
  key: string | null;
  properties: HubSpotProperties;
  commands: HubSpotApplyInput[];
}

/**
 * Where an applier remembers the delete commands it sent archives for, beyond its own lifetime, each
 * by a key naming the command and its entity (command ids repeat across tenants), with the latest
 * time (ms since the epoch) HubSpot can have made their archives.
 */
export interface ArchiveAttempts {
  /** Those of these keys whose archives were sent before, each with the time its archive was made by. */
  attempted(keys: string[]): Promise<Map<string, number>>;
  /** Remembers these keys, their archives made by `archivedBy`; called before each send. A later time replaces an earlier one. */
  remember(keys: string[], archivedBy: number): Promise<void>;
  /** Forgets these keys: their archives were refused before HubSpot did anything. */
  forget(keys: string[]): Promise<void>;
}

type WriteResult = { ok: true; contact: HubSpotContact } | { ok: false; code: HubSpotApplyFailureCode; message: string };

/**
 * Writes apply commands to HubSpot contacts through the batch endpoints: updates for known ids,
 * upserts by email for new contacts that have one (so a retried create never makes a second
 * contact), creates for the rest, and archives for deletes, at most 100 inputs per call. A create
 * whose email HubSpot already holds is not written over (see `RecordExists`). A batch
 * HubSpot rejects whole is split until the bad inputs are isolated, so the others still apply.
 * Transient failures (5xx, timeouts, network, persistent 429) throw a retryable `HubSpotApiError`:
 * retrying the whole batch is safe because updates are idempotent and creates upsert by email.
 */
export class HubSpotApplier {
  constructor(
    private readonly client: HubSpotApplierClient,
    /** The deletes sent archives for, so that a retry, also after a restart, knows an archive as its own. */
    private readonly archiveAttempts: ArchiveAttempts,
  ) {}

  /**
   * Archives contacts and gives each the position of its archive. HubSpot answers an archive with no
   * time and archives an archived contact again without a word, so the contacts are read before and
   * after: one archived before the call was archived by an earlier attempt of these deletes (a retry)
   * or by someone else, whose deletion report must then read as theirs, so the position is just after
   * it; else it is the time HubSpot gives the archive. An edit HubSpot reports from before that
   * position was overwritten by the delete; one from after it restored the contact.
   */
  private async archive(chunk: ReadonlyArray<{ recordId: string; commands: HubSpotApplyInput[] }>): Promise<Map<string, string>> {
    const ids = chunk.map(({ recordId }) => recordId);
    const archivedBefore = archivedTimes(await this.client.batchRead(ids, [], { archived: true }));
    // Command ids are unique within a tenant; with the entity's id they are unique across tenants.
    const attemptOf = (command: HubSpotApplyInput) => `${command.entityId}/${command.commandId}`;
    const attempts = chunk.flatMap(({ commands }) => commands.map(attemptOf));
    const attempted = await this.archiveAttempts.attempted(attempts);
    // Only what this call can archive is remembered: a contact someone else archived before the first
    // attempt stays theirs when the batch is tried again (after an outage, or by a restarted applier).
    const liveChunk = chunk.filter(({ recordId }) => !archivedBefore.has(recordId));
    const live = liveChunk.map(({ recordId }) => recordId);
    const remembered = liveChunk.flatMap(({ commands }) => commands.map(attemptOf));
    const sentAt = Date.now();
    try {
      await this.client.batchArchive(ids, (answeredBy) => this.archiveAttempts.remember(remembered, answeredBy + ARCHIVE_MARGIN_MS));
    } catch (error) {
      // Refused untouched: a person's archive before the retry must not read as this attempt's.
      if (changedNothing(error)) await this.archiveAttempts.forget(remembered);
      throw error;
    }
    const archivedNow = live.length === 0 ? new Map<string, number>() : archivedTimes(await this.client.batchRead(live, [], { archived: true }));
    const positions = new Map<string, string>();
    for (const { recordId, commands } of chunk) {
      const before = archivedBefore.get(recordId);
      // Live before the call and not archived after it (restored at once): archived no earlier than the call.
      if (before === undefined) positions.set(recordId, String(archivedNow.get(recordId) ?? sentAt));
      else {
        // An earlier attempt of these deletes made that archive only if it came before that attempt was answered.
        const ours = commands.some((command) => before <= (attempted.get(attemptOf(command)) ?? -Infinity));
        positions.set(recordId, String(ours ? before : before + 1));
      }
    }
    return positions;
  }

  /** A cheap call proving HubSpot answers, for the circuit breaker's half-open probe. */
  probe(): Promise<void> {
    return this.client.probe();
  }

  async apply(commands: readonly HubSpotApplyInput[]): Promise<HubSpotApplyOutcome[]> {
    const outcomes = new Map<HubSpotApplyInput, HubSpotApplyOutcome>();
    const valid = commands.filter((command) => {
      const problem = validateCommand(command);
      if (problem !== null) outcomes.set(command, failed(command, command.recordId || null, HubSpotApplyFailureCode.InvalidCommand, problem));
      return problem === null;
    });
    const archives: Array<{ recordId: string; commands: HubSpotApplyInput[] }> = [];
    const writes: EntityWrite[] = [];
    for (const entityCommands of groupByEntity(valid)) {
      const plan = planEntity(entityCommands, outcomes);
      if (plan.archive !== null) archives.push(plan.archive);
      if (plan.write !== null) writes.push(plan.write);
      for (const command of plan.nothingToDo) outcomes.set(command, applied(command, null, {}, null));
    }

    // Archives first: a delete followed by a re-create of the same email must not archive the new contact.
    for (const chunk of chunks(archives, BATCH_LIMIT)) {
      const positions = await this.archive(chunk);
      for (const { recordId, commands: archived } of chunk) {
        for (const command of archived) outcomes.set(command, applied(command, recordId, {}, positions.get(recordId)!));
      }
    }
    const existing = await this.existingContacts(writes.filter((write) => write.kind === 'upsert'));
    for (const [write, contact] of existing) {
      // Its connector has reported the contact and linked it to this entity, so its values are the
      // entity's to weigh: the create carries on as an update of it, as a retried create should.
      if (write.commands.some((command) => command.matchedRecordId === contact.id)) {
        existing.delete(write);
        write.kind = 'update';
        write.key = contact.id;
        continue;
      }
      const message = `HubSpot already has contact ${contact.id} with email ${write.key}, not linked to this entity; its own report links it`;
      for (const command of write.commands) outcomes.set(command, failed(command, contact.id, HubSpotApplyFailureCode.RecordExists, message));
    }
    for (const kind of ['update', 'upsert', 'create'] as const) {
      for (const call of writeCalls(writes.filter((write) => write.kind === kind && !existing.has(write)))) {
        const results = await this.writeIsolated(kind, call);
        for (const write of call) {
          const result = results.get(write);
          for (const command of write.commands) {
            outcomes.set(command, result === undefined ? lostInput(command, write) : toOutcome(command, write, result));
          }
        }
      }
    }
    return commands.map((command) => outcomes.get(command) ?? failed(command, command.recordId, HubSpotApplyFailureCode.Rejected, 'no outcome'));
  }

  /** The contacts HubSpot already holds with the emails of these creates, by create. */
  private async existingContacts(creates: EntityWrite[]): Promise<Map<EntityWrite, HubSpotContact>> {
    const found = new Map<EntityWrite, HubSpotContact>();
    if (creates.length === 0) return found;
    const { results } = await this.client.batchRead(creates.map((write) => write.key ?? ''), ['email'], { idProperty: 'email' });
    for (const write of creates) {
      const contact = results.find((each) => sameText(each.properties['email'], write.key));
      if (contact) found.set(write, contact);
    }
    return found;
  }

  /**
   * One batch call; when HubSpot rejects it whole, or leaves inputs out without saying why, the
   * inputs in question are sent again in halves until each bad one stands alone.
   */
  private async writeIsolated(kind: WriteKind, writes: EntityWrite[]): Promise<Map<EntityWrite, WriteResult>> {
    const results = new Map<EntityWrite, WriteResult>();
    let response: BatchWriteResult;
    try {
      response = await this.send(kind, writes);
    } catch (error) {
      if (!isInputRejection(error)) throw error;
      if (writes.length === 1) {
        results.set(writes[0]!, { ok: false, code: failureCode(error.category, error.status), message: error.message });
        return results;
      }
      const middle = Math.ceil(writes.length / 2);
      for (const half of [writes.slice(0, middle), writes.slice(middle)]) {
        for (const [write, result] of await this.writeIsolated(kind, half)) results.set(write, result);
      }
      return results;
    }

    const matched = matchResults(kind, writes, response.results);
    const unexplained: EntityWrite[] = [];
    for (const write of writes) {
      const contact = matched.get(write);
      const error = contact ? undefined : response.errors.find((each) => errorNames(each, write));
      if (contact) results.set(write, { ok: true, contact });
      else if (error) results.set(write, { ok: false, code: failureCode(error.category ?? null, null), message: error.message });
      // A create is never sent again: it may have been made without our recognising its result.
      else if (kind !== 'create' && writes.length > 1) unexplained.push(write);
    }
    if (unexplained.length > 0) {
      const retried = unexplained.length === writes.length
        ? [unexplained.slice(0, Math.ceil(unexplained.length / 2)), unexplained.slice(Math.ceil(unexplained.length / 2))]
        : [unexplained];
      for (const part of retried) {
        for (const [write, result] of await this.writeIsolated(kind, part)) results.set(write, result);
      }
    }
    return results;
  }

  private send(kind: WriteKind, writes: EntityWrite[]): Promise<BatchWriteResult> {
    switch (kind) {
      case 'update':
        return this.client.batchUpdate(writes.map((write) => ({ id: write.key ?? '', properties: write.properties })));
      case 'upsert':
        return this.client.batchUpsert(writes.map((write) => ({ email: write.key ?? '', properties: write.properties })));
      case 'create':
        return this.client.batchCreate(writes.map((write) => ({ properties: write.properties })));
    }
  }
}

function validateCommand(command: HubSpotApplyInput): string | null {
  if (!Number.isSafeInteger(command.version) || command.version < 1) return `version ${command.version} is not a positive integer`;
  if (command.recordId === '') return 'record id is empty';
  if (command.recordId !== null && !/^\d+$/.test(command.recordId)) return `record id ${command.recordId} is not a HubSpot contact id`;
  const bad = Object.entries(command.fields).find(([, value]) => typeof value === 'number' && !Number.isFinite(value));
  return bad ? `value of ${bad[0]} is not a finite number` : null;
}

/** Commands grouped by entity, each group in input order. */
function groupByEntity(commands: readonly HubSpotApplyInput[]): HubSpotApplyInput[][] {
  const groups = new Map<string, HubSpotApplyInput[]>();
  for (const command of commands) {
    const key = command.entityId.toLowerCase();
    const group = groups.get(key);
    if (group) group.push(command);
    else groups.set(key, [command]);
  }
  return [...groups.values()];
}

interface EntityPlan {
  archive: { recordId: string; commands: HubSpotApplyInput[] } | null;
  write: EntityWrite | null;
  /** Deletes of a contact that never existed here: already what was asked. */
  nothingToDo: HubSpotApplyInput[];
}

/**
 * Folds one entity's commands in order: a command not newer than one before it is stale; the last
 * delete archives its contact unless a later upsert writes to that same contact; the upserts after
 * it merge, later values winning. Every command is reported with the write that carried it.
 */
function planEntity(commands: HubSpotApplyInput[], outcomes: Map<HubSpotApplyInput, HubSpotApplyOutcome>): EntityPlan {
  const live: HubSpotApplyInput[] = [];
  let newest = 0;
  let knownRecordId: string | null = null;
  for (const command of commands) {
    if (command.version <= newest) {
      outcomes.set(command, { commandId: command.commandId, recordId: command.recordId ?? knownRecordId, outcome: 'stale', fields: {}, error: null, position: null });
      continue;
    }
    newest = command.version;
    knownRecordId = command.recordId ?? knownRecordId;
    live.push(command);
  }
  const lastDelete = live.map((command) => command.operation).lastIndexOf('delete');
  const deletes = lastDelete === -1 ? [] : live.slice(0, lastDelete + 1);
  const upserts = live.slice(lastDelete + 1);
  const deletedRecordId = [...deletes].reverse().find((command) => command.recordId !== null)?.recordId ?? null;
  // A command naming no contact after one that named it: the reconciler learned that contact is gone
  // (archived here) and sends the whole record to be created again.
  const lastNamed = upserts.map((command) => command.recordId !== null).lastIndexOf(true);
  const recreates = lastNamed !== -1 && upserts.slice(lastNamed + 1).some((command) => command.recordId === null);
  const targetRecordId = recreates ? null : (upserts[lastNamed]?.recordId ?? null);

  let write: EntityWrite | null = null;
  if (upserts.length > 0) {
    const properties: HubSpotProperties = {};
    for (const command of upserts) Object.assign(properties, toProperties(command.fields));
    const email = typeof properties['email'] === 'string' ? properties['email'].trim() : '';
    // Before a delete the contact's id carries on; after one, only an upsert naming an id updates.
    const recordId = targetRecordId ?? (lastDelete === -1 && !recreates ? knownRecordId : null);
    write =
      recordId !== null
        ? { kind: 'update', key: recordId, properties, commands: upserts }
        : email !== ''
          ? { kind: 'upsert', key: email, properties, commands: upserts }
          : { kind: 'create', key: null, properties, commands: upserts };
    if (deletedRecordId !== null && deletedRecordId === recordId) {
      // The contact is deleted and written again: only the write remains.
      write.commands = [...deletes, ...upserts];
      return { archive: null, write, nothingToDo: [] };
    }
  }
  if (deletes.length === 0) return { archive: null, write, nothingToDo: [] };
  if (deletedRecordId === null) return { archive: null, write, nothingToDo: deletes };
  return { archive: { recordId: deletedRecordId, commands: deletes }, write, nothingToDo: [] };
}

/** HubSpot properties are strings; null clears. */
function toProperties(fields: FieldValues): HubSpotProperties {
  const properties: HubSpotProperties = {};
  for (const [name, value] of Object.entries(fields)) properties[name] = toPropertyValue(value);
  return properties;
}

function toPropertyValue(value: FieldValue): string | null {
  return value === null ? null : String(value);
}

/**
 * Splits writes into calls of at most 100 inputs, with no email twice in one upsert call (HubSpot
 * rejects duplicate ids in a batch); a repeated email goes into a later call.
 */
function writeCalls(writes: EntityWrite[]): EntityWrite[][] {
  const calls: Array<{ writes: EntityWrite[]; emails: Set<string> }> = [];
  for (const write of writes) {
    const email = write.kind === 'upsert' ? (write.key ?? '').toLowerCase() : null;
    let call = calls.find((each) => each.writes.length < BATCH_LIMIT && (email === null || !each.emails.has(email)));
    if (!call) {
      call = { writes: [], emails: new Set() };
      calls.push(call);
    }
    call.writes.push(write);
    if (email !== null) call.emails.add(email);
  }
  return calls.map((call) => call.writes);
}

/**
 * Pairs results with inputs: updates by id, upserts by email, creates by their written values (HubSpot
 * does not promise result order), any creates left over in order.
 */
function matchResults(kind: WriteKind, writes: EntityWrite[], results: HubSpotContact[]): Map<EntityWrite, HubSpotContact> {
  const matched = new Map<EntityWrite, HubSpotContact>();
  const unused = new Set(results);
  const take = (write: EntityWrite, accepts: (contact: HubSpotContact) => boolean): void => {
    const contact = [...unused].find(accepts);
    if (contact === undefined) return;
    unused.delete(contact);
    matched.set(write, contact);
  };
  for (const write of writes) {
    if (kind === 'update') take(write, (contact) => contact.id === write.key);
    else if (kind === 'upsert') take(write, (contact) => sameText(contact.properties['email'], write.key));
    else take(write, (contact) => Object.entries(write.properties).every(([name, value]) => sameText(contact.properties[name], value)));
  }
  if (kind === 'create') {
    const leftover = writes.filter((write) => !matched.has(write));
    const spare = [...unused];
    if (leftover.length === spare.length) leftover.forEach((write, index) => matched.set(write, spare[index]!));
  }
  return matched;
}

/** HubSpot may normalise what it stores (emails lowercased, spaces trimmed). */
function sameText(held: string | null | undefined, written: string | null | undefined): boolean {
  return (held ?? '').trim().toLowerCase() === (written ?? '').trim().toLowerCase();
}

/** Whether a batch error names this input, in its context (ids, emails, ...) or, for emails, its message. */
function errorNames(error: BatchError, write: EntityWrite): boolean {
  const names = new Set(Object.values(error.context ?? {}).flat().map((name) => name.trim().toLowerCase()));
  const email = write.properties['email']?.trim().toLowerCase() ?? null;
  if (write.key !== null && names.has(write.key.toLowerCase())) return true;
  if (email !== null && email !== '' && (names.has(email) || error.message.toLowerCase().includes(email))) return true;
  return false;
}

/** A whole call refused for its inputs' sake: worth splitting. Auth, daily-limit and malformed answers are not. */
function isInputRejection(error: unknown): error is HubSpotApiError {
  return (
    isHubSpotApiError(error) &&
    !error.retryable &&
    (error.code === HubSpotApiErrorCode.Validation || error.code === HubSpotApiErrorCode.NotFound || error.code === HubSpotApiErrorCode.Conflict)
  );
}

function failureCode(category: string | null, status: number | null): HubSpotApplyFailureCode {
  if (category === 'OBJECT_NOT_FOUND' || status === 404) return HubSpotApplyFailureCode.RecordMissing;
  if (category === 'CONFLICT' || status === 409) return HubSpotApplyFailureCode.Conflict;
  if (category === 'VALIDATION_ERROR' || status === 400) return HubSpotApplyFailureCode.InvalidValue;
  return HubSpotApplyFailureCode.Rejected;
}

function toOutcome(command: HubSpotApplyInput, write: EntityWrite, result: WriteResult): HubSpotApplyOutcome {
  if (!result.ok) return failed(command, write.kind === 'update' ? write.key : command.recordId, result.code, result.message);
  const { contact } = result;
  const fields: FieldValues = {};
  if (command.operation === 'upsert') {
    for (const name of Object.keys(command.fields)) {
      // A property the answer leaves out is taken as written.
      fields[name] = name in contact.properties ? (contact.properties[name] ?? null) : (write.properties[name] ?? null);
    }
  }
  const modifiedAtMs = contactModifiedAtMs(contact);
  return applied(command, contact.id, fields, modifiedAtMs === null ? null : String(modifiedAtMs));
}

/** An input HubSpot neither wrote nor refused in a way we could attribute. */
function lostInput(command: HubSpotApplyInput, write: EntityWrite): HubSpotApplyOutcome {
  return failed(
    command,
    command.recordId,
    HubSpotApplyFailureCode.Rejected,
    `HubSpot returned no result and no error for this ${write.kind}${write.kind === 'create' ? ' (not sent again, so as not to create it twice)' : ''}`,
  );
}

function applied(command: HubSpotApplyInput, recordId: string | null, fields: FieldValues, position: string | null): HubSpotApplyOutcome {
  return { commandId: command.commandId, recordId, outcome: 'applied', fields, error: null, position };
}

function failed(command: HubSpotApplyInput, recordId: string | null, code: HubSpotApplyFailureCode, message: string): HubSpotApplyOutcome {
  return { commandId: command.commandId, recordId, outcome: 'failed', fields: {}, error: { code, message, retryable: false }, position: null };
}

/** When HubSpot archived each contact read with `archived: true` (epoch ms). */
function archivedTimes({ results }: BatchReadResult): Map<string, number> {
  return new Map(results.flatMap((contact) => (contact.archivedAt ? [[contact.id, Date.parse(contact.archivedAt)] as const] : [])));
}
