import {
  RECORD_EXISTS,
  RECORD_MISSING,
  type ConflictSide,
  type FieldValue,
  type FieldValues,
  type MessageDraft,
  type MessageOf,
  type Risk,
  type StrategyName,
} from '@tandem/contracts';
import { cloneState } from './clone-state.util';
import type { CompiledSync, CompiledSystem } from './compiled-sync';
import { decideField, type Contender } from './conflict-rules';
import {
  canonicalRecord,
  emptySystemState,
  WHOLE_RECORD,
  type EntityState,
  type PendingConflict,
  type SystemState,
  type WriteLanding,
} from './entity-state.model';

export type ReconcilerInput = MessageOf<'change' | 'apply.result' | 'conflict.decision'>;

export interface Reconciliation {
  state: EntityState;
  commands: MessageDraft<'apply.command'>[];
  resolved: MessageDraft<'resolved'> | null;
  conflicts: MessageDraft<'conflict'>[];
  /** Why the message changed nothing, when it did not (for the sync log). */
  skipped: string | null;
}

/** Writes kept per system awaiting confirmation; older ones are superseded by the newest. */
const MAX_PENDING_WRITES = 32;
const RECONCILER = 'reconciler';
/** Gone records a system's state remembers (deletes taken, records found missing): the newest few. */
const GONE_RECORDS_KEPT = 8;
/** Confirmed writes whose landing positions a system's state keeps. */
const LANDINGS_KEPT = 4;

export interface ReconcileOptions {
  /**
   * The caller gives `input` up: it keeps only the returned state, so the state is changed in place
   * instead of copied first. The messages a call returns share nothing with the state that a later
   * call could change.
   */
  owned?: boolean;
}

/**
 * Applies one message to one entity's state and says what must happen next. Deterministic: the same
 * state and message give the same result on every replica, with ids derived from the message, so a
 * redelivered batch produces identical commands that appliers recognise. `input` is left as it was
 * unless the caller gives it up (`owned`).
 */
export function reconcile(input: EntityState, message: ReconcilerInput, sync: CompiledSync, { owned = false }: ReconcileOptions = {}): Reconciliation {
  const run = new Run(owned ? input : cloneState(input), message, sync);
  switch (message.type) {
    case 'change':
      run.change(message);
      break;
    case 'apply.result':
      run.applyResult(message);
      break;
    case 'conflict.decision':
      run.decision(message);
      break;
  }
  return run.finish();
}

class Run {
  private newVersion: number | null = null;
  private readonly changed = new Set<string>();
  /** Fields a system must be sent even though it is the source (it lost a conflict, or holds a merge). */
  private readonly pushBack = new Map<string, Set<string>>();
  private source: string | null = null;
  private deletedNow = false;
  private restoredNow = false;
  private readonly conflicts: MessageDraft<'conflict'>[] = [];
  private skipped: string | null = null;

  constructor(
    private readonly state: EntityState,
    private readonly message: ReconcilerInput,
    private readonly sync: CompiledSync,
  ) {}

