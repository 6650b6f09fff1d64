import { contactModifiedAtMs, listAllContacts, listArchivedContacts, pollModifiedContacts, ContactSearchCursorSchema, type HubSpotClient, type HubSpotContact, type HubSpotSettings, type ContactSearchCursor } from '@tandem/hubspot-system';
import { InboxChangeSource, type FetchedRecord, type FetchedWrite } from '@tandem/pipeline';
import { CheckpointRepository, SourceRecordRepository, type SourceNotice, type SqlClient } from '@tandem/state';
import type { Logger } from 'pino';
import { sleep } from '../sleep.util';
import type { SourceReader } from './source-reader.interface';

const BACKFILL = 'backfill';
const POLL = 'poll';

/**
 * A fenced write was refused: a holder with a newer token wrote first, or the lease store lost its
 * counters and handed out an old token again. The holder stops; the connector raises the fence.
 */
export class FencedOutError extends Error {
  constructor(
    message: string,
    readonly newerToken: number,
  ) {
    super(message);
    this.name = 'FencedOutError';
  }
}

export interface HubSpotSourceOptions {
  db: SqlClient;
  client: HubSpotClient;
  settings: HubSpotSettings;
  tenantId: string;
  systemId: string;
  /** The HubSpot properties the sync maps. */
  properties: readonly string[];
  logger: Logger;
}

interface BackfillPosition {
  after: string | null;
  done: boolean;
  contacts: number;
}

/**
 * HubSpot contacts: webhooks announce changes (see HubSpotWebhookReceiver), a backfill lists every
 * contact once, and a search poll on lastmodifieddate plus a sweep of archived contacts are the
 * safety net for deliveries that never came. All of them only add notices to the inbox; the inbox
 * source fetches what was announced in batches of 100 and orders everything by lastmodifieddate.
 */
export class HubSpotSourceReader implements SourceReader {
  readonly source: InboxChangeSource;
  private readonly checkpoints: CheckpointRepository;
  private readonly readProperties: string[];

  constructor(private readonly options: HubSpotSourceOptions) {
    const { db, tenantId, systemId } = options;
    this.readProperties = [...new Set([...options.properties, 'lastmodifieddate'])];
    this.checkpoints = new CheckpointRepository(db);
    this.source = new InboxChangeSource({
      db,
      tenantId,
      systemId,
      fetcher: {
        fetch: (recordIds) => this.read(recordIds, []),
        fetchWithHistory: (recordIds) => this.read(recordIds, options.properties),
        fetchDeleted: (recordIds) => this.read(recordIds, options.properties, true),
      },
    });
  }

  private async read(recordIds: string[], propertiesWithHistory: readonly string[], archived = false): Promise<FetchedRecord[]> {
    const { results } = await this.options.client.batchRead(recordIds, this.readProperties, { propertiesWithHistory, archived });
    return results.flatMap((contact) => fetched(contact, this.options.properties, archived));
  }

  /** Lists every contact once, page by page; resumes from the last stored page after a crash. */
  async prepare(signal: AbortSignal, fencingToken: number): Promise<void> {
    const { tenantId, systemId, settings, client, logger } = this.options;
    const stored = await this.checkpoints.get(tenantId, systemId, BACKFILL);
    const position: BackfillPosition = stored ? (JSON.parse(stored.position) as BackfillPosition) : { after: null, done: false, contacts: 0 };
    if (position.done) return;
    if (!(await this.checkpoints.get(tenantId, systemId, POLL))) {
      // Changes made while the backfill pages through are the poll's to find.
      await this.saveCheckpoint(POLL, { sinceMs: Math.max(0, Date.now() - settings.searchLagMs), idsAtSince: [] }, fencingToken);
    }
    logger.info({ system: systemId, resumedAfter: position.after, contacts: position.contacts }, 'HubSpot backfill started');
    for await (const page of listAllContacts(client, { after: position.after, properties: this.readProperties })) {
      await this.source.enqueue(page.contacts.flatMap((contact) => recordNotice(contact, this.options.properties)));
      position.after = page.after;
      position.done = page.after === null;
      position.contacts += page.contacts.length;
      await this.saveCheckpoint(BACKFILL, position, fencingToken);
      if (position.contacts % 5_000 < page.contacts.length) logger.info({ system: systemId, contacts: position.contacts }, 'HubSpot backfill');
      if (signal.aborted) return;
    }
    logger.info({ system: systemId, contacts: position.contacts }, 'HubSpot backfill done');
  }

  /** The safety net: polls modified contacts, and at its own cadence sweeps the archived ones. */
  async runBeside(signal: AbortSignal, fencingToken: number): Promise<void> {
    const { settings, logger, systemId } = this.options;
    let lastSweepAt = Date.now();
    while (!signal.aborted) {
      await sleep(settings.pollIntervalMs, signal);
      if (signal.aborted) return;
      try {
        await this.pollModified(fencingToken);
        if (Date.now() - lastSweepAt >= settings.archivedSweepIntervalMs) {
          await this.sweepArchived();
          lastSweepAt = Date.now();
        }
      } catch (error) {
        if (error instanceof FencedOutError) throw error;
        logger.warn({ system: systemId, error: error instanceof Error ? error.message : String(error) }, 'HubSpot poll failed; retrying at the next interval');
      }
    }
  }

