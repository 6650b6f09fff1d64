/** Canonical field values of one record, as the sync configuration's mapping gives them. */
export type CanonicalRecord = Record<string, string | null>;

/** One edit the workload made directly in a system, with the real-time interval it took. */
export interface OpRecord {
  id: number;
  /** Normalized email: the entity the edit belongs to (the workload never changes an email). */
  email: string;
  system: string;
  kind: 'create' | 'update' | 'delete';
  /** Canonical values it set: every field for a create, the changed ones for an update, none for a delete. */
  fields: CanonicalRecord;
  /** Epoch ms before the edit was sent, and after the system confirmed (committed) it. */
  start: number;
  end: number;
  /**
   * Where the system itself placed the edit among its own edits of the record (its clock when the
   * row lock was held, or its order of calls); comparable only between edits of one system.
   */
  order: number;
  /**
   * For an update: the values the record held in the system when the edit was made (read under its
   * row lock), that is what the edit replaced there.
   */
  seen?: CanonicalRecord;
}

export interface ConflictEntry {
  email: string;
  field: string | null;
  kind: 'field' | 'delete_update';
  status: 'pending' | 'resolved';
  sides: { system: string; value: unknown; deleted: boolean }[];
  outcome: { winner: string; value: unknown; deleted: boolean } | null;
}

/** The pseudo-field an entity's existence is tracked under: creates and updates set it, deletes clear it. */
export const EXISTS = '(exists)';
const DELETED = Symbol('deleted');
type KeyValue = string | null | boolean | typeof DELETED;

export interface SilentLoss {
  op: OpRecord;
  key: string;
  expected: string;
  found: string;
}

/**
 * Silent losses, per entity and key (each canonical field, and the entity's existence):
 *
 * An edit is *superseded* when another edit to the same entity and key started after it had been
 * confirmed: that later edit was made in real time after it, so it replaces it legitimately. Two
 * edits of one system overlapping in time are ordered by that system (a row lock, one call after
 * another): the later one replaced the earlier there, before Tandem could see either, and reports
 * it as its `before`; that is the system's own overwrite, not one Tandem could record. And an
 * update that found an edit's value in its record when it was made (values are unique) replaced it
 * knowingly, even if it began before that edit was confirmed (it waited for the row). Every
 * edit that is not superseded (the last one, and any edit concurrent with it) must either be what
 * every system holds at the end, or appear in the conflict log as a side of a conflict on that
 * entity and key that did not win (pending, or decided for another side or another value). Anything
 * else is an edit that disappeared without a record: a silent loss.
 *
 * A delete is an edit of every key (existence false, every field gone); an update or create also
 * asserts existence, so an update concurrent with a delete must be the survivor or a recorded loser
 * of a delete-versus-update conflict. `finals` maps each email to the record every system holds, or
 * null when it is deleted everywhere.
 */
export function findSilentLosses(ops: readonly OpRecord[], finals: ReadonlyMap<string, CanonicalRecord | null>, conflicts: readonly ConflictEntry[]): SilentLoss[] {
  const byEmail = groupBy(ops, (op) => op.email);
  const conflictsByEmail = groupBy(conflicts, (conflict) => conflict.email);
  const losses: SilentLoss[] = [];
  for (const [email, entityOps] of byEmail) {
    const final = finals.has(email) ? finals.get(email)! : null;
    const fields = new Set(entityOps.flatMap((op) => Object.keys(op.fields)));
    for (const key of [EXISTS, ...fields]) {
      const touching = entityOps.filter((op) => valueOf(op, key) !== undefined);
      const finalValue: KeyValue = key === EXISTS ? final !== null : final === null ? DELETED : (final[key] ?? null);
      for (const op of touching) {
        const value = valueOf(op, key)!;
        if (touching.some((later) => later.start > op.end || (later.system === op.system && later.order > op.order) || replacedKnowingly(later, key, value))) continue;
        if (value === finalValue) continue;
        if (recordedAsLoser(op, key, value, conflictsByEmail.get(email) ?? [])) continue;
        losses.push({ op, key, expected: describe(value), found: describe(finalValue) });
      }
    }
  }
  return losses;
}

/** The later edit found this value in its record: it was made after the value reached it. */
function replacedKnowingly(later: OpRecord, key: string, value: KeyValue): boolean {
  return typeof value === 'string' && key !== EXISTS && later.seen !== undefined && later.seen[key] === value;
}

function valueOf(op: OpRecord, key: string): KeyValue | undefined {
  if (op.kind === 'delete') return key === EXISTS ? false : DELETED;
  if (key === EXISTS) return true;
  return Object.hasOwn(op.fields, key) ? (op.fields[key] ?? null) : undefined;
}

function recordedAsLoser(op: OpRecord, key: string, value: KeyValue, conflicts: readonly ConflictEntry[]): boolean {
  return conflicts.some((conflict) =>
    conflict.sides.some((side) => {
      if (side.system !== op.system || !lost(conflict, side)) return false;
      if (conflict.kind === 'delete_update') return side.deleted === (op.kind === 'delete');
      return op.kind !== 'delete' && key !== EXISTS && conflict.field === key && side.value === value;
    }),
  );
}

function lost(conflict: ConflictEntry, side: ConflictEntry['sides'][number]): boolean {
  if (conflict.status === 'pending' || conflict.outcome === null) return true;
  if (conflict.kind === 'delete_update') return conflict.outcome.deleted !== side.deleted;
  return conflict.outcome.winner !== side.system || conflict.outcome.value !== side.value;
}

function describe(value: KeyValue): string {
  return value === DELETED ? '(deleted)' : JSON.stringify(value);
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const name = key(item);
    groups.set(name, [...(groups.get(name) ?? []), item]);
  }
  return groups;
}