  change(event: MessageOf<'change'>): void {
    const origin = this.sync.systems.get(event.origin);
    if (!origin) return this.skip(`system "${event.origin}" is not linked by sync ${this.sync.config.id}`);
    if (origin.direction === 'target_only') return this.skip(`system "${origin.id}" is target-only`);
    const system = this.systemState(origin.id);
    const { data } = event;
    if (data.matchedByKey && data.operation === 'delete' && data.recordId !== system.recordId) return this.deleteOfUnlinked(system, event);
    const sameRecord = (system.lastSequenceRecordId ?? data.recordId) === data.recordId;
    if (system.lastSequence !== null && sameRecord && BigInt(data.sequence) <= BigInt(system.lastSequence)) {
      return this.skip(`sequence ${data.sequence} already seen from ${origin.id} (last ${system.lastSequence})`);
    }
    system.lastSequence = data.sequence;
    system.lastSequenceRecordId = data.recordId;
    if (data.operation === 'delete' && standsForAnotherRecord(system, data.recordId)) {
      if (deleteTaken(system, data.recordId)) return this.skip(`the delete of record ${data.recordId} was already taken`);
      if (isMissing(system, data.recordId) && !this.state.deleted) {
        forgetMissing(system, data.recordId);
        takeDeleteOf(system, data.recordId);
        return this.deleteOfReplaced(system, { system: origin.id, at: effectiveTime(event), eventId: event.eventId });
      }
      // The record a restore replaced, reported deleted: the system's own delete if its source never
      // reports Tandem's writes, or if it came before Tandem's delete of it landed; else Tandem's.
      if (data.recordId === system.replacedRecordId && !this.state.deleted) {
        const incoming = { system: origin.id, at: effectiveTime(event), eventId: event.eventId };
        const landed = system.replacedRemovedAt ?? null;
        if (data.notFromTandem || (landed !== null && BigInt(data.sequence) < BigInt(landed))) return this.deleteOfReplaced(system, incoming);
        if (landed === null && system.pending.some((write) => write.deletes)) {
          system.replacedDeleteReport = { sequence: data.sequence, at: incoming.at, eventId: incoming.eventId, recordId: data.recordId };
          return this.skip(`record ${data.recordId} reported deleted before Tandem's delete of it was confirmed`);
        }
      }
      // The record a create of Tandem's made there, deleted before the create's result came back
      // (the connector knows it from the applier's link): the system's delete of the entity's record,
      // made over at least what that create wrote. Any other record was replaced by Tandem.
      const createdHere = system.recordId === null && data.recordId !== system.replacedRecordId && !isMissing(system, data.recordId);
      if (!createdHere) return this.skip(`record ${data.recordId} is no longer ${origin.id}'s record of this entity`);
      const create = system.pending.find((write) => !write.deletes)!;
      for (const [field, version] of Object.entries(create.fieldVersions)) markSeen(system, field, version, null);
    }
    // The record the change came from is going or gone: Tandem's delete of it is still on its way
    // there, a restore has replaced it, a write found it missing, or the system's delete of it was
    // taken. The change is the system's edit, but that record is not the entity's record any more,
    // and the edit must reach the new one.
    const recordGoing =
      data.operation !== 'delete' &&
      (system.pending.some((write) => write.deletes) ||
        ((data.recordId === system.replacedRecordId || isMissing(system, data.recordId) || deleteTaken(system, data.recordId)) &&
          data.recordId !== system.recordId));
    if (!recordGoing) system.recordId = data.recordId;
    this.source = origin.id;
    const incoming = { system: origin.id, at: effectiveTime(event), eventId: event.eventId };

    if (data.operation === 'delete') {
      // Where Tandem's delete landed, as its result told, places it better than a report of it can.
      const landedAt = this.state.deleted && system.deletedAt !== null && !system.pending.some((write) => write.deletes) ? system.deletedPosition : null;
      this.delete(system, incoming, data);
      // The system's own delete (or its report of Tandem's): its position in the system's order.
      if (system.deletedAt !== null) system.deletedPosition = landedAt ?? data.sequence;
      return;
    }
    const projected = this.sync.project(origin, canonicalRecord(this.state));
    // What the system had seen when it made the change is judged at the position it made it.
    const madeAt = data.madeAt ?? data.sequence;
    if (this.state.deleted) {
      if (this.onlyEchoes(origin, system, data.fields, madeAt, projected)) {
        // The state Tandem wrote there before the delete reached it: not an update of the deleted record.
        if (!this.deleteWhereStillHeld(system)) this.skip('a report of what Tandem wrote before the record was deleted');
        return;
      }
      if (!this.updateOfDeleted(system, incoming, data.fields, madeAt)) return;
    }

    for (const [field, change] of Object.entries(data.fields)) {
      this.fieldChange(origin, system, field, change, madeAt, projected, incoming, data.madeAt !== undefined);
    }
    if (recordGoing) for (const field of this.changed) this.needsPush(origin.id, field);
    if (this.changed.size === 0 && !this.restoredNow && this.pushBack.size === 0 && this.conflicts.length === 0) {
      this.skip('no field differs from the canonical record');
    }
  }

  applyResult(result: MessageOf<'apply.result'>): void {
    const { data } = result;
    const system = this.systemState(data.target);
    const answered = system.pending.find((write) => write.commandId === data.commandId);
    if (data.outcome === 'failed') {
      // The answer again to a command delivered twice: what it said was taken the first time.
      if (!answered) return this.skip(`the failure of ${data.commandId} was already taken`);
      system.pending = system.pending.filter((write) => write.commandId !== data.commandId);
      const code = data.error?.code ?? 'unknown';
      system.lastError = { code, message: data.error?.message ?? '', commandId: data.commandId };
      if (code === RECORD_MISSING) {
        const missing = data.recordId ?? system.recordId;
        if (missing !== null && system.recordId !== null && missing !== system.recordId) {
          // Addressed to a record a re-create has since replaced there: the write goes to the new one.
          for (const field of Object.keys(answered.fieldVersions)) this.needsPush(data.target, field);
          return;
        }
        // The record was deleted there concurrently; its delete arrives as a change of its own.
        if (missing !== null) markMissing(system, missing);
        system.recordId = null;
        // Or it has arrived, while the entity was deleted and Tandem's delete there was on its way.
        const report = system.replacedDeleteReport;
        if (this.state.deleted && missing !== null && report?.recordId === missing) {
          this.deletedBeforeTandem(system, missing, { system: data.target, at: report.at, eventId: report.eventId });
        }
      }
      // The record the create found is the one the system last reported for this entity, heard while
      // Tandem's delete there was still on its way (so not taken then): a create of Tandem's whose
      // result was lost made it, or a person did. Either way it is linked to the entity.
      const reportedHere =
        data.recordId !== null && data.recordId === system.lastSequenceRecordId && data.recordId !== system.replacedRecordId && !isMissing(system, data.recordId);
      if (code === RECORD_EXISTS && system.recordId === null && reportedHere && !system.pending.some((write) => write.deletes)) {
        system.recordId = data.recordId;
      }
      // A create that found the system's own record of the entity: once its report has linked that
      // record, what the create carried goes to it (before, the report's values meet the entity's).
      if (code === RECORD_EXISTS && system.recordId !== null) {
        for (const field of Object.keys(answered.fieldVersions)) this.needsPush(data.target, field);
      }
      return;
    }
    // An answer again to a command whose first answer, or a newer write's, was taken tells nothing
    // new; a delete's would name the record it removed as if the system still held it.
    if (data.outcome === 'stale' && !answered) {
      return this.skip(`the answer to ${data.commandId} was already taken`);
    }
    // A delete's result names the record it removed, which is no record of the entity there any more.
    const removed = answered?.deletes === true;
    // A write that made a new record in a system whose own record of the deleted entity was deleted
    // (a create sent before that delete, which found nothing to update): the system holds it again.
    const madeAfterDelete = this.state.deleted !== null && system.deletedAt !== null && data.recordId !== null && !removed && data.recordId !== system.recordId;
    // A write sent before a restore, confirmed on the record the restore replaced (Tandem's delete
    // is removing it): that record does not become the entity's record there again.
    const replaced = data.recordId === system.replacedRecordId && system.recordId !== data.recordId && system.pending.some((write) => write.deletes);
    // A write that landed on a record before the system's delete of it was taken: that record is gone.
    const deletedThere = data.recordId !== null && deleteTaken(system, data.recordId);
    if (data.recordId !== null && !removed && !replaced && !deletedThere) {
      // The applier found the known record gone and made the entity anew: the system's delete of the
      // old record, when it arrives, is weighed like any write found missing.
      if (system.recordId !== null && system.recordId !== data.recordId && !madeAfterDelete) markMissing(system, system.recordId);
      system.recordId = data.recordId;
    }
    if (madeAfterDelete) {
      system.deletedAt = null;
      system.deletedPosition = null;
    }
    const confirmed = system.pending.filter((write) => write.version <= data.version);
    const newest = confirmed.filter((write) => !write.deletes).at(-1);
    if (newest) system.lastConfirmed = newest.sent;
    const written = [...new Set(confirmed.flatMap((write) => Object.keys(write.fieldVersions)))];
    if (data.position !== null && written.length > 0) {
      const landing: WriteLanding = [data.position, ...written];
      system.landings = [...(system.landings ?? []).filter(([position]) => position !== data.position), landing].slice(-LANDINGS_KEPT);
    }
    for (const write of confirmed) {
      for (const [field, version] of Object.entries(write.fieldVersions)) markSeen(system, field, version, data.position);
      // A delete confirmed after the entity was restored removed the record the restore replaces:
      // the system does not hold the entity deleted (nor its later delete, which goes out anew).
      if (write.deletes && this.state.deleted !== null && write.version >= this.state.deleted.version) {
        system.deletedAt = write.version;
        system.deletedPosition = data.position;
      }
    }
    system.pending = system.pending.filter((write) => write.version > data.version);
    system.lastError = null;
    if (removed && !this.state.deleted && data.recordId !== null && data.recordId === system.replacedRecordId) this.replacedRemoved(data.target, system, data.position);
    if (removed && this.state.deleted) this.deleteReportSettled(data.target, system, data.recordId, data.position);
    // A record created there while the entity was being deleted: the delete could not name it then.
    if (this.state.deleted) this.deleteWhereStillHeld(system);
  }

