import type { HubSpotSimulator } from '@tandem/hubspot-simulator';
import type { Pool } from 'pg';

export interface DemoScenarioOptions {
  crm: Pool;
  hubspot: HubSpotSimulator;
  /** One line per step, for the terminal. */
  say: (line: string) => void;
  /** Between two steps. */
  paceMs?: number;
  burstSize?: number;
}

interface LinkedPair {
  crmId: number;
  hubspotId: string;
  fullName: string;
  email: string;
}

const LAST_NAMES = ['Byron', 'King', 'Noether', 'Babbage', 'Shannon', 'Knuth', 'Kay', 'Wing', 'Cerf', 'Floyd'];
/** A round with a burst every this many rounds, the first round included. */
const BURST_EVERY_ROUNDS = 5;

/**
 * The live demo: edits in the CRM and in HubSpot at a gentle pace, a conflict resolved by rule (the
 * last name edited on both sides) and one left for a person (the phone edited on both sides), and
 * now and then a burst of CRM edits. Repeats until stopped.
 */
export class DemoScenario {
  private readonly stopping = new AbortController();
  private loop: Promise<void> | null = null;
  private edits = 0;

  constructor(private readonly options: DemoScenarioOptions) {}

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    const steps = [() => this.crmEdit(), () => this.hubspotEdit(), () => this.nameConflict(), () => this.crmEdit(), () => this.hubspotEdit(), () => this.phoneConflict()];
    for (let round = 0; !this.stopping.signal.aborted; round += 1) {
      const burst = round % BURST_EVERY_ROUNDS === 0 ? [() => this.burst()] : [];
      for (const step of [...steps, ...burst]) {
        await this.pause();
        if (this.stopping.signal.aborted) return;
        // One failed step (a contact archived meanwhile, a connection dropped) does not end the demo.
        await step().catch((error: unknown) => this.options.say(`scenario: a step failed (${error instanceof Error ? error.message : String(error)})`));
      }
    }
  }

  private async crmEdit(): Promise<void> {
    const pair = await this.pickPair();
    if (!pair) return;
    const phone = this.nextPhone();
    await this.options.crm.query('UPDATE contacts SET phone = $1 WHERE id = $2', [phone, pair.crmId]);
    this.options.say(`scenario: CRM edit — ${pair.fullName}'s phone is now ${phone}`);
  }

  private async hubspotEdit(): Promise<void> {
    const pair = await this.pickPair();
    if (!pair) return;
    const lastname = this.nextLastName();
    this.options.hubspot.updateContact(pair.hubspotId, { lastname });
    this.options.say(`scenario: HubSpot edit — ${pair.email}'s last name is now ${lastname}`);
  }

  /** The same field changed on both sides before either change reached the other: latest_wins decides. */
  private async nameConflict(): Promise<void> {
    const pair = await this.pickPair();
    if (!pair) return;
    const [first] = pair.fullName.split(' ');
    const inCrm = this.nextLastName();
    const inHubSpot = this.nextLastName();
    await this.options.crm.query('UPDATE contacts SET full_name = $1 WHERE id = $2', [`${first} ${inCrm}`, pair.crmId]);
    this.options.hubspot.updateContact(pair.hubspotId, { lastname: inHubSpot });
    this.options.say(`scenario: conflict — ${pair.email}'s last name set to ${inCrm} in the CRM and to ${inHubSpot} in HubSpot (latest edit wins)`);
  }

  /** Phones are `manual`: this conflict waits for a person (npm run tandem -- conflicts list --tenant demo). */
  private async phoneConflict(): Promise<void> {
    const pair = await this.pickPair();
    if (!pair) return;
    const inCrm = this.nextPhone();
    const inHubSpot = this.nextPhone();
    await this.options.crm.query('UPDATE contacts SET phone = $1 WHERE id = $2', [inCrm, pair.crmId]);
    this.options.hubspot.updateContact(pair.hubspotId, { phone: inHubSpot });
    this.options.say(`scenario: conflict — ${pair.email}'s phone set to ${inCrm} in the CRM and to ${inHubSpot} in HubSpot (waits for a person)`);
  }

  /** Many edits at once, as an import would make: each is its own committed change. */
  private async burst(): Promise<void> {
    const { burstSize = 200 } = this.options;
    const { rows } = await this.options.crm.query<{ id: number }>('SELECT id FROM contacts ORDER BY id');
    if (rows.length === 0) return;
    this.options.say(`scenario: burst — ${burstSize} CRM edits`);
    for (let i = 0; i < burstSize && !this.stopping.signal.aborted; i += 1) {
      await this.options.crm.query('UPDATE contacts SET phone = $1 WHERE id = $2', [this.nextPhone(), rows[i % rows.length]!.id]);
    }
  }

  /** A contact present on both sides (linked by email), picked at random. */
  private async pickPair(): Promise<LinkedPair | null> {
    const { rows } = await this.options.crm.query<{ id: number; full_name: string | null; email: string | null }>('SELECT id, full_name, email FROM contacts');
    const inHubSpot = new Map(this.options.hubspot.contacts().map((contact) => [contact.properties['email']?.toLowerCase(), contact.id]));
    const pairs = rows.flatMap((row) => {
      const hubspotId = row.email ? inHubSpot.get(row.email.toLowerCase()) : undefined;
      return hubspotId && row.email && row.full_name?.includes(' ') ? [{ crmId: row.id, hubspotId, fullName: row.full_name, email: row.email }] : [];
    });
    return pairs[Math.floor(Math.random() * pairs.length)] ?? null;
  }

  private nextPhone(): string {
    this.edits += 1;
    return `+1 555 ${String(1000 + (this.edits % 9000)).padStart(4, '0')}`;
  }

  private nextLastName(): string {
    this.edits += 1;
    return LAST_NAMES[this.edits % LAST_NAMES.length]!;
  }

  private pause(): Promise<void> {
    const { paceMs = 4_000 } = this.options;
    const { signal } = this.stopping;
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, paceMs);
      signal.addEventListener('abort', done, { once: true });
    });
  }
}
