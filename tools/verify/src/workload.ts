import type { HubSpotSimulator } from '@tandem/hubspot-simulator';
import type { FieldMapper } from '@tandem/mapping';
import type { Pool, PoolClient } from 'pg';
import type { CanonicalRecord, OpRecord } from './history-check.util';
import type { SeededRandom } from './seeded-random.util';

export const SYSTEMS = ['crm', 'customer', 'hubspot'] as const;
export type SystemId = (typeof SYSTEMS)[number];
type Field = 'first_name' | 'last_name' | 'phone';
const EDITABLE: readonly Field[] = ['first_name', 'last_name', 'phone'];

export interface WorkloadSystems {
  crm: Pool;
  customer: Pool;
  hubspot: HubSpotSimulator;
  mappers: Record<SystemId, FieldMapper>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** The database's clock in µs once the statement holds the row: two writers of one row get it in lock order. */
const ROW_CLOCK = `(extract(epoch from clock_timestamp()) * 1000000)::bigint::text AS row_clock`;
type Confirmed = { fields: CanonicalRecord; order: number; seen: CanonicalRecord };

/**
 * Random edits made directly in each system, as people and other programs would: creates, updates
 * of random fields, deletes, bursts on one contact from several systems at once, and PostgreSQL
 * transactions that commit late (their changes carry the statement's old time). Every confirmed edit
 * is recorded with its canonical values and real-time interval; an edit that found no record (already
 * deleted there, or not synced there yet) changed nothing and is not recorded. Emails never change.
 */
export class Workload {
  readonly ops: OpRecord[] = [];
  readonly emails: string[] = [];
  private nextValue = 0;
  private nextEmail = 0;
  /** The simulator applies calls one at a time, in the order they are made. */
  private hubspotCalls = 0;

  constructor(
    private readonly systems: WorkloadSystems,
    private readonly seed: number,
  ) {}

  /** Contacts that exist before any service starts, one system each. */
  async seedContacts(perSystem: number): Promise<void> {
    for (const system of SYSTEMS) {
      for (let index = 0; index < perSystem; index += 1) await this.create(system);
    }
  }

  /** One random operation; resolves with the number of edits it confirmed. */
  async step(random: SeededRandom): Promise<number> {
    const before = this.ops.length;
    const roll = random.next();
    if (roll < 0.1 || this.emails.length < 10) {
      const first = random.pick(SYSTEMS);
      // Now and then the same new contact is entered in two systems at once: they must be matched.
      if (random.chance(0.15)) {
        const email = this.newEmail();
        const second = random.pick(SYSTEMS.filter((system) => system !== first));
        await Promise.all([this.create(first, email), this.create(second, email)]);
      } else {
        await this.create(first);
      }
    } else if (roll < 0.15) {
      await this.delete(random.pick(SYSTEMS), random.pick(this.emails));
    } else if (roll < 0.25) {
      // A burst: several systems edit one contact at the same moment.
      const email = random.pick(this.emails);
      const edits = Array.from({ length: random.int(2, 5) }, () => ({ system: random.pick(SYSTEMS), fields: this.randomFields(random) }));
      await Promise.all(edits.map(({ system, fields }) => this.update(system, email, fields)));
    } else if (roll < 0.32) {
      const system = random.pick(['crm', 'customer'] as const);
      await this.update(system, random.pick(this.emails), this.randomFields(random), random.int(1_000, 3_000));
    } else {
      await this.update(random.pick(SYSTEMS), random.pick(this.emails), this.randomFields(random));
    }
    return this.ops.length - before;
  }

  private newEmail(): string {
    this.nextEmail += 1;
    const email = `c${this.nextEmail}.s${this.seed}@verify.example`;
    this.emails.push(email);
    return email;
  }

  private value(prefix: string): string {
    this.nextValue += 1;
    return `${prefix}${this.nextValue}`;
  }

  private randomFields(random: SeededRandom): Partial<Record<Field, string>> {
    const chosen = EDITABLE.filter(() => random.chance(0.45));
    const fields = chosen.length > 0 ? chosen : [random.pick(EDITABLE)];
    return Object.fromEntries(fields.map((field) => [field, this.value(field === 'phone' ? 'P' : field === 'first_name' ? 'F' : 'L')]));
  }

  private async create(system: SystemId, email = this.newEmail()): Promise<void> {
    const first = this.value('F');
    const last = this.value('L');
    const phone = this.value('P');
    const start = Date.now();
    let order: number;
    switch (system) {
      case 'crm':
        order = rowClock(await this.systems.crm.query(`INSERT INTO contacts (full_name, email, phone) VALUES ($1, $2, $3) RETURNING ${ROW_CLOCK}`, [`${first} ${last}`, email, phone]));
        break;
      case 'customer':
        order = rowClock(await this.systems.customer.query(`INSERT INTO contacts (first_name, last_name, email_address, phone) VALUES ($1, $2, $3, $4) RETURNING ${ROW_CLOCK}`, [first, last, email, phone]));
        break;
      case 'hubspot':
        try {
          this.systems.hubspot.createContact({ email, firstname: first, lastname: last, phone });
        } catch {
          // Tandem created it there first (a contact entered in two systems at once): nothing was written.
          return;
        }
        order = ++this.hubspotCalls;
        break;
    }
    this.record(email, system, 'create', { first_name: first, last_name: last, email, phone }, start, order);
  }

  private async update(system: SystemId, email: string, fields: Partial<Record<Field, string>>, holdMs = 0): Promise<void> {
    const start = Date.now();
    const changed = system === 'hubspot' ? this.updateHubSpot(email, fields) : await this.updatePostgres(system, email, fields, holdMs);
    if (changed) this.record(email, system, 'update', changed.fields, start, changed.order, changed.seen);
  }