  decision(decision: MessageOf<'conflict.decision'>): void {
    const { data } = decision;
    const entry = Object.entries(this.state.pendingConflicts).find(([, c]) => c.conflictId === data.conflictId);
    if (!entry) return this.skip(`conflict ${data.conflictId} is not pending`);
    const [key, conflict] = entry;
    const { choice } = data;
    const side = choice.kind === 'side' ? conflict.sides.find((s) => s.system === choice.system) : null;
    if (choice.kind === 'side' && !side) {
      return this.skip(`conflict ${data.conflictId} has no side from system "${choice.system}"`);
    }
    delete this.state.pendingConflicts[key];
    const at = effectiveTime(decision);
    const chosenSystem = side?.system ?? RECONCILER;

    if (conflict.kind === 'delete_update') {
      if (side?.deleted) {
        this.markDeleted({ system: chosenSystem, at, eventId: decision.eventId });
      } else {
        this.recordOverturnedDeletes(conflict.sides.find((s) => !s.deleted) ?? conflict.sides[1], 'manual', data.decidedBy, 'decided');
        this.restore(false);
        const by = { system: chosenSystem, at, eventId: decision.eventId };
        for (const [field, value] of Object.entries(conflict.update ?? {})) this.setField(field, value, by);
      }
    } else if (conflict.field !== null) {
      const value = side ? side.value : choice.kind === 'value' ? choice.value : null;
      this.setField(conflict.field, value, { system: chosenSystem, at, eventId: decision.eventId });
    }
    this.recordConflict({
      conflictId: conflict.conflictId,
      field: conflict.field,
      kind: conflict.kind,
      strategy: conflict.strategy,
      risk: 'high',
      sides: conflict.sides,
      outcome: {
        winner: side?.system ?? 'manual',
        value: side ? side.value : choice.kind === 'value' ? choice.value : null,
        deleted: side?.deleted ?? false,
      },
      decidedBy: data.decidedBy,
      suffix: 'decided',
    });
  }

  finish(): Reconciliation {
    const commands = this.commands();
    const touched = this.changed.size > 0 || this.deletedNow || this.restoredNow;
    const resolved: MessageDraft<'resolved'> | null = touched
      ? {
          type: 'resolved',
          eventId: `${this.message.eventId}>resolved`,
          tenantId: this.state.tenantId,
          occurredAt: this.message.occurredAt,
          origin: RECONCILER,
          data: {
            entityType: this.state.entityType,
            entityId: this.state.entityId,
            version: this.state.version,
            deleted: this.state.deleted !== null,
            record: canonicalRecord(this.state),
            changedFields: [...this.changed].sort(),
          },
        }
      : null;
    return { state: this.state, commands, resolved, conflicts: this.conflicts, skipped: this.skipped };
  }

