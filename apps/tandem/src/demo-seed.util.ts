import type { HubSpotSimulator } from '@tandem/hubspot-simulator';
import type { Pool } from 'pg';

const FIRST_NAMES = ['Ada', 'Grace', 'Alan', 'Katherine', 'Linus', 'Margaret', 'Dennis', 'Barbara', 'Ken', 'Frances', 'Edsger', 'Radia', 'Tim', 'Hedy', 'John', 'Shafi'];
const LAST_NAMES = ['Lovelace', 'Hopper', 'Turing', 'Johnson', 'Torvalds', 'Hamilton', 'Ritchie', 'Liskov', 'Thompson', 'Allen', 'Dijkstra', 'Perlman', 'Lee', 'Lamarr', 'Backus', 'Goldwasser'];

export interface DemoPerson {
  firstName: string;
  lastName: string;
  email: string;
  phone: string;
}

/** The same people every time, so a demo is reproducible. */
export function demoPerson(index: number): DemoPerson {
  const firstName = FIRST_NAMES[index % FIRST_NAMES.length]!;
  const lastName = LAST_NAMES[(index * 7 + 3) % LAST_NAMES.length]!;
  return { firstName, lastName, email: `${firstName}.${lastName}.${index}@example.com`.toLowerCase(), phone: `+1 555 01${String(index).padStart(2, '0')}` };
}

/** 40 CRM contacts and 20 HubSpot contacts; 10 people are in both, to be linked by email. */
export const DEMO_SEED = { crm: { from: 0, to: 40 }, hubspot: { from: 30, to: 50 } } as const;

function people({ from, to }: { from: number; to: number }): DemoPerson[] {
  return Array.from({ length: to - from }, (_, offset) => demoPerson(from + offset));
}

/**
 * Seeds the CRM once: the rows and a marker commit together, so a restart (even after a crash
 * mid-seed) neither seeds twice nor leaves half a seed. Returns how many contacts it added.
 */
export async function seedCrm(pool: Pool): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('CREATE TABLE IF NOT EXISTS demo_seeded (seeded_at timestamptz NOT NULL DEFAULT now())');
    const { rows } = await client.query<{ seeded: boolean }>('SELECT EXISTS (SELECT 1 FROM demo_seeded) AS seeded');
    if (rows[0]?.seeded) {
      await client.query('ROLLBACK');
      return 0;
    }
    const seed = people(DEMO_SEED.crm);
    await client.query('INSERT INTO contacts (full_name, email, phone) SELECT * FROM unnest($1::text[], $2::text[], $3::text[])', [
      seed.map((person) => `${person.firstName} ${person.lastName}`),
      seed.map((person) => person.email),
      seed.map((person) => person.phone),
    ]);
    await client.query('INSERT INTO demo_seeded DEFAULT VALUES');
    await client.query('COMMIT');
    return seed.length;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** Seeds an empty simulated account, as people typing in HubSpot would. */
export function seedHubSpot(simulator: HubSpotSimulator): number {
  const seed = people(DEMO_SEED.hubspot);
  for (const person of seed) simulator.createContact({ firstname: person.firstName, lastname: person.lastName, email: person.email, phone: person.phone });
  return seed.length;
}
