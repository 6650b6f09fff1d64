import { createMemoryCoordination, type RateLimiter, type RateLimitPolicy } from '@tandem/coordination';
import { HubSpotApiErrorCode } from './hubspot-api.error';
import { HubSpotClient } from './hubspot-client.service';
import { HubSpotSettingsSchema } from './hubspot-settings.schema';

interface Call {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body: unknown;
}

type Answer = { status: number; body?: unknown; headers?: Record<string, string> } | 'hang';

/** A fetch answering from a script, one answer per call (the last one repeats). */
function scriptedFetch(answers: Answer[]) {
  const calls: Call[] = [];
  const fetchFn = (async (input: string | URL | Request, init?: RequestInit) => {
    const headers = init?.headers as Record<string, string>;
    calls.push({ method: init?.method ?? 'GET', url: new URL(String(input)), headers, body: init?.body ? JSON.parse(String(init.body)) : undefined });
    const answer = answers[Math.min(calls.length - 1, answers.length - 1)]!;
    if (answer === 'hang') {
      return new Promise<Response>((_, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal?.reason)));
    }
    const text = typeof answer.body === 'string' ? answer.body : answer.body === undefined ? '' : JSON.stringify(answer.body);
    return new Response(answer.status === 204 ? null : text, { status: answer.status, headers: answer.headers ?? {} });
  }) as typeof fetch;
  return { calls, fetchFn };
}

/** The memory limiter, recording what the client asks of it. */
function recordingLimiter() {
  const inner = createMemoryCoordination().rateLimiter;
  const acquired: string[] = [];
  const penalties: Array<[string, number]> = [];
  const limiter: RateLimiter = {
    tryAcquire: (key, policy, cost) => inner.tryAcquire(key, policy, cost),
    acquire: (key: string, policy: RateLimitPolicy, options) => {
      acquired.push(key);
      return inner.acquire(key, policy, options);
    },
    penalize: (key, durationMs) => {
      penalties.push([key, durationMs]);
      return inner.penalize(key, durationMs);
    },
  };
  return { limiter, acquired, penalties };
}

const contact = (id: string) => ({ id, properties: { email: `${id}@x.com`, lastmodifieddate: '2024-01-01T00:00:00.000Z' }, createdAt: 'x', updatedAt: 'x', archived: false });
const rateLimited = (policyName: string, headers: Record<string, string> = {}): Answer => ({
  status: 429,
  headers,
  body: { status: 'error', message: 'You have reached your limit.', errorType: 'RATE_LIMIT', policyName, correlationId: 'c' },
});

function client(answers: Answer[], options: { maxRateLimitRetries?: number; requestTimeoutMs?: number } = {}) {
  const { calls, fetchFn } = scriptedFetch(answers);
  const { limiter, acquired, penalties } = recordingLimiter();
  const hubspot = new HubSpotClient({
    baseUrl: 'http://hubspot.test/',
    accessToken: 'token-1',
    accountId: '33',
    rateLimiter: limiter,
    limits: { requests: { limit: 100, windowMs: 10_000 }, search: { limit: 5, windowMs: 1_000 }, daily: 250_000 },
    requestTimeoutMs: options.requestTimeoutMs ?? 5_000,
    fetch: fetchFn,
    ...(options.maxRateLimitRetries === undefined ? {} : { maxRateLimitRetries: options.maxRateLimitRetries }),
  });
  return { hubspot, calls, acquired, penalties };
}