  private fieldChange(
    origin: CompiledSystem,
    system: SystemState,
    field: string,
    { after, before }: { after: FieldValue; before?: FieldValue | undefined },
    sequence: string,
    projected: FieldValues,
    incoming: Omit<Contender, 'value'>,
    learntLate: boolean,
  ): void {
    const current = this.state.fields[field];
    if (sameValue(after, projected[field])) {
      // Already what the entity holds: an echo of Tandem's own write, or an edit that agrees.
      if (current) markSeen(system, field, current.version, sequence);
      return;
    }
    const echoOfEarlierWrite = system.pending.find((write) => {
      const sent = origin.mapper.toCanonical(write.sent);
      return field in sent && sameValue(after, sent[field]);
    });
    if (echoOfEarlierWrite) {
      markSeen(system, field, echoOfEarlierWrite.fieldVersions[field] ?? 0, sequence);
      return;
    }
    // The system's own edit, which a write of Tandem's landed over, is on its way back to it: until it
    // lands, the system reports what that write left there, which is no new edit.
    if (current?.system === origin.id && system.lastConfirmed && system.pending.some((write) => field in write.fieldVersions)) {
      const leftThere = origin.mapper.toCanonical(system.lastConfirmed);
      if (field in leftThere && sameValue(after, leftThere[field])) return;
    }
    // Heard of only after the system reported a later value of its own (on its own clock): that
    // later edit replaced this one there, so it changes nothing.
    if (learntLate && current?.system === origin.id && Date.parse(incoming.at) < Date.parse(current.occurredAt)) return;
    // Reported at the very position a confirmed write of Tandem's left the record (sources whose
    // positions are the record's own modification stamps): the state that write produced, not an edit.
    if (writtenThereAt(system, field, sequence)) return;
    const pending = this.state.pendingConflicts[field];
    if (pending) {
      // Nothing is applied to a field awaiting a person; the newest value of each side is kept.
      const index = pending.sides[1].system === origin.id || pending.sides[0].system !== origin.id ? 1 : 0;
      pending.sides[index] = { ...incoming, value: after, deleted: false, occurredAt: incoming.at };
      return;
    }
    const held = seenAt(system, field, sequence);
    // Tandem wrote this field to the system after the edit was made: the system no longer holds it.
    const overwritten = held.overwrittenSince;
    const sawCurrent =
      !current ||
      (current.system === origin.id && !overwritten) ||
      held.version >= current.version ||
      (before !== undefined && sameValue(before, projected[field]) && !overwritten);
    // A write of Tandem's still on its way there carries another value of this field: once it lands
    // the system holds that value, not the edit, so a taken edit is sent back rather than marked seen.
    const overwrittenByPending = system.pending.some((write) => {
      const sent = origin.mapper.toCanonical(write.sent);
      return field in sent && !sameValue(after, sent[field]);
    });
    if (sawCurrent) {
      this.setField(field, after, incoming);
      // Tandem's write that landed after the edit carried this field too (a split column writes all
      // of its parts): the system holds that write's value now, and is sent its own edit back.
      if (overwritten || overwrittenByPending) this.needsPush(origin.id, field);
      else markSeen(system, field, this.state.version, sequence);
      return;
    }

    const rule = this.sync.ruleFor(field);
    const currentSide: Contender = { system: current.system, value: current.value, at: current.occurredAt, eventId: current.eventId };
    const incomingSide: Contender = { ...incoming, value: after };
    const decision = decideField(rule, currentSide, incomingSide);
    const sides: [ConflictSide, ConflictSide] = [toSide(currentSide, false), toSide(incomingSide, false)];
    const conflictId = `${this.message.eventId}:${field}`;
    switch (decision.kind) {
      case 'take_incoming':
        this.setField(field, after, incoming);
        // An overwritten edit is no longer what the system holds (or will not be, once Tandem's
        // write on its way lands): it is sent the value again.
        if (overwritten || overwrittenByPending) this.needsPush(origin.id, field);
        else markSeen(system, field, this.state.version, sequence);
        break;
      case 'keep_current':
        this.needsPush(origin.id, field);
        break;
      case 'merge':
        this.setField(field, decision.value, incoming);
        this.needsPush(origin.id, field);
        break;
      case 'pending':
        this.state.pendingConflicts[field] = { conflictId, field, kind: 'field', strategy: rule.strategy, sides };
        break;
    }
    this.recordConflict({
      conflictId,
      field,
      kind: 'field',
      strategy: rule.strategy,
      risk: decision.risk,
      sides,
      outcome:
        decision.kind === 'pending'
          ? null
          : decision.kind === 'merge'
            ? { winner: 'merged', value: decision.value, deleted: false }
            : decision.kind === 'take_incoming'
              ? { winner: origin.id, value: after, deleted: false }
              : { winner: current.system, value: current.value, deleted: false },
      decidedBy: decision.kind === 'pending' ? null : `rule:${rule.strategy}`,
      suffix: decision.kind === 'pending' ? 'pending' : 'resolved',
    });
  }