  private updateHubSpot(email: string, fields: Partial<Record<Field, string>>): Confirmed | null {
    const { hubspot } = this.systems;
    const contact = hubspot.contacts().find((candidate) => candidate.properties['email'] === email);
    if (!contact) return null;
    const properties: Record<string, string> = {};
    if (fields.first_name) properties['firstname'] = fields.first_name;
    if (fields.last_name) properties['lastname'] = fields.last_name;
    if (fields.phone) properties['phone'] = fields.phone;
    const seen: CanonicalRecord = { first_name: contact.properties['firstname'] ?? null, last_name: contact.properties['lastname'] ?? null, phone: contact.properties['phone'] ?? null };
    hubspot.updateContact(contact.id, properties);
    return { fields: { ...fields }, order: ++this.hubspotCalls, seen };
  }

  /** One transaction; with `holdMs` it waits before committing, so the change arrives late with its old time. */
  private async updatePostgres(system: 'crm' | 'customer', email: string, fields: Partial<Record<Field, string>>, holdMs: number): Promise<Confirmed | null> {
    const client = await this.systems[system].connect();
    try {
      await client.query('BEGIN');
      const changed = system === 'crm' ? await this.updateCrmRow(client, email, fields) : await this.updateCustomerRow(client, email, fields);
      if (!changed) {
        await client.query('ROLLBACK');
        return null;
      }
      if (holdMs > 0) await sleep(holdMs);
      await client.query('COMMIT');
      return changed;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  private async updateCrmRow(client: PoolClient, email: string, fields: Partial<Record<Field, string>>): Promise<Confirmed | null> {
    const { rows } = await client.query<{ id: number; full_name: string | null; phone: string | null }>(`SELECT id, full_name, phone FROM contacts WHERE email = $1 FOR UPDATE`, [email]);
    const row = rows[0];
    if (!row) return null;
    const mapper = this.systems.mappers.crm;
    const before = mapper.toCanonical({ full_name: row.full_name }).values;
    const seen: CanonicalRecord = { first_name: (before['first_name'] as string | null) ?? null, last_name: (before['last_name'] as string | null) ?? null, phone: row.phone };
    const first = fields.first_name ?? (before['first_name'] as string | null) ?? null;
    const last = fields.last_name ?? (before['last_name'] as string | null) ?? null;
    const fullName = [first, last].filter((part) => part !== null).join(' ') || null;
    const after = mapper.toCanonical({ full_name: fullName }).values;
    const changed: CanonicalRecord = {};
    for (const field of ['first_name', 'last_name'] as const) {
      if ((after[field] ?? null) !== (before[field] ?? null)) changed[field] = (after[field] as string | null) ?? null;
    }
    if (fields.phone) changed['phone'] = fields.phone;
    const updated = await client.query<{ row_clock: string }>(`UPDATE contacts SET full_name = $1, phone = coalesce($2, phone) WHERE id = $3 RETURNING ${ROW_CLOCK}`, [fullName, fields.phone ?? null, row.id]);
    return { fields: changed, order: rowClock(updated), seen };
  }

  private async updateCustomerRow(client: PoolClient, email: string, fields: Partial<Record<Field, string>>): Promise<Confirmed | null> {
    const { rows } = await client.query<CanonicalRecord>(`SELECT first_name, last_name, phone FROM contacts WHERE email_address = $1 FOR UPDATE`, [email]);
    const seen = rows[0];
    if (!seen) return null;
    const updated = await client.query<{ row_clock: string }>(
      `UPDATE contacts SET first_name = coalesce($1, first_name), last_name = coalesce($2, last_name), phone = coalesce($3, phone) WHERE email_address = $4 RETURNING ${ROW_CLOCK}`,
      [fields.first_name ?? null, fields.last_name ?? null, fields.phone ?? null, email],
    );
    return updated.rows.length > 0 ? { fields: { ...fields }, order: rowClock(updated), seen: { ...seen } } : null;
  }

  private async delete(system: SystemId, email: string): Promise<void> {
    const start = Date.now();
    let order: number | null = null;
    switch (system) {
      case 'crm': {
        const deleted = await this.systems.crm.query<{ row_clock: string }>(`DELETE FROM contacts WHERE email = $1 RETURNING ${ROW_CLOCK}`, [email]);
        if (deleted.rows.length > 0) order = rowClock(deleted);
        break;
      }
      case 'customer': {
        const deleted = await this.systems.customer.query<{ row_clock: string }>(`DELETE FROM contacts WHERE email_address = $1 RETURNING ${ROW_CLOCK}`, [email]);
        if (deleted.rows.length > 0) order = rowClock(deleted);
        break;
      }
      case 'hubspot': {
        const contact = this.systems.hubspot.contacts().find((candidate) => candidate.properties['email'] === email);
        if (contact) {
          this.systems.hubspot.archiveContact(contact.id);
          order = ++this.hubspotCalls;
        }
        break;
      }
    }
    if (order !== null) this.record(email, system, 'delete', {}, start, order);
  }

  private record(email: string, system: SystemId, kind: OpRecord['kind'], fields: CanonicalRecord, start: number, order: number, seen?: CanonicalRecord): void {
    const op: OpRecord = { id: this.ops.length + 1, email, system, kind, fields, start, end: Date.now(), order };
    if (seen) op.seen = seen;
    this.ops.push(op);
  }
}

/** The latest row clock a statement returned (a statement touching several rows holds them all by then). */
function rowClock(result: { rows: Array<{ row_clock: string }> }): number {
  return Math.max(...result.rows.map((row) => Number(row.row_clock)));
}