  async pollModified(fencingToken: number): Promise<number> {
    const { tenantId, systemId, settings, client, logger } = this.options;
    const stored = await this.checkpoints.get(tenantId, systemId, POLL);
    const cursor: ContactSearchCursor = stored
      ? ContactSearchCursorSchema.parse(JSON.parse(stored.position))
      : { sinceMs: Math.max(0, Date.now() - settings.searchLagMs), idsAtSince: [] };
    const result = await pollModifiedContacts(client, cursor, { properties: this.readProperties, nowMs: Date.now(), lagMs: settings.searchLagMs });
    if (result.overflowAtMs !== null) {
      logger.error({ system: systemId, atMs: result.overflowAtMs }, 'more than 10,000 contacts share one modification time; the backfill must be rerun to read them all');
    }
    await this.source.enqueue(result.contacts.flatMap((contact) => recordNotice(contact, this.options.properties)));
    await this.saveCheckpoint(POLL, result.cursor, fencingToken);
    return result.contacts.length;
  }

  /**
   * Archived contacts not yet reported deleted become deletion notices (confirmed by a fetch): those
   * still live in the last report, and those never reported at all (Tandem may have created one
   * that a person archived before its webhooks came); each is reported once.
   */
  async sweepArchived(): Promise<number> {
    const { tenantId, systemId, client, db } = this.options;
    const records = new SourceRecordRepository(db);
    let announced = 0;
    for await (const page of listArchivedContacts(client, { properties: ['lastmodifieddate'] })) {
      const known = await records.load(tenantId, systemId, page.contacts.map((contact) => contact.id));
      const gone = page.contacts.filter((contact) => known.get(contact.id)?.deleted !== true);
      await this.source.enqueue(gone.map((contact) => ({ recordId: contact.id, kind: 'deleted', modifiedAtMs: archivedAtMs(contact), values: null })));
      announced += gone.length;
    }
    return announced;
  }

  async check(): Promise<void> {
    // HubSpot's availability is the breaker's and the poll's concern; readiness must not spend API calls.
  }

  async close(): Promise<void> {
    // Nothing held open: HTTP calls end with their requests.
  }

  private async saveCheckpoint(name: string, position: unknown, fencingToken: number): Promise<void> {
    const { tenantId, systemId } = this.options;
    const saved = await this.checkpoints.save(tenantId, systemId, name, JSON.stringify(position), fencingToken);
    if (!saved) {
      const stored = await this.checkpoints.get(tenantId, systemId, name);
      throw new FencedOutError(`the ${name} checkpoint of ${systemId} carries lease token ${stored?.fencingToken}, newer than this holder's ${fencingToken}`, stored?.fencingToken ?? fencingToken);
    }
  }
}

function pickMapped(contact: HubSpotContact, properties: readonly string[]): Record<string, string | null> {
  const values: Record<string, string | null> = {};
  for (const property of properties) values[property] = contact.properties[property] ?? null;
  return values;
}

/** A contact as read; an archived one as of its archiving, which is where its deletion stands. */
function fetched(contact: HubSpotContact, properties: readonly string[], archived: boolean): FetchedRecord[] {
  const modifiedAtMs = archived ? archivedAtMs(contact) : contactModifiedAtMs(contact);
  if (modifiedAtMs === null) return [];
  const writes = contact.propertiesWithHistory ? { writes: writesOf(contact.propertiesWithHistory) } : {};
  const createdAtMs = Date.parse(contact.createdAt ?? contact.properties['createdate'] ?? '');
  const created = Number.isNaN(createdAtMs) ? {} : { createdAtMs };
  return [{ recordId: contact.id, values: pickMapped(contact, properties), modifiedAtMs, ...created, ...writes }];
}

/** The contact's property history as writes: the properties each one set, at its time. */
function writesOf(history: NonNullable<HubSpotContact['propertiesWithHistory']>): FetchedWrite[] {
  const byTime = new Map<number, Record<string, string | null>>();
  for (const [property, versions] of Object.entries(history)) {
    for (const { value, timestamp } of versions) {
      const atMs = Date.parse(timestamp);
      if (Number.isNaN(atMs)) continue;
      byTime.set(atMs, { ...byTime.get(atMs), [property]: value });
    }
  }
  return [...byTime].map(([modifiedAtMs, values]) => ({ modifiedAtMs, values }));
}

function recordNotice(contact: HubSpotContact, properties: readonly string[]): SourceNotice[] {
  const modifiedAtMs = contactModifiedAtMs(contact);
  return modifiedAtMs === null ? [] : [{ recordId: contact.id, kind: 'record', modifiedAtMs, values: pickMapped(contact, properties) }];
}

function archivedAtMs(contact: HubSpotContact): number | null {
  const ms = contact.archivedAt ? Date.parse(contact.archivedAt) : NaN;
  return Number.isNaN(ms) ? null : ms;
}