  private delete(system: SystemState, incoming: Omit<Contender, 'value'>, data: MessageOf<'change'>['data']): void {
    const { deleted } = this.state;
    if (deleted) {
      // The system's own delete, not its report of Tandem's: a restore must record it as overturned.
      const deleteOnItsWay = system.pending.some((write) => write.deletes);
      const own = data.notFromTandem === true || (system.deletedAt === null && !deleteOnItsWay);
      if (isMissing(system, data.recordId)) this.deletedBeforeTandem(system, data.recordId, incoming);
      else if (own) this.alsoDeletedBy(incoming);
      // Tandem's delete is still on its way there: where it lands tells whose delete this was.
      else if (deleteOnItsWay && incoming.system !== deleted.system) {
        system.replacedDeleteReport = { sequence: data.sequence, at: incoming.at, eventId: incoming.eventId, recordId: data.recordId };
      }
      system.deletedAt = deleted.version;
      return this.skip('already deleted');
    }
    if (this.state.pendingConflicts[WHOLE_RECORD]) return this.skip('a delete conflict is already pending');
    const unseen = Object.entries(this.state.fields).filter(
      ([field, value]) => value.system !== incoming.system && value.version > seenAt(system, field, null).version,
    );
    if (unseen.length === 0) return this.markDeleted(incoming);

    // The deleting system had not seen another system's update: delete against update.
    const latest = unseen.reduce((a, b) => (b[1].version > a[1].version ? b : a))[1];
    const updateSide: ConflictSide = {
      system: latest.system, value: null, deleted: false, occurredAt: latest.occurredAt, eventId: latest.eventId,
    };
    const deleteSide: ConflictSide = { ...toSide({ ...incoming, value: null }, true) };
    this.deleteConflict(updateSide, deleteSide, undefined, () => this.markDeleted(incoming), () => {
      // The update survives: the deleting system gets the whole record back as a new record.
      if (system.recordId !== null) takeDeleteOf(system, system.recordId);
      system.recordId = null;
      system.deletedAt = null;
      for (const field of Object.keys(this.state.fields)) this.needsPush(incoming.system, field);
    });
  }

  /**
   * A system's delete of a copy of the entity that Tandem never saw alive (made there while the entity
   * was being created elsewhere, deleted at once): the system's own delete, which cannot be weighed
   * against what its other record holds, so it meets the latest update as a record Tandem replaced does.
   */
  private deleteOfUnlinked(system: SystemState, event: MessageOf<'change'>): void {
    if (this.state.deleted) return this.skip(`record ${event.data.recordId}, deleted before Tandem saw it, is of an entity already deleted`);
    if (deleteTaken(system, event.data.recordId)) return this.skip(`the delete of record ${event.data.recordId} was already taken`);
    takeDeleteOf(system, event.data.recordId);
    this.deleteOfReplaced(system, { system: event.origin, at: effectiveTime(event), eventId: event.eventId });
  }

  /**
   * Tandem's delete landed on a record whose deletion the system reported while the entity was
   * deleted: reported from before it landed, that deletion was the system's own, which a later
   * restore overturns as well.
   */
  private deleteReportSettled(systemId: string, system: SystemState, recordId: string | null, position: string | null): void {
    const report = system.replacedDeleteReport;
    if (!report || report.recordId !== recordId) return;
    system.replacedDeleteReport = null;
    if (position !== null && BigInt(report.sequence) < BigInt(position)) this.alsoDeletedBy({ system: systemId, at: report.at, eventId: report.eventId });
  }

  /**
   * Tandem's delete of the record a restore replaced has landed: a report of that record's deletion
   * heard of before is the system's own delete if it was made before this landing.
   */
  private replacedRemoved(systemId: string, system: SystemState, position: string | null): void {
    system.replacedRemovedAt = position;
    const report = system.replacedDeleteReport;
    system.replacedDeleteReport = null;
    if (report && position !== null && BigInt(report.sequence) < BigInt(position)) {
      this.deleteOfReplaced(system, { system: systemId, at: report.at, eventId: report.eventId });
    }
  }

  /**
   * The system's own delete of a record that Tandem has replaced there, or is to replace, by a new one
   * (a write found it missing, or a restore replaced it): what the record held when it went cannot be
   * told from what the system holds now, so it is a delete against the latest update of another
   * system. If the delete wins, the entity goes everywhere, the new record there too; if the update
   * wins, the new record stays, or is made now if no write has made one.
   */
  private deleteOfReplaced(system: SystemState, incoming: Omit<Contender, 'value'>): void {
    const others = Object.values(this.state.fields).filter((field) => field.system !== incoming.system);
    const deleteEverywhere = () => {
      this.markDeleted(incoming);
      // Its record there now is the one Tandem made, which the delete has not removed.
      system.deletedAt = null;
    };
    if (this.state.pendingConflicts[WHOLE_RECORD]) return this.skip('a delete conflict is already pending');
    if (others.length === 0) return deleteEverywhere();
    const latest = others.reduce((a, b) => (b.version > a.version ? b : a));
    const updateSide: ConflictSide = { system: latest.system, value: null, deleted: false, occurredAt: latest.occurredAt, eventId: latest.eventId };
    const keepOrMakeRecord = () => {
      if (system.recordId === null) for (const field of Object.keys(this.state.fields)) this.needsPush(incoming.system, field);
    };
    this.deleteConflict(updateSide, toSide({ ...incoming, value: null }, true), undefined, deleteEverywhere, keepOrMakeRecord);
  }

