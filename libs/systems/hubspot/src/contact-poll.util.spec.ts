import { pollModifiedContacts, type ContactSearchCursor } from './contact-poll.util';
import type { ContactSearchPage, ContactSearchRequest } from './hubspot-client.service';
import type { HubSpotContact } from './hubspot-response.schema';

/**
 * Search as API-NOTES describes it: lastmodifieddate GTE, ascending, at most 200 a page, `after` an
 * offset, and paging past 10,000 results fails. Ties come back in an order unrelated to ids.
 */
class FakeSearch {
  readonly contacts = new Map<string, number>();
  calls = 0;
  /** Runs before each search answers, to change contacts while a poll pages. */
  beforeSearch: (() => void) | null = null;
  private nextId = 1;
  private sorted: Array<[string, number]> | null = null;

  add(count: number, modifiedAtMs: number): string[] {
    return Array.from({ length: count }, () => {
      const id = String(this.nextId++);
      this.contacts.set(id, modifiedAtMs);
      this.sorted = null;
      return id;
    });
  }

  modify(id: string, modifiedAtMs: number): void {
    this.contacts.set(id, modifiedAtMs);
    this.sorted = null;
  }

  async searchContacts(request: ContactSearchRequest): Promise<ContactSearchPage> {
    this.calls += 1;
    this.beforeSearch?.();
    const filter = request.filterGroups[0]?.filters[0];
    expect(filter).toMatchObject({ propertyName: 'lastmodifieddate', operator: 'GTE' });
    expect(request.sorts).toEqual([{ propertyName: 'lastmodifieddate', direction: 'ASCENDING' }]);
    expect(request.properties).toContain('lastmodifieddate');
    const since = Number(filter?.value);
    const offset = Number(request.after ?? '0');
    const limit = request.limit ?? 10;
    if (limit > 200) throw new Error('limit above 200');
    if (offset + limit > 10_000) throw new Error('paging past 10,000 results');
    this.sorted ??= [...this.contacts].sort(([idA, a], [idB, b]) => a - b || scramble(idA) - scramble(idB));
    const matching = this.sorted.filter(([, ts]) => ts >= since);
    const results = matching.slice(offset, offset + limit).map(([id, ts]) => contact(id, ts));
    const next = offset + limit < matching.length ? String(offset + limit) : null;
    return { total: matching.length, results, after: next };
  }
}

function scramble(id: string): number {
  return (Number(id) * 7919) % 10_007;
}

function contact(id: string, ts: number): HubSpotContact {
  return { id, properties: { lastmodifieddate: new Date(ts).toISOString(), email: `c${id}@x.com` } };
}

const start: ContactSearchCursor = { sinceMs: 0, idsAtSince: [] };
const T = 1_700_000_000_000;

/** Polls until nothing new comes, as a connector would, and returns every id read. */
async function drain(search: FakeSearch, cursor: ContactSearchCursor, nowMs: number, pageLimit = 50) {
  const seen: string[] = [];
  for (let round = 0; round < 20; round += 1) {
    const result = await pollModifiedContacts(search, cursor, { properties: ['email'], nowMs, lagMs: 0, pageLimit });
    seen.push(...result.contacts.map((each) => each.id));
    if (result.contacts.length === 0) return { seen, cursor };
    cursor = result.cursor;
  }
  throw new Error('polling never settled');
}

