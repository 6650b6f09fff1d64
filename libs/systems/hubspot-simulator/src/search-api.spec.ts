import { type ApiCall, CONTACTS_PATH, type ErrorBody, type SearchBody, apiClient } from './api-test-client.util';
import { HubSpotSimulator } from './hubspot-simulator.service';
import { eventually } from '@tandem/testing';

const SEARCH = `${CONTACTS_PATH}/search`;

describe('HubSpot simulator: search', () => {
  let simulator: HubSpotSimulator;
  let api: ApiCall;
  let now: number;

  beforeEach(async () => {
    now = Date.parse('2026-01-01T00:00:00.000Z');
    simulator = await HubSpotSimulator.start({
      searchRateLimit: { limit: 1_000, windowMs: 1_000 },
      // Record times under the test's control, so several contacts can share one millisecond.
      clock: () => now,
    });
    api = apiClient(simulator);
  });

  afterEach(() => simulator.close());

  const search = (body: unknown): Promise<{ status: number; headers: Headers; body: SearchBody }> =>
    api<SearchBody>('POST', SEARCH, body);
  const ids = (body: SearchBody): string[] => body.results.map((contact) => contact.id);

  function seed(): Record<'ann' | 'bo' | 'cy' | 'di', string> {
    const ann = simulator.createContact({ email: 'ann@example.com', firstname: 'Ann', lifecyclestage: 'lead' });
    now += 10;
    const bo = simulator.createContact({ email: 'bo@example.com', firstname: 'Bo', phone: '5' });
    now += 10;
    const cy = simulator.createContact({ email: 'cy@example.com', lifecyclestage: 'customer' });
    const di = simulator.createContact({ email: 'di@example.com', firstname: 'Di', phone: '7' });
    return { ann: ann.id, bo: bo.id, cy: cy.id, di: di.id };
  }

  it('filters with every operator; groups are ORed, filters within a group ANDed', async () => {
    const c = seed();
    const where = async (...filters: unknown[]): Promise<string[]> =>
      ids((await search({ filterGroups: [{ filters }], limit: 100 })).body).sort();
    const base = Date.parse('2026-01-01T00:00:00.000Z');
    expect(await where({ propertyName: 'email', operator: 'EQ', value: 'BO@example.com' })).toEqual([c.bo]);
    const at10 = String(base + 10);
    const sorted = (...found: string[]): string[] => found.sort();
    expect(await where({ propertyName: 'firstname', operator: 'NEQ', value: 'Ann' })).toEqual(sorted(c.bo, c.cy, c.di));
    expect(await where({ propertyName: 'lastmodifieddate', operator: 'GT', value: at10 })).toEqual(sorted(c.cy, c.di));
    expect(await where({ propertyName: 'lastmodifieddate', operator: 'GTE', value: at10 })).toEqual(sorted(c.bo, c.cy, c.di));
    expect(await where({ propertyName: 'lastmodifieddate', operator: 'LT', value: at10 })).toEqual([c.ann]);
    const isoAt10 = new Date(base + 10).toISOString();
    expect(await where({ propertyName: 'createdate', operator: 'LTE', value: isoAt10 })).toEqual(sorted(c.ann, c.bo));
    expect(await where({ propertyName: 'phone', operator: 'HAS_PROPERTY' })).toEqual(sorted(c.bo, c.di));
    expect(await where({ propertyName: 'phone', operator: 'NOT_HAS_PROPERTY' })).toEqual(sorted(c.ann, c.cy));
    const stages = ['customer', 'lead'];
    expect(await where({ propertyName: 'lifecyclestage', operator: 'IN', values: stages })).toEqual(sorted(c.ann, c.cy));
    expect(
      await where(
        { propertyName: 'phone', operator: 'HAS_PROPERTY' },
        { propertyName: 'phone', operator: 'GT', value: '6' },
      ),
    ).toEqual([c.di]);
    const ored = await search({
      filterGroups: [
        { filters: [{ propertyName: 'email', operator: 'EQ', value: 'ann@example.com' }] },
        { filters: [{ propertyName: 'email', operator: 'EQ', value: 'cy@example.com' }] },
      ],
    });
    expect(ids(ored.body).sort()).toEqual([c.ann, c.cy].sort());
  });

  it('sorts by lastmodifieddate ascending or descending, ties in a stable order', async () => {
    const c = seed();
    const sorted = async (direction: string): Promise<string[]> =>
      ids((await search({ sorts: [{ propertyName: 'lastmodifieddate', direction }], limit: 100 })).body);
    const ascending = await sorted('ASCENDING');
    expect(ascending.slice(0, 2)).toEqual([c.ann, c.bo]);
    expect(ascending.slice(2).sort()).toEqual([c.cy, c.di].sort());
    expect(await sorted('ASCENDING')).toEqual(ascending);
    const descending = await sorted('DESCENDING');
    expect(descending.slice(2)).toEqual([c.bo, c.ann]);
  });

  it('pages with `after` as an offset, reports `total`, and returns only the requested properties', async () => {
    for (let index = 0; index < 25; index += 1) simulator.createContact({ firstname: `c${index}`, phone: `${index}` });
    const first = await search({ limit: 10, properties: ['phone'] });
    expect(first.status).toBe(200);
    expect(first.body.total).toBe(25);
    expect(first.body.paging?.next.after).toBe('10');
    expect(Object.keys(first.body.results[0]?.properties ?? {}).sort()).toEqual(
      ['createdate', 'hs_object_id', 'lastmodifieddate', 'phone'].sort(),
    );
    const last = await search({ limit: 10, after: '20' });
    expect(last.body.results).toHaveLength(5);
    expect(last.body.paging).toBeUndefined();
    const tooBig = await api<ErrorBody>('POST', SEARCH, { limit: 201 });
    expect(tooBig.status).toBe(400);
    expect(tooBig.body.category).toBe('VALIDATION_ERROR');
  });

  it('returns at most 10,000 results per query: paging past them fails with 400', async () => {
    for (let index = 0; index < 10_050; index += 1) simulator.createContact({ firstname: `c${index}` });
    const nearEnd = await search({ limit: 200, after: '9900' });
    expect(nearEnd.status).toBe(200);
    expect(nearEnd.body.total).toBe(10_050);
    expect(nearEnd.body.results).toHaveLength(100);
    expect(nearEnd.body.paging?.next.after).toBe('10000');
    const past = await api<ErrorBody>('POST', SEARCH, { limit: 200, after: '10000' });
    expect(past.status).toBe(400);
    expect(past.body).toMatchObject({ status: 'error', category: 'VALIDATION_ERROR' });
  });

  it('never returns archived contacts', async () => {
    const c = seed();
    simulator.archiveContact(c.bo);
    await apiClient(simulator)('DELETE', `${CONTACTS_PATH}/${c.cy}`);
    const all = await search({ limit: 100 });
    expect(ids(all.body).sort()).toEqual([c.ann, c.di].sort());
    expect(all.body.total).toBe(2);
  });

  it('has no rate-limit headers, and answers its own limit with a 429 RATE_LIMIT body', async () => {
    await simulator.close();
    simulator = await HubSpotSimulator.start({ searchRateLimit: { limit: 2, windowMs: 60_000 } });
    api = apiClient(simulator);
    const answers = [await search({}), await search({}), await api<ErrorBody>('POST', SEARCH, {})];
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 429]);
    for (const answer of answers) {
      expect([...answer.headers.keys()].filter((name) => name.startsWith('x-hubspot-ratelimit'))).toEqual([]);
    }
    expect(answers[2]?.body).toEqual({
      status: 'error',
      message: 'You have reached your secondly limit.',
      errorType: 'RATE_LIMIT',
      policyName: 'SECONDLY',
      correlationId: expect.any(String),
    });
    expect(simulator.rateLimited()).toBe(1);
    // Search's limit is its own: other endpoints still answer.
    expect((await api('GET', CONTACTS_PATH)).status).toBe(200);
  });
});

