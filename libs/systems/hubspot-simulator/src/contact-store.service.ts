import {
  type ContactProperties,
  type ContactPropertyCatalog,
  type PropertyError,
  normalizeEmail,
} from './contact-properties.util';
import type { ChangeSource } from './sim-contact.interface';

/** One value a property held, from the write that set it. */
export interface PropertyVersion {
  readonly value: string | null;
  readonly timestampMs: number;
  readonly source: ChangeSource;
}

/** HubSpot keeps a limited history per property; older versions fall off. */
const VERSIONS_KEPT = 20;

export interface StoredContact {
  readonly id: string;
  /** Every property the contact has, including hs_object_id, createdate and lastmodifieddate. */
  readonly properties: ContactProperties;
  /** Each written property's values, newest first (what `propertiesWithHistory` reads); a write replaces a property's list, never changes it. */
  readonly history: Record<string, readonly PropertyVersion[]>;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
  readonly archived: boolean;
  readonly archivedAtMs: number | null;
}

export type ContactChange =
  | { type: 'creation'; contact: StoredContact; source: ChangeSource }
  | {
      type: 'propertyChange';
      contact: StoredContact;
      source: ChangeSource;
      changes: Array<{ name: string; value: string | null }>;
    }
  | { type: 'deletion'; contact: StoredContact; source: ChangeSource }
  | { type: 'restore'; contact: StoredContact; source: ChangeSource }
  | { type: 'merge'; contact: StoredContact; merged: StoredContact; source: ChangeSource };

export type WriteFailure =
  | { kind: 'invalid'; errors: PropertyError[] }
  | { kind: 'conflict'; existingId: string; email: string }
  | { kind: 'not_found'; id: string };

export type WriteResult = { ok: true; contact: StoredContact } | { ok: false; failure: WriteFailure };

type MutableContact = { -readonly [K in keyof StoredContact]: StoredContact[K] };

/**
 * The account's contacts, in memory. Every change is reported to the listener with a copy of the contact,
 * so search indexing and webhooks see the state of that moment.
 */
export class ContactStore {
  private readonly contacts = new Map<string, MutableContact>();
  /** Normalized email -> id, for active contacts only (archived contacts free their email). */
  private readonly activeEmails = new Map<string, string>();
  private nextId = 101;

  constructor(
    private readonly catalog: ContactPropertyCatalog,
    private readonly clock: () => number,
    private readonly onChange: (change: ContactChange) => void,
  ) {}

  get(id: string): StoredContact | undefined {
    return this.contacts.get(id);
  }

  findActiveByEmail(email: string): StoredContact | undefined {
    const id = this.activeEmails.get(normalizeEmail(email));
    return id === undefined ? undefined : this.contacts.get(id);
  }

  /** In id order (ids only grow, and the map keeps insertion order). */
  list(archived: boolean): StoredContact[] {
    return [...this.contacts.values()].filter((contact) => contact.archived === archived);
  }

  create(input: unknown, source: ChangeSource): WriteResult {
    const validation = this.catalog.validateWrite(input);
    if (!validation.ok) return { ok: false, failure: { kind: 'invalid', errors: validation.errors } };
    const conflict = this.emailConflict(validation.properties.email, null);
    if (conflict) return { ok: false, failure: conflict };
    const id = String(this.nextId);
    this.nextId += 1;
    const now = this.clock();
    const iso = new Date(now).toISOString();
    const contact: MutableContact = {
      id,
      properties: { ...validation.properties, hs_object_id: id, createdate: iso, lastmodifieddate: iso },
      history: {},
      createdAtMs: now,
      updatedAtMs: now,
      archived: false,
      archivedAtMs: null,
    };
    recordVersions(contact, Object.entries(validation.properties).map(([name, value]) => ({ name, value })), now, source);
    this.contacts.set(id, contact);
    this.claimEmail(contact);
    this.onChange({ type: 'creation', contact: copy(contact), source });
    return { ok: true, contact };
  }

  /**
   * Puts contacts back as they were (ids, values, times, archived or not), with no change reported;
   * later creates take ids after the highest. False, and nothing stored, when an id is already taken.
   */
  restoreSaved(contacts: readonly StoredContact[]): boolean {
    if (contacts.some((contact) => this.contacts.has(contact.id))) return false;
    for (const saved of contacts) {
      const contact: MutableContact = { ...saved, properties: { ...saved.properties }, history: { ...saved.history } };
      this.contacts.set(contact.id, contact);
      if (!contact.archived) this.claimEmail(contact);
      this.nextId = Math.max(this.nextId, Number(contact.id) + 1);
    }
    return true;
  }