  /**
   * An update to a deleted entity: a restore when the system had seen the delete, else a conflict.
   * An update made before the delete landed there (an earlier position, or one that cannot be told
   * because the system reported no position for it) had not seen it, and the record it changed is
   * gone, or will be once a delete in flight lands.
   */
  private updateOfDeleted(system: SystemState, incoming: Omit<Contender, 'value'>, fields: Record<string, { after: FieldValue }>, sequence: string): boolean {
    const deleted = this.state.deleted!;
    const deletedThere = system.deletedAt !== null && system.deletedAt >= deleted.version;
    const position = system.deletedPosition ?? null;
    const overwritten = deletedThere && (position === null || BigInt(sequence) < BigInt(position));
    if (deletedThere && !overwritten) {
      this.restore(false);
      return true;
    }
    const recordGone = overwritten || system.pending.some((write) => write.deletes);
    if (this.state.pendingConflicts[WHOLE_RECORD]) {
      this.skip('a delete conflict is pending');
      return false;
    }
    const deleteSide: ConflictSide = {
      system: deleted.system, value: null, deleted: true, occurredAt: deleted.occurredAt, eventId: deleted.eventId,
    };
    const updateSide = toSide({ ...incoming, value: null }, false);
    let proceed = false;
    const update = Object.fromEntries(Object.entries(fields).map(([field, change]) => [field, change.after]));
    this.deleteConflict(deleteSide, updateSide, update, () => {
      if (!recordGone) this.needsDeleteAgain(system);
    }, () => {
      this.recordOverturnedDeletes(updateSide, 'priority', 'rule:update_wins', 'resolved');
      this.restore(recordGone);
      proceed = true;
    });
    return proceed;
  }

  /** Whether every field a change reports is what Tandem holds or wrote there: the system's echo. */
  private onlyEchoes(origin: CompiledSystem, system: SystemState, fields: Record<string, { after: FieldValue }>, sequence: string, projected: FieldValues): boolean {
    const entries = Object.entries(fields);
    return entries.length > 0 && entries.every(([field, { after }]) =>
      sameValue(after, projected[field]) ||
      writtenThereAt(system, field, sequence) ||
      system.pending.some((write) => {
        const sent = origin.mapper.toCanonical(write.sent);
        return field in sent && sameValue(after, sent[field]);
      }),
    );
  }

  /**
   * Sends the delete of a deleted entity to this system when it holds a record nothing deletes (it
   * was created there while the delete was decided). Says whether it did.
   */
  private deleteWhereStillHeld(system: SystemState): boolean {
    const held = system.recordId !== null && system.deletedAt === null && !system.pending.some((write) => write.deletes);
    if (!held || this.state.pendingConflicts[WHOLE_RECORD]) return false;
    this.needsDeleteAgain(system);
    return true;
  }

  private deleteConflict(
    current: ConflictSide,
    incoming: ConflictSide,
    update: FieldValues | undefined,
    deleteWins: () => void,
    updateWins: () => void,
  ): void {
    const rule = this.sync.config.conflicts.deleteVsUpdate;
    const conflictId = `${this.message.eventId}:${WHOLE_RECORD}`;
    const sides: [ConflictSide, ConflictSide] = [current, incoming];
    const deleter = current.deleted ? current : incoming;
    const updater = current.deleted ? incoming : current;
    if (rule === 'manual') {
      const pending: PendingConflict = { conflictId, field: null, kind: 'delete_update', strategy: 'manual', sides };
      if (update) pending.update = update;
      this.state.pendingConflicts[WHOLE_RECORD] = pending;
    } else if (rule === 'delete_wins') {
      deleteWins();
    } else {
      updateWins();
    }
    const winner = rule === 'delete_wins' ? deleter : updater;
    this.recordConflict({
      conflictId,
      field: null,
      kind: 'delete_update',
      strategy: rule === 'manual' ? 'manual' : 'priority',
      risk: 'high',
      sides,
      outcome: rule === 'manual' ? null : { winner: winner.system, value: null, deleted: winner.deleted },
      decidedBy: rule === 'manual' ? null : `rule:${rule}`,
      suffix: rule === 'manual' ? 'pending' : 'resolved',
    });
  }

  private markDeleted(by: Omit<Contender, 'value'>): void {
    const version = this.bump();
    this.state.deleted = { version, system: by.system, occurredAt: by.at, eventId: by.eventId };
    const system = this.state.systems[by.system];
    if (system) system.deletedAt = version;
    this.deletedNow = true;
  }

  /**
   * Brings the record back everywhere: undeletes the entity and sends the whole record, as a new
   * record, to every system that deleted it, has a delete in flight, or has lost it. The source of
   * the change keeps its record, unless Tandem's delete removed (or is removing) it after the change.
   */
  private restore(sourceRecordGone: boolean): void {
    this.state.deleted = null;
    this.bump();
    this.restoredNow = true;
    for (const [id, system] of Object.entries(this.state.systems)) {
      const deleting = system.pending.some((write) => write.deletes);
      const lost = system.deletedAt !== null || system.recordId === null || deleting;
      if (!lost) continue;
      // Where Tandem's confirmed delete of the record landed: the system's own delete of it came before.
      const removedAt = system.deletedAt !== null && !deleting && system.recordId !== null ? (system.deletedPosition ?? null) : null;
      system.deletedAt = null;
      system.deletedPosition = null;
      if (id !== this.source || sourceRecordGone) {
        system.replacedRecordId = system.recordId ?? system.replacedRecordId ?? null;
        system.replacedRemovedAt = removedAt;
        // A report of that record's deletion, heard while Tandem's delete was on its way, still waits for where it lands.
        if (system.replacedDeleteReport?.recordId !== system.replacedRecordId) system.replacedDeleteReport = null;
        system.recordId = null;
      }
    }
  }

  private needsDeleteAgain(system: SystemState): void {
    // The system still has the record: it is sent the delete again, with the current version.
    system.deletedAt = null;
    this.deletedNow = true;
    this.bump();
    this.source = null;
  }

