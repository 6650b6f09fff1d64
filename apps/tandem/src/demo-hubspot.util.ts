import { HubSpotSimulator, type SimContact } from '@tandem/hubspot-simulator';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { DEMO_HUBSPOT } from './demo-sync.config';
import type { ShutdownStack } from './shutdown-stack.util';

const SAVE_CHECK_MS = 500;

export interface DemoHubSpot {
  simulator: HubSpotSimulator;
  /** Where the account's contacts are kept between runs. */
  stateFile: string;
  /** False on the first start: nothing was saved yet. */
  restored: boolean;
  /** Writes the contacts now (after seeding, so a crash does not seed again). */
  save(): Promise<void>;
}

/**
 * The simulated HubSpot account. The simulator keeps contacts in memory, so they are saved to a
 * JSON file in the data directory shortly after every change and at shutdown, and loaded at start.
 * A crash loses at most the last half second of its changes.
 */
export async function startDemoHubSpot(dataRoot: string, port: number, logger: Logger, shutdown: ShutdownStack): Promise<DemoHubSpot> {
  const stateFile = join(dataRoot, 'demo-hubspot', 'contacts.json');
  const simulator = await HubSpotSimulator.start({ port, ...DEMO_HUBSPOT });
  shutdown.push('simulated HubSpot', () => simulator.close());
  const saved = await readSaved(stateFile);
  if (saved) simulator.importContacts(saved);

  let written = fingerprint(simulator);
  let saving: Promise<void> = Promise.resolve();
  const save = (): Promise<void> => {
    saving = saving.then(async () => {
      const contacts = allContacts(simulator);
      await writeAtomically(stateFile, JSON.stringify(contacts));
      written = fingerprintOf(contacts);
    });
    return saving;
  };
  const timer = setInterval(() => {
    if (fingerprint(simulator) === written) return;
    save().catch((error: unknown) => logger.error({ error: String(error), stateFile }, 'simulated HubSpot contacts could not be saved'));
  }, SAVE_CHECK_MS);
  shutdown.push('simulated HubSpot contacts', async () => {
    clearInterval(timer);
    await save();
  });
  return { simulator, stateFile, restored: saved !== null, save };
}

function allContacts(simulator: HubSpotSimulator): SimContact[] {
  return [...simulator.contacts(), ...simulator.contacts({ archived: true })];
}

/** Every write moves one contact's updatedAt forward, so the sum moves with every change. */
function fingerprintOf(contacts: SimContact[]): string {
  return `${contacts.length}:${contacts.reduce((sum, contact) => sum + Date.parse(contact.updatedAt), 0)}`;
}

function fingerprint(simulator: HubSpotSimulator): string {
  return fingerprintOf(allContacts(simulator));
}

async function readSaved(file: string): Promise<SimContact[] | null> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as SimContact[];
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new Error(`the simulated HubSpot contacts in ${file} cannot be read; move the file away to start the account afresh`, { cause: error });
  }
}

/** A crash mid-write leaves the previous file, never half of one. */
async function writeAtomically(file: string, content: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, content);
  await rename(temporary, file);
}