describe('HubSpotClient', () => {
  it('lists a page with the token, the properties and the next cursor, after taking a rate-limit grant', async () => {
    const { hubspot, calls, acquired } = client([{ status: 200, body: { results: [contact('1')], paging: { next: { after: '2', link: 'x' } } } }]);
    const page = await hubspot.listContacts({ properties: ['email', 'phone'], after: '1' });
    expect(page).toEqual({ results: [expect.objectContaining({ id: '1' })], after: '2' });
    expect(calls[0]!.headers['authorization']).toBe('Bearer token-1');
    expect(calls[0]!.url.pathname).toBe('/crm/v3/objects/contacts');
    expect(Object.fromEntries(calls[0]!.url.searchParams)).toEqual({ limit: '100', after: '1', properties: 'email,phone', archived: 'false' });
    expect(acquired).toEqual(['hubspot:33']);
  });

  it('takes a search grant as well as the account grant for search', async () => {
    const { hubspot, acquired, calls } = client([{ status: 200, body: { total: 0, results: [] } }]);
    const page = await hubspot.searchContacts({ filterGroups: [], properties: ['email'], limit: 200 });
    expect(page).toEqual({ total: 0, results: [], after: null });
    expect(calls[0]!.url.pathname).toBe('/crm/v3/objects/contacts/search');
    expect(acquired).toEqual(['hubspot:33:search', 'hubspot:33']);
  });

  it('on a ten-secondly 429 blocks the shared key for Retry-After, then retries', async () => {
    const { hubspot, calls, penalties } = client([rateLimited('TEN_SECONDLY_ROLLING', { 'retry-after': '0.02' }), { status: 200, body: { results: [] } }]);
    await expect(hubspot.listContacts({ properties: [] })).resolves.toEqual({ results: [], after: null });
    expect(calls).toHaveLength(2);
    expect(penalties).toEqual([['hubspot:33', 20]]);
  });

  it('gives up after its bounded retries with a retryable RATE_LIMITED', async () => {
    const { hubspot, calls } = client([rateLimited('SECONDLY', { 'retry-after': '0.001' })], { maxRateLimitRetries: 2 });
    await expect(hubspot.listContacts({ properties: [] })).rejects.toMatchObject({ code: HubSpotApiErrorCode.RateLimited, retryable: true, status: 429 });
    expect(calls).toHaveLength(3);
  });

  it('fails at once on the DAILY policy, not retryable', async () => {
    const { hubspot, calls, penalties } = client([rateLimited('DAILY')]);
    await expect(hubspot.listContacts({ properties: [] })).rejects.toMatchObject({ code: HubSpotApiErrorCode.DailyLimit, retryable: false });
    expect(calls).toHaveLength(1);
    expect(penalties).toEqual([]);
  });

  it('throws a 5xx at once as retryable, for the breaker to count', async () => {
    const { hubspot, calls } = client([{ status: 503, body: { status: 'error', message: 'down', correlationId: 'abc' } }]);
    await expect(hubspot.batchArchive(['1'])).rejects.toMatchObject({ code: HubSpotApiErrorCode.Server, retryable: true, correlationId: 'abc' });
    expect(calls).toHaveLength(1);
  });

  it('tells an archive\'s caller before each request goes out, a 429 retry included, when its answer is due', async () => {
    const { hubspot, calls } = client([rateLimited('TEN_SECONDLY_ROLLING', { 'retry-after': '0.01' }), { status: 204 }], { requestTimeoutMs: 7_000 });
    const notes: Array<{ answeredBy: number; sentBefore: number; at: number }> = [];
    await hubspot.batchArchive(['1', '2'], async (answeredBy) => void notes.push({ answeredBy, sentBefore: calls.length, at: Date.now() }));
    expect(notes.map(({ sentBefore }) => sentBefore)).toEqual([0, 1]);
    // The request timeout, counted from just before the note.
    for (const { answeredBy, at } of notes) expect(at + 7_000 - answeredBy).toBeGreaterThanOrEqual(0);
    for (const { answeredBy, at } of notes) expect(at + 7_000 - answeredBy).toBeLessThan(1_000);
    expect(calls[1]!.body).toEqual({ inputs: [{ id: '1' }, { id: '2' }] });
  });

  it('rejects a body that is not what the contract says', async () => {
    const { hubspot } = client([{ status: 200, body: { results: [{ id: '1', properties: { email: 5 } }] } }]);
    const error = hubspot.listContacts({ properties: [] });
    await expect(error).rejects.toMatchObject({ code: HubSpotApiErrorCode.MalformedResponse, retryable: false });
    await expect(client([{ status: 200, body: '<html>' }]).hubspot.listContacts({ properties: [] })).rejects.toMatchObject({
      code: HubSpotApiErrorCode.MalformedResponse,
    });
  });

  it('times out a call HubSpot does not answer', async () => {
    const { hubspot } = client(['hang'], { requestTimeoutMs: 50 });
    await expect(hubspot.getContact('1', { properties: [] })).rejects.toMatchObject({ code: HubSpotApiErrorCode.Timeout, retryable: true });
  });

  it('answers null for an unknown contact', async () => {
    const { hubspot } = client([{ status: 404, body: { status: 'error', category: 'OBJECT_NOT_FOUND', message: 'nope' } }]);
    await expect(hubspot.getContact('9', { properties: [] })).resolves.toBeNull();
  });

  it('reads in chunks of 100 and reports unknown ids instead of throwing', async () => {
    const ids = Array.from({ length: 250 }, (_, index) => String(index + 1));
    const { hubspot, calls } = client([{ status: 207, body: { status: 'COMPLETE', results: [contact('1'), contact('2')], errors: [{ status: 'error', category: 'OBJECT_NOT_FOUND', message: 'x', context: { ids: ['3'] } }] } }]);
    const result = await hubspot.batchRead(ids, ['email']);
    expect(calls).toHaveLength(3);
    expect(calls.map((call) => (call.body as { inputs: unknown[] }).inputs.length)).toEqual([100, 100, 50]);
    expect(result.results).toHaveLength(6);
    expect(result.missing).toHaveLength(248);
    expect(result.missing).not.toContain('1');
  });

  it('reads with property history in chunks of 50 and keeps the history it is given', async () => {
    const ids = Array.from({ length: 120 }, (_, index) => String(index + 1));
    const history = { phone: [{ value: '2', timestamp: '2024-01-02T00:00:00.000Z', sourceType: 'CRM_UI' }, { value: '1', timestamp: '2024-01-01T00:00:00.000Z', sourceType: 'INTEGRATION' }] };
    const { hubspot, calls } = client([{ status: 200, body: { status: 'COMPLETE', results: [{ ...contact('1'), propertiesWithHistory: history }] } }]);
    const result = await hubspot.batchRead(ids, ['email'], { propertiesWithHistory: ['phone'] });
    expect(calls.map((call) => (call.body as { inputs: unknown[] }).inputs.length)).toEqual([50, 50, 20]);
    expect((calls[0]!.body as { propertiesWithHistory: string[] }).propertiesWithHistory).toEqual(['phone']);
    expect(result.results[0]!.propertiesWithHistory?.['phone']?.map((version) => version.value)).toEqual(['2', '1']);
  });

  it('upserts by email', async () => {
    const { hubspot, calls } = client([{ status: 200, body: { status: 'COMPLETE', results: [{ ...contact('5'), new: true }] } }]);
    const result = await hubspot.batchUpsert([{ email: 'a@x.com', properties: { email: 'a@x.com', phone: null } }]);
    expect(result.results[0]).toMatchObject({ id: '5', new: true });
    expect(calls[0]!.body).toEqual({ inputs: [{ id: 'a@x.com', idProperty: 'email', properties: { email: 'a@x.com', phone: null } }] });
  });

  it("is built from a linked system's settings", async () => {
    const { calls, fetchFn } = scriptedFetch([{ status: 200, body: { results: [] } }]);
    const { limiter, acquired } = recordingLimiter();
    const settings = HubSpotSettingsSchema.parse({ accountId: 77, baseUrl: 'http://hubspot.test/base' });
    const hubspot = HubSpotClient.fromSettings(settings, { accessToken: 't', rateLimiter: limiter, fetch: fetchFn });
    await hubspot.probe();
    expect(hubspot.accountId).toBe('77');
    expect(calls[0]!.url.href).toBe('http://hubspot.test/base/crm/v3/objects/contacts?limit=1&archived=false');
    expect(acquired).toEqual(['hubspot:77']);
  });
});
