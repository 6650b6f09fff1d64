import type { EntityState, FieldState, SeenVersion, SystemState } from '@tandem/reconciliation';

/**
 * What is stored per entity: the reconciler's state, and the offset of the last inbox message applied
 * to it, so a batch redelivered after a crash is recognised message by message.
 */
export interface StoredEntity {
  entity: EntityState;
  inboxOffset: string | null;
}

/** A canonical field as stored: `[value, version, system, occurredAt, eventId]`. */
export type StoredField = [FieldState['value'], number, string, string, string];
/** A field version a system holds, as stored: `[version, position, previous]`, and `since` when it has one. */
export type StoredSeenVersion = [number, string | null, number] | [number, string | null, number, string | null];

/**
 * A `StoredEntity` as its row holds it. The per-field entries, most of a state, are tuples: the same
 * state in about a third fewer bytes, which the reconciler writes twice per change and reads once.
 * Rows written before hold objects there, and are read as they are.
 */
export interface StoredEntityRecord {
  entity: Omit<EntityState, 'fields' | 'systems'> & {
    fields: Record<string, StoredField | FieldState>;
    systems: Record<string, Omit<SystemState, 'seen'> & { seen: Record<string, StoredSeenVersion | SeenVersion> }>;
  };
  inboxOffset: string | null;
}

// Plain loops over keys: these run twice per change, and Object.entries allocates an array per entry.
export function encodeStoredEntity({ entity, inboxOffset }: StoredEntity): StoredEntityRecord {
  const fields: Record<string, StoredField> = {};
  for (const name of Object.keys(entity.fields)) {
    const field = entity.fields[name]!;
    fields[name] = [field.value, field.version, field.system, field.occurredAt, field.eventId];
  }
  const systems: StoredEntityRecord['entity']['systems'] = {};
  for (const id of Object.keys(entity.systems)) {
    const state = entity.systems[id]!;
    const seen: Record<string, StoredSeenVersion> = {};
    for (const field of Object.keys(state.seen)) {
      const held = state.seen[field]!;
      seen[field] = held.since === undefined ? [held.version, held.position, held.previous] : [held.version, held.position, held.previous, held.since];
    }
    systems[id] = { ...state, seen };
  }
  return { entity: { ...entity, fields, systems }, inboxOffset };
}

export function decodeStoredEntity({ entity, inboxOffset }: StoredEntityRecord): StoredEntity {
  const fields: Record<string, FieldState> = {};
  for (const name of Object.keys(entity.fields)) {
    const stored = entity.fields[name]!;
    fields[name] = Array.isArray(stored)
      ? { value: stored[0], version: stored[1], system: stored[2], occurredAt: stored[3], eventId: stored[4] }
      : stored;
  }
  const systems: Record<string, SystemState> = {};
  for (const id of Object.keys(entity.systems)) {
    const state = entity.systems[id]!;
    const seen: Record<string, SeenVersion> = {};
    for (const field of Object.keys(state.seen)) {
      const stored = state.seen[field]!;
      seen[field] = !Array.isArray(stored)
        ? stored
        : stored.length === 4
          ? { version: stored[0], position: stored[1], previous: stored[2], since: stored[3] }
          : { version: stored[0], position: stored[1], previous: stored[2] };
    }
    systems[id] = { ...state, seen };
  }
  return { entity: { ...entity, fields, systems }, inboxOffset };
}
