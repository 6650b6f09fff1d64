import type { ConflictSide, EntityType, FieldValue, FieldValues, StrategyName } from '@tandem/contracts';

/** One canonical field: its value, who set it and when, and the entity version that set it. */
export interface FieldState {
  value: FieldValue;
  version: number;
  system: string;
  occurredAt: string;
  eventId: string;
}

/**
 * A field version a system holds, and the position in the system's own change order from which it
 * holds it (null where the system reports no positions). A change the system made before that
 * position was made without this version: Tandem's write landed after it.
 */
export interface SeenVersion {
  version: number;
  position: string | null;
  /** The version the system held before this one first reached it. */
  previous: number;
  /**
   * Where this version first reached the system, when Tandem wrote it there again further on (at
   * `position`: a column carrying several fields is written whole). Absent: first written at `position`.
   */
  since?: string | null;
}

/** Values sent to a system and not yet confirmed by an apply result. */
export interface PendingWrite {
  commandId: string;
  version: number;
  /** Values sent, in the system's own field names, so an echo can be recognised as Tandem's write. */
  sent: FieldValues;
  /** The canonical field versions the write carries. */
  fieldVersions: Record<string, number>;
  deletes: boolean;
}

/** A confirmed write's position in the system's change order, then the canonical fields it carried. */
export type WriteLanding = [position: string, ...fields: string[]];

/** What Tandem knows about one linked system's copy of the entity. */
export interface SystemState {
  recordId: string | null;
  /** Per field, the newest canonical field version this system is known to hold, and from when. */
  seen: Record<string, SeenVersion>;
  /** The entity version of the delete this system has applied or made, if any. */
  deletedAt: number | null;
  /**
   * Where Tandem's delete landed in the system's change order, when it reports positions: a change
   * the system made before it was made to a record that delete then removed. Absent in older states.
   */
  deletedPosition?: string | null;
  /**
   * A record a write found missing here (the system deleted it meanwhile, and Tandem writes the
   * entity to a new record): the system's report of that delete is its own delete of the entity,
   * not Tandem's. Absent in older states.
   */
  missingRecordId?: string | null;
  /**
   * Records writes found missing before `missingRecordId`, whose deletes have not been reported yet
   * (the newest few). Absent in older states.
   */
  earlierMissingRecordIds?: string[];
  /**
   * The record a restore replaced here (Tandem's delete removed it, or is removing it): changes still
   * reported from it are the system's edits, but it is not the entity's record there. Absent in
   * older states.
   */
  replacedRecordId?: string | null;
  /** Where Tandem's delete of the replaced record landed here, once confirmed. Absent in older states. */
  replacedRemovedAt?: string | null;
  /**
   * The system's report that a record is gone (the replaced one, or the entity's record while the
   * entity was deleted), heard of while Tandem's delete of it was still on its way: Tandem's own
   * delete if it landed before that, else the system's. Absent in older states.
   */
  replacedDeleteReport?: { sequence: string; at: string; eventId: string; recordId?: string } | null;
  /**
   * Records this system deleted while they were not, or no longer, the entity's record there, whose
   * deletes were taken (the newest few): copies it made and deleted before Tandem saw them, and
   * records writes found missing. A redelivered report of one is not a second delete, and a late
   * edit of one does not make it the entity's record again. Absent in older states.
   */
  unlinkedDeletes?: string[];
  /** The largest source sequence received from this system, to drop redelivered or older changes. */
  lastSequence: string | null;
  /**
   * The record `lastSequence` came from: sources whose sequences are each record's own modification
   * times (an API) order one record's changes, not those of two records. Absent in older states.
   */
  lastSequenceRecordId?: string | null;
  pending: PendingWrite[];
  /**
   * What Tandem's newest confirmed write here sent: while the system's own newer edit of a field is
   * on its way back to it, a report of that value is the state the write left, not an edit. Absent
   * in older states.
   */
  lastConfirmed?: FieldValues | null;
  /**
   * Where Tandem's newest confirmed writes landed in the system's change order, with the fields each
   * carried: a report made at one of those positions is the state that write left there, even when
   * it arrives after later writes. Absent in older states.
   */
  landings?: WriteLanding[];
  lastError: { code: string; message: string; commandId: string } | null;
}

export interface PendingConflict {
  conflictId: string;
  field: string | null;
  kind: 'field' | 'delete_update';
  strategy: StrategyName;
  sides: [ConflictSide, ConflictSide];
  /** For a delete against an update not yet applied: the update's values, applied if it wins. */
  update?: FieldValues;
}

export interface EntityState {
  tenantId: string;
  entityType: EntityType;
  entityId: string;
  /** Increments with every change to the canonical record; 0 before the first. */
  version: number;
  deleted: {
    version: number;
    system: string;
    occurredAt: string;
    eventId: string;
    /** Other systems that deleted the entity themselves while it was deleted: a restore overturns theirs too. */
    alsoBy?: Array<{ system: string; occurredAt: string; eventId: string }>;
  } | null;
  fields: Record<string, FieldState>;
  systems: Record<string, SystemState>;
  /** Keyed by field name, or `*` for a delete-versus-update conflict. */
  pendingConflicts: Record<string, PendingConflict>;
}

export const WHOLE_RECORD = '*';

export function emptyEntityState(tenantId: string, entityType: EntityType, entityId: string): EntityState {
  return { tenantId, entityType, entityId, version: 0, deleted: null, fields: {}, systems: {}, pendingConflicts: {} };
}

export function emptySystemState(): SystemState {
  return { recordId: null, seen: {}, deletedAt: null, deletedPosition: null, lastSequence: null, pending: [], lastError: null };
}

export function canonicalRecord(state: EntityState): FieldValues {
  const record: FieldValues = {};
  for (const [field, fieldState] of Object.entries(state.fields)) record[field] = fieldState.value;
  return record;
}