  /** Writes only values that differ; lastmodifieddate moves only when something changed. */
  update(id: string, input: unknown, source: ChangeSource): WriteResult {
    const contact = this.contacts.get(id);
    if (!contact || contact.archived) return { ok: false, failure: { kind: 'not_found', id } };
    const validation = this.catalog.validateWrite(input);
    if (!validation.ok) return { ok: false, failure: { kind: 'invalid', errors: validation.errors } };
    const conflict = this.emailConflict(validation.properties.email, id);
    if (conflict) return { ok: false, failure: conflict };
    const changes = Object.entries(validation.properties)
      .filter(([name, value]) => (contact.properties[name] ?? null) !== value)
      .map(([name, value]) => ({ name, value }));
    if (changes.length === 0) return { ok: true, contact };
    this.releaseEmail(contact);
    for (const { name, value } of changes) contact.properties[name] = value;
    this.claimEmail(contact);
    recordVersions(contact, changes, this.touch(contact), source);
    this.onChange({ type: 'propertyChange', contact: copy(contact), source, changes });
    return { ok: true, contact };
  }

  /** Soft delete. False when the contact is unknown or already archived. */
  archive(id: string, source: ChangeSource): boolean {
    const contact = this.contacts.get(id);
    if (!contact || contact.archived) return false;
    this.releaseEmail(contact);
    contact.archived = true;
    contact.archivedAtMs = this.touch(contact);
    this.onChange({ type: 'deletion', contact: copy(contact), source });
    return true;
  }

  restore(id: string, source: ChangeSource): WriteResult {
    const contact = this.contacts.get(id);
    if (!contact || !contact.archived) return { ok: false, failure: { kind: 'not_found', id } };
    const conflict = this.emailConflict(contact.properties.email ?? null, id);
    if (conflict) return { ok: false, failure: conflict };
    contact.archived = false;
    contact.archivedAtMs = null;
    this.claimEmail(contact);
    this.touch(contact);
    this.onChange({ type: 'restore', contact: copy(contact), source });
    return { ok: true, contact };
  }

  /**
   * The primary keeps its id and its values; properties it lacks are taken from the merged contact, which
   * is archived.
   */
  merge(primaryId: string, mergedId: string, source: ChangeSource): WriteResult {
    const primary = this.contacts.get(primaryId);
    const merged = this.contacts.get(mergedId);
    if (!primary || primary.archived) return { ok: false, failure: { kind: 'not_found', id: primaryId } };
    if (!merged || merged.archived || mergedId === primaryId) {
      return { ok: false, failure: { kind: 'not_found', id: mergedId } };
    }
    this.releaseEmail(merged);
    merged.archived = true;
    merged.archivedAtMs = this.touch(merged);
    const taken: Array<{ name: string; value: string | null }> = [];
    for (const [name, value] of Object.entries(merged.properties)) {
      if (this.catalog.isWritable(name) && (primary.properties[name] ?? null) === null && value !== null) {
        primary.properties[name] = value;
        taken.push({ name, value });
      }
    }
    this.claimEmail(primary);
    recordVersions(primary, taken, this.touch(primary), source);
    this.onChange({ type: 'merge', contact: copy(primary), merged: copy(merged), source });
    return { ok: true, contact: primary };
  }

  private emailConflict(email: string | null | undefined, selfId: string | null): WriteFailure | null {
    if (!email) return null;
    const existingId = this.activeEmails.get(normalizeEmail(email));
    if (existingId === undefined || existingId === selfId) return null;
    return { kind: 'conflict', existingId, email };
  }

  private claimEmail(contact: MutableContact): void {
    const email = contact.properties.email;
    if (email) this.activeEmails.set(normalizeEmail(email), contact.id);
  }

  private releaseEmail(contact: MutableContact): void {
    const email = contact.properties.email;
    if (email && this.activeEmails.get(normalizeEmail(email)) === contact.id) {
      this.activeEmails.delete(normalizeEmail(email));
    }
  }

  /** Each contact's modification time strictly increases, even for two writes in one millisecond. */
  private touch(contact: MutableContact): number {
    const now = Math.max(this.clock(), contact.updatedAtMs + 1);
    contact.updatedAtMs = now;
    contact.properties.lastmodifieddate = new Date(now).toISOString();
    return now;
  }
}

function recordVersions(contact: MutableContact, changes: ReadonlyArray<{ name: string; value: string | null }>, timestampMs: number, source: ChangeSource): void {
  for (const { name, value } of changes) {
    contact.history[name] = [{ value, timestampMs, source }, ...(contact.history[name] ?? [])].slice(0, VERSIONS_KEPT);
  }
}

function copy(contact: MutableContact): StoredContact {
  return { ...contact, properties: { ...contact.properties }, history: { ...contact.history } };
}