describe('pollModifiedContacts', () => {
  it('reads contacts sharing a timestamp across page boundaries without skipping or repeating them', async () => {
    const search = new FakeSearch();
    const ids = [...search.add(150, T), ...search.add(450, T + 1), ...search.add(30, T + 2)];
    const result = await pollModifiedContacts(search, start, { properties: ['email'], nowMs: T + 10_000, lagMs: 0 });
    expect(result.contacts.map((each) => each.id).sort()).toEqual([...ids].sort());
    expect(new Set(result.contacts.map((each) => each.id)).size).toBe(ids.length);
    expect(result.cursor.sinceMs).toBe(T + 2);
    expect(result.cursor.idsAtSince.sort()).toEqual(ids.slice(600).sort());
    expect(result.overflowAtMs).toBeNull();
  });

  it('does not lose an unread contact when a read one is modified while it pages', async () => {
    const search = new FakeSearch();
    const ids: string[] = [];
    for (let ms = 0; ms < 500; ms += 1) ids.push(...search.add(1, T + ms));
    // After the first page, its first contact is modified again and moves to the end of the order.
    search.beforeSearch = () => {
      if (search.calls === 2) search.modify(ids[0]!, T + 1_000);
    };
    const result = await pollModifiedContacts(search, start, { properties: [], nowMs: T + 60_000, lagMs: 0 });
    expect(new Set(result.contacts.map((each) => each.id))).toEqual(new Set(ids));
  });

  it('skips ids already read at the cursor, not the timestamp', async () => {
    const search = new FakeSearch();
    const [first, second] = search.add(2, T);
    const result = await pollModifiedContacts(search, { sinceMs: T, idsAtSince: [first!] }, { properties: [], nowMs: T + 60_000, lagMs: 0 });
    expect(result.contacts.map((each) => each.id)).toEqual([second]);
    expect(result.cursor).toEqual({ sinceMs: T, idsAtSince: expect.arrayContaining([first, second]) });
  });

  it('carries on past the 10,000-result cap of one query', async () => {
    const search = new FakeSearch();
    const ids: string[] = [];
    for (let ms = 0; ms < 105; ms += 1) ids.push(...search.add(100, T + ms));
    const { seen } = await drain(search, start, T + 60_000, 200);
    expect(seen.length).toBe(ids.length);
    expect(new Set(seen)).toEqual(new Set(ids));
    // Pages by offset through the bulk-import clusters instead of re-reading each one: 53 pages of
    // new contacts, a page read again at the restart near the cap, and the final empty poll.
    expect(search.calls).toBeLessThanOrEqual(56);
  });

  it('reads a same-millisecond cluster bigger than a page, below the cap', async () => {
    const search = new FakeSearch();
    const ids = [...search.add(1, T - 1), ...search.add(2_500, T), ...search.add(1, T + 1)];
    const { seen } = await drain(search, start, T + 60_000);
    expect(seen.length).toBe(ids.length);
    expect(new Set(seen)).toEqual(new Set(ids));
  });

  it('resumes from its cursor when the page limit stops a poll', async () => {
    const search = new FakeSearch();
    const ids: string[] = [];
    for (let ms = 0; ms < 10; ms += 1) ids.push(...search.add(70, T + ms));
    const first = await pollModifiedContacts(search, start, { properties: [], nowMs: T + 60_000, lagMs: 0, pageLimit: 2 });
    expect(search.calls).toBe(2);
    expect(first.contacts.length).toBeLessThan(ids.length);
    const { seen } = await drain(search, first.cursor, T + 60_000);
    expect(new Set([...first.contacts.map((each) => each.id), ...seen])).toEqual(new Set(ids));
    expect(first.contacts.length + seen.length).toBe(ids.length);
  });

  it('never moves the cursor past now minus the search lag, and reads later contacts again', async () => {
    const search = new FakeSearch();
    const early = search.add(3, T);
    const atHorizon = search.add(2, T + 5_000);
    const late = search.add(4, T + 9_000);
    const now = T + 15_000;
    const result = await pollModifiedContacts(search, start, { properties: [], nowMs: now, lagMs: 10_000 });
    expect(result.contacts).toHaveLength(9);
    expect(result.cursor.sinceMs).toBe(now - 10_000);
    expect(result.cursor.idsAtSince.sort()).toEqual([...atHorizon].sort());
    const again = await pollModifiedContacts(search, result.cursor, { properties: [], nowMs: now, lagMs: 10_000 });
    expect(again.contacts.map((each) => each.id).sort()).toEqual([...late].sort());
    expect(early).toHaveLength(3);
  });

  it('does not move the cursor backwards when the lag horizon is behind it', async () => {
    const search = new FakeSearch();
    search.add(1, T + 100);
    const cursor = { sinceMs: T + 50, idsAtSince: ['x'] };
    const result = await pollModifiedContacts(search, cursor, { properties: [], nowMs: T, lagMs: 10_000 });
    expect(result.contacts).toHaveLength(1);
    expect(result.cursor).toEqual(cursor);
  });

  it('keeps its cursor when nothing changed', async () => {
    const search = new FakeSearch();
    const cursor = { sinceMs: T, idsAtSince: ['1'] };
    const result = await pollModifiedContacts(search, cursor, { properties: [], nowMs: T + 60_000, lagMs: 0 });
    expect(result).toEqual({ contacts: [], cursor, overflowAtMs: null });
  });

  it('reports the millisecond it cannot read whole when more than 10,000 contacts share it, and moves on', async () => {
    const search = new FakeSearch();
    search.add(10_050, T);
    const after = search.add(3, T + 1);
    const result = await pollModifiedContacts(search, start, { properties: [], nowMs: T + 60_000, lagMs: 0, pageLimit: 200 });
    expect(result.overflowAtMs).toBe(T);
    expect(result.contacts).toHaveLength(10_003);
    expect(result.contacts.slice(-3).map((each) => each.id).sort()).toEqual([...after].sort());
    expect(result.cursor.sinceMs).toBe(T + 1);
  });
});
