import { z } from 'zod';
import type { ContactSearchRequest, HubSpotClient } from './hubspot-client.service';
import { toContactRecord } from './contact-record.util';
import type { HubSpotContact } from './hubspot-response.schema';

/**
 * Where polling stands, on HubSpot's clock: every contact modified before `sinceMs` has been read,
 * and so have those modified exactly at `sinceMs` whose ids are listed. JSON-serialisable.
 */
export const ContactSearchCursorSchema = z.object({
  sinceMs: z.number().int().nonnegative(),
  idsAtSince: z.array(z.string()),
});
export type ContactSearchCursor = z.infer<typeof ContactSearchCursorSchema>;

export interface PollOptions {
  properties: readonly string[];
  /** Now on this process's clock. */
  nowMs: number;
  /** How long a write may take to become searchable; the cursor never passes `nowMs - lagMs`. */
  lagMs: number;
  /** Search calls at most in this poll; the next poll carries on from the cursor. Default 50. */
  pageLimit?: number;
}

export interface PollResult {
  /** Contacts changed since the cursor, oldest first. Ones newer than the lag horizon come again next time. */
  contacts: HubSpotContact[];
  cursor: ContactSearchCursor;
  /**
   * Set when more contacts than one search query can return (10,000) share one millisecond: the
   * ones beyond the cap at that millisecond were not read (see `pollModifiedContacts`).
   */
  overflowAtMs: number | null;
}

export const SEARCH_PAGE_LIMIT = 200;
/** A search query returns at most this many results; paging past it fails. */
export const SEARCH_RESULT_CAP = 10_000;
const DEFAULT_PAGE_LIMIT = 50;

/**
 * Reads contacts modified since the cursor through search, by lastmodifieddate ascending.
 *
 * A page normally starts a fresh query from the last timestamp reached, skipping the ids already
 * read at that timestamp (never the timestamp itself), so contacts sharing a millisecond are not
 * skipped, and a contact that moves to the end of the order while we page (modified again) cannot
 * shift an unread one past a page boundary, as it could with offset paging. When many contacts
 * share the page's last millisecond (a bulk import), re-reading them would cost much of each page,
 * so it pages by offset within the query instead, and starts a new query from the last timestamp
 * reached before the 10,000-result cap.
 *
 * The one limit: more than 10,000 contacts modified in the exact same millisecond cannot all be
 * read through search; the rest of that millisecond is skipped and reported as `overflowAtMs`, for
 * the caller to log and cover with a full listing.
 *
 * Writes take seconds to become searchable, so the returned cursor never passes `nowMs - lagMs`;
 * contacts modified after that are returned now and again next time (consumers deduplicate by id and
 * lastmodifieddate).
 */
export async function pollModifiedContacts(
  client: Pick<HubSpotClient, 'searchContacts'>,
  cursor: ContactSearchCursor,
  { properties, nowMs, lagMs, pageLimit = DEFAULT_PAGE_LIMIT }: PollOptions,
): Promise<PollResult> {
  const horizon = nowMs - lagMs;
  const searchProperties = [...new Set([...properties, 'lastmodifieddate'])];
  // Ids read at the two timestamps the final cursor may stop at other than the last one reached.
  const idsAt = new Map<number, Set<string>>([[cursor.sinceMs, new Set(cursor.idsAtSince)]]);
  if (!idsAt.has(horizon)) idsAt.set(horizon, new Set());

  const contacts: HubSpotContact[] = [];
  let queryStart = cursor.sinceMs;
  let lastTs = cursor.sinceMs;
  let idsAtLast = new Set(cursor.idsAtSince);
  let after: string | null = null;
  let readInQuery = 0;
  let overflowAtMs: number | null = null;

  for (let page = 0; page < pageLimit; page += 1) {
    const result = await client.searchContacts(searchRequest(queryStart, after, searchProperties));
    for (const contact of result.results) {
      const ts = toContactRecord(contact).modifiedAtMs;
      if (ts > lastTs) {
        lastTs = ts;
        idsAtLast = new Set();
      }
      if (ts === lastTs) {
        if (idsAtLast.has(contact.id)) continue;
        idsAtLast.add(contact.id);
      }
      idsAt.get(ts)?.add(contact.id);
      contacts.push(contact);
    }
    readInQuery += result.results.length;
    if (result.after === null) break;
    const nearCap = readInQuery + SEARCH_PAGE_LIMIT > SEARCH_RESULT_CAP;
    // A restart reads the page's last millisecond again; worth it unless that is much of a page.
    const tail = result.results.filter((contact) => toContactRecord(contact).modifiedAtMs === lastTs).length;
    if (lastTs > queryStart && (nearCap || tail * 4 <= result.results.length)) {
      queryStart = lastTs;
      after = null;
      readInQuery = 0;
    } else if (nearCap) {
      overflowAtMs = queryStart;
      queryStart += 1;
      lastTs = queryStart;
      idsAtLast = new Set();
      after = null;
      readInQuery = 0;
    } else {
      after = result.after;
    }
  }

  const sinceMs = Math.min(lastTs, Math.max(horizon, cursor.sinceMs));
  const ids = sinceMs === lastTs ? idsAtLast : (idsAt.get(sinceMs) ?? new Set<string>());
  return { contacts, cursor: { sinceMs, idsAtSince: [...ids] }, overflowAtMs };
}

function searchRequest(sinceMs: number, after: string | null, properties: string[]): ContactSearchRequest {
  return {
    filterGroups: [{ filters: [{ propertyName: 'lastmodifieddate', operator: 'GTE', value: String(sinceMs) }] }],
    sorts: [{ propertyName: 'lastmodifieddate', direction: 'ASCENDING' }],
    properties,
    limit: SEARCH_PAGE_LIMIT,
    ...(after === null ? {} : { after }),
  };
}