  private setField(field: string, value: FieldValue, by: Omit<Contender, 'value'>): void {
    const version = this.bump();
    this.state.fields[field] = { value, version, system: by.system, occurredAt: by.at, eventId: by.eventId };
    this.changed.add(field);
    // A write still in flight to the source carries an older value of this field and would land
    // after the edit: the source is sent the new value too, which the applier orders after it.
    const source = this.state.systems[by.system];
    if (source?.pending.some((write) => field in write.fieldVersions)) this.needsPush(by.system, field);
  }

  /** One version per message, however many fields it changes. */
  private bump(): number {
    if (this.newVersion === null) {
      this.newVersion = this.state.version + 1;
      this.state.version = this.newVersion;
    }
    return this.newVersion;
  }

  private needsPush(system: string, field: string): void {
    const fields = this.pushBack.get(system) ?? new Set<string>();
    fields.add(field);
    this.pushBack.set(system, fields);
  }

  private systemState(id: string): SystemState {
    const existing = this.state.systems[id];
    if (existing) return existing;
    const created = emptySystemState();
    this.state.systems[id] = created;
    return created;
  }

  private skip(reason: string): void {
    this.skipped ??= reason;
  }

  private commands(): MessageDraft<'apply.command'>[] {
    const commands: MessageDraft<'apply.command'>[] = [];
    if (this.changed.size === 0 && !this.deletedNow && !this.restoredNow && this.pushBack.size === 0) return commands;
    // A write sent back (a losing side, a re-create) must be newer than every command before it, or
    // an applier would take it for one it already applied.
    if (this.pushBack.size > 0) this.bump();
    const record = canonicalRecord(this.state);
    for (const target of this.sync.systems.values()) {
      if (target.direction === 'source_only') continue;
      const system = this.systemState(target.id);
      const draft = this.deletedNow ? this.deleteFor(target, system) : this.upsertFor(target, system, record);
      if (draft) commands.push(draft);
    }
    return commands;
  }

  private deleteFor(target: CompiledSystem, system: SystemState): MessageDraft<'apply.command'> | null {
    // A delete already in flight there removes the record; a second one would find nothing.
    if (target.id === this.source || system.recordId === null || system.deletedAt !== null || system.pending.some((write) => write.deletes)) return null;
    return this.command(target, system, 'delete', {}, {}, true);
  }

  private upsertFor(target: CompiledSystem, system: SystemState, record: FieldValues): MessageDraft<'apply.command'> | null {
    if (this.state.deleted) return null;
    const fields = new Set(target.id === this.source ? [] : this.changed);
    for (const field of this.pushBack.get(target.id) ?? []) fields.add(field);
    const creating = system.recordId === null;
    if (fields.size === 0 && !(creating && this.restoredNow)) return null;
    const native = target.mapper.toNative(record);
    const names = creating ? Object.keys(native) : target.mapper.nativeFieldsAffectedBy([...fields]);
    const sent: FieldValues = {};
    for (const name of names) if (name in native) sent[name] = native[name] ?? null;
    if (Object.keys(sent).length === 0) return null;
    const fieldVersions: Record<string, number> = {};
    for (const field of target.mapper.canonicalFieldsAffectedBy(Object.keys(sent))) {
      const state = this.state.fields[field];
      if (state) fieldVersions[field] = state.version;
    }
    return this.command(target, system, 'upsert', sent, fieldVersions, false);
  }

  private command(
    target: CompiledSystem,
    system: SystemState,
    operation: 'upsert' | 'delete',
    sent: FieldValues,
    fieldVersions: Record<string, number>,
    deletes: boolean,
  ): MessageDraft<'apply.command'> {
    const commandId = `${this.message.eventId}>${target.id}`;
    system.pending.push({ commandId, version: this.state.version, sent, fieldVersions, deletes });
    if (system.pending.length > MAX_PENDING_WRITES) system.pending.shift();
    return {
      type: 'apply.command',
      eventId: commandId,
      tenantId: this.state.tenantId,
      occurredAt: this.message.occurredAt,
      origin: RECONCILER,
      data: {
        target: target.id,
        entityType: this.state.entityType,
        entityId: this.state.entityId,
        recordId: system.recordId,
        operation,
        version: this.state.version,
        fields: sent,
      },
    };
  }

  /**
   * A system's report that a record a write of Tandem's found missing is gone, heard of while the
   * entity is deleted: that write went out before Tandem's delete of the record, so the record was
   * gone before the delete could remove it. The delete is the system's own, which a restore
   * overturns with the others (and records), and it is never weighed again.
   */
  private deletedBeforeTandem(system: SystemState, recordId: string, by: Omit<Contender, 'value'>): void {
    this.alsoDeletedBy(by);
    forgetMissing(system, recordId);
    takeDeleteOf(system, recordId);
    if (system.replacedDeleteReport?.recordId === recordId) system.replacedDeleteReport = null;
  }

  /**
   * The deletes of the other systems that had deleted the entity too, overturned with the first by
   * the update that restores it: each is kept in the conflict log as well.
   */
  private alsoDeletedBy(incoming: Omit<Contender, 'value'>): void {
    const deleted = this.state.deleted!;
    if (incoming.system === deleted.system || deleted.alsoBy?.some((by) => by.system === incoming.system)) return;
    deleted.alsoBy = [...(deleted.alsoBy ?? []), { system: incoming.system, occurredAt: incoming.at, eventId: incoming.eventId }];
  }