describe('HubSpot simulator: search indexing delay', () => {
  let simulator: HubSpotSimulator;

  beforeEach(async () => {
    simulator = await HubSpotSimulator.start({ searchIndexDelayMs: 500, searchRateLimit: { limit: 100, windowMs: 1_000 } });
  });

  afterEach(() => simulator.close());

  it('makes writes searchable only after the delay, archives included', async () => {
    const api = apiClient(simulator);
    const byEmail = async (): Promise<SearchBody> =>
      (
        await api<SearchBody>('POST', SEARCH, {
          filterGroups: [{ filters: [{ propertyName: 'email', operator: 'EQ', value: 'late@example.com' }] }],
        })
      ).body;
    const beforeWrite = Date.now();
    const created = await api<{ id: string }>('POST', CONTACTS_PATH, { properties: { email: 'late@example.com' } });
    expect((await byEmail()).total).toBe(0);
    await eventually(async () => expect((await byEmail()).total).toBe(1), { intervalMs: 20 });
    expect(Date.now() - beforeWrite).toBeGreaterThanOrEqual(500);
    await api('DELETE', `${CONTACTS_PATH}/${created.body.id}`);
    expect((await byEmail()).total).toBe(1);
    await eventually(async () => expect((await byEmail()).total).toBe(0), { intervalMs: 20 });
  });
});