  private recordOverturnedDeletes(updateSide: ConflictSide, strategy: StrategyName, decidedBy: string, suffix: string): void {
    for (const by of this.state.deleted?.alsoBy ?? []) {
      const deleteSide: ConflictSide = { system: by.system, value: null, deleted: true, occurredAt: by.occurredAt, eventId: by.eventId };
      this.recordConflict({
        conflictId: `${this.message.eventId}:${WHOLE_RECORD}:${by.system}`,
        field: null,
        kind: 'delete_update',
        strategy,
        risk: 'high',
        sides: [deleteSide, updateSide],
        outcome: { winner: updateSide.system, value: null, deleted: false },
        decidedBy,
        suffix,
      });
    }
  }

  private recordConflict(conflict: {
    conflictId: string;
    field: string | null;
    kind: PendingConflict['kind'];
    strategy: StrategyName;
    risk: Risk;
    sides: [ConflictSide, ConflictSide];
    outcome: { winner: string; value: FieldValue; deleted: boolean } | null;
    decidedBy: string | null;
    suffix: string;
  }): void {
    const { suffix, outcome, ...rest } = conflict;
    this.conflicts.push({
      type: 'conflict',
      eventId: `${conflict.conflictId}>${suffix}`,
      tenantId: this.state.tenantId,
      occurredAt: this.message.occurredAt,
      origin: RECONCILER,
      data: {
        ...rest,
        // A pending conflict's sides are replaced in place as its systems edit on (see fieldChange).
        sides: [rest.sides[0], rest.sides[1]],
        entityType: this.state.entityType,
        entityId: this.state.entityId,
        status: outcome === null ? 'pending' : 'resolved',
        outcome,
      },
    });
  }
}

/**
 * A record writes found missing there: its delete, when reported, is the system's own. One found
 * missing before it, whose delete has not been reported yet, is kept for that delete too.
 */
function markMissing(system: SystemState, recordId: string): void {
  const earlier = system.missingRecordId;
  if (earlier && earlier !== recordId) system.earlierMissingRecordIds = [...(system.earlierMissingRecordIds ?? []), earlier].slice(-GONE_RECORDS_KEPT);
  system.missingRecordId = recordId;
}

function isMissing(system: SystemState, recordId: string): boolean {
  return system.missingRecordId === recordId || system.earlierMissingRecordIds?.includes(recordId) === true;
}

function forgetMissing(system: SystemState, recordId: string): void {
  if (system.missingRecordId === recordId) system.missingRecordId = null;
  if (system.earlierMissingRecordIds) system.earlierMissingRecordIds = system.earlierMissingRecordIds.filter((id) => id !== recordId);
}

/** The system's delete of a record that is not the entity's record there is taken once, and the record never is again. */
function takeDeleteOf(system: SystemState, recordId: string): void {
  system.unlinkedDeletes = [...(system.unlinkedDeletes ?? []), recordId].slice(-GONE_RECORDS_KEPT);
}

function deleteTaken(system: SystemState, recordId: string): boolean {
  return system.unlinkedDeletes?.includes(recordId) === true;
}

/**
 * Whether a system's record of the entity is no longer `recordId`: it has another, or is being
 * given a new one (Tandem re-creating a record it deleted there).
 */
function standsForAnotherRecord(system: SystemState, recordId: string): boolean {
  return system.recordId !== null ? system.recordId !== recordId : system.pending.some((write) => !write.deletes);
}

/** The source's time, clamped to when Tandem observed it: a clock running ahead cannot win every conflict. */
function effectiveTime(message: { occurredAt: string; observedAt: string }): string {
  return Date.parse(message.occurredAt) <= Date.parse(message.observedAt) ? message.occurredAt : message.observedAt;
}

function sameValue(a: FieldValue | undefined, b: FieldValue | undefined): boolean {
  return (a ?? null) === (b ?? null);
}

function toSide(contender: Contender, deleted: boolean): ConflictSide {
  return { system: contender.system, value: contender.value, deleted, occurredAt: contender.at, eventId: contender.eventId };
}

/** Whether one of Tandem's confirmed writes of the field landed in the system at exactly `sequence`. */
function writtenThereAt(system: SystemState, field: string, sequence: string): boolean {
  if (system.seen[field]?.position === sequence) return true;
  return (system.landings ?? []).some(([position, ...fields]) => position === sequence && fields.includes(field));
}

/** Records that the system holds `version` of the field from `position` on in its change order. */
function markSeen(system: SystemState, field: string, version: number, position: string | null): void {
  const entry = system.seen[field];
  if (entry && entry.version === version) {
    // The same version written again further on (a column that carries several fields is written
    // whole): a change the system made to the field before that position was overwritten as well,
    // and one made before the version first arrived had not seen it.
    if (entry.position !== null && position !== null && BigInt(position) > BigInt(entry.position)) {
      system.seen[field] = { version, position, previous: entry.previous, since: entry.since ?? entry.position };
    }
    return;
  }
  if (entry && entry.version > version) return;
  system.seen[field] = { version, position, previous: entry?.version ?? 0 };
}

/**
 * The field version a system held when it made a change at `sequence`: the one it holds now, unless
 * Tandem's write of that version reached the system after the change (then it is overwritten).
 */
function seenAt(system: SystemState, field: string, sequence: string | null): { version: number; overwrittenSince: boolean } {
  const entry = system.seen[field];
  if (!entry) return { version: 0, overwrittenSince: false };
  if (entry.position === null || sequence === null || BigInt(sequence) > BigInt(entry.position)) {
    return { version: entry.version, overwrittenSince: false };
  }
  if (entry.since !== undefined && entry.since !== null && BigInt(sequence) >= BigInt(entry.since)) {
    return { version: entry.version, overwrittenSince: true };
  }
  return { version: entry.previous, overwrittenSince: true };
}
