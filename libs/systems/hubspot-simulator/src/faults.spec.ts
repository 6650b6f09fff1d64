import { CONTACTS_PATH, type ContactBody, type ErrorBody, apiClient } from './api-test-client.util';
import { HubSpotSimulator } from './hubspot-simulator.service';
import { HubSpotSimulatorErrorCode } from './hubspot-simulator.error';

describe('HubSpot simulator: faults', () => {
  let simulator: HubSpotSimulator;

  beforeEach(async () => {
    simulator = await HubSpotSimulator.start({ seed: 1 });
  });

  afterEach(() => simulator.close());

  it('adds latency to every answer', async () => {
    await simulator.setFaults({ latencyMs: 150 });
    const started = Date.now();
    expect((await apiClient(simulator)('GET', CONTACTS_PATH)).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('answers 500/502/503 error bodies at the server error rate, applying nothing', async () => {
    await simulator.setFaults({ serverErrorRate: 1 });
    const api = apiClient(simulator);
    const statuses = new Set<number>();
    for (let call = 0; call < 12; call += 1) {
      const response = await api<ErrorBody>('POST', CONTACTS_PATH, { properties: { firstname: `c${call}` } });
      statuses.add(response.status);
      expect(response.body).toMatchObject({ status: 'error', correlationId: expect.any(String) });
    }
    expect([...statuses].sort()).toEqual([500, 502, 503]);
    expect(simulator.contacts()).toEqual([]);
    expect(simulator.callCount('POST /crm/v3/objects/contacts')).toBe(12);
  });

  it('leaves a timed-out request unanswered although its write applied', async () => {
    await simulator.setFaults({ timeoutRate: 1 });
    const attempt = fetch(`${simulator.url}${CONTACTS_PATH}`, {
      method: 'POST',
      headers: { Authorization: 'Bearer sim-token', 'Content-Type': 'application/json' },
      body: JSON.stringify({ properties: { email: 'ann@example.com' } }),
      signal: AbortSignal.timeout(300),
    });
    await expect(attempt).rejects.toThrow(/abort|timeout/i);
    expect(simulator.contacts().map((contact) => contact.properties.email)).toEqual(['ann@example.com']);
  });

  it('refuses connections during an outage and answers on the same URL after it', async () => {
    const api = apiClient(simulator);
    const url = simulator.url;
    await simulator.setFaults({ outage: 'refuse' });
    await expect(api('GET', CONTACTS_PATH)).rejects.toThrow();
    await simulator.setFaults({ outage: false });
    expect(simulator.url).toBe(url);
    expect((await api('GET', CONTACTS_PATH)).status).toBe(200);
    expect(simulator.callCount()).toBe(1);
  });

  it('answers every call 503 while unavailable', async () => {
    await simulator.setFaults({ outage: 'unavailable' });
    const api = apiClient(simulator);
    const response = await api<ErrorBody>('GET', CONTACTS_PATH);
    expect(response.status).toBe(503);
    expect(response.body).toMatchObject({ status: 'error', correlationId: expect.any(String) });
    expect((await api('POST', `${CONTACTS_PATH}/search`, {})).status).toBe(503);
    await simulator.setFaults({ outage: false });
    expect((await api('GET', CONTACTS_PATH)).status).toBe(200);
  });

  it('answers every call 429 TEN_SECONDLY_ROLLING in a storm, not counted as exceeding a limit', async () => {
    await simulator.setFaults({ rateLimitStorm: true });
    const api = apiClient(simulator);
    const response = await api<ErrorBody>('POST', `${CONTACTS_PATH}/batch/create`, {
      inputs: [{ properties: { email: 'ann@example.com' } }],
    });
    expect(response.status).toBe(429);
    expect(response.body).toMatchObject({
      status: 'error',
      message: 'You have reached your ten_secondly_rolling limit.',
      errorType: 'RATE_LIMIT',
      policyName: 'TEN_SECONDLY_ROLLING',
    });
    expect(response.headers.get('x-hubspot-ratelimit-remaining')).toBe('0');
    expect(simulator.contacts()).toEqual([]);
    expect(simulator.rateLimited()).toBe(0);
    expect(simulator.callCount()).toBe(1);
    await simulator.clearFaults();
    expect((await api<ContactBody>('POST', CONTACTS_PATH, { properties: { firstname: 'x' } })).status).toBe(201);
  });

  it('keeps faults that a later call does not name', async () => {
    await simulator.setFaults({ latencyMs: 5, serverErrorRate: 0.5 });
    await simulator.setFaults({ latencyMs: 0 });
    expect(simulator.currentFaults()).toMatchObject({ latencyMs: 0, serverErrorRate: 0.5 });
    await expect(simulator.setFaults({ serverErrorRate: 2 })).rejects.toMatchObject({
      code: HubSpotSimulatorErrorCode.InvalidOptions,
    });
  });

  it('makes fault choices reproducible with a seed', async () => {
    const statuses = async (): Promise<number[]> => {
      const sim = await HubSpotSimulator.start({ seed: 42 });
      await sim.setFaults({ serverErrorRate: 0.5 });
      const api = apiClient(sim);
      const seen: number[] = [];
      for (let call = 0; call < 10; call += 1) seen.push((await api('GET', CONTACTS_PATH)).status);
      await sim.close();
      return seen;
    };
    const first = await statuses();
    expect(new Set(first).size).toBeGreaterThan(1);
    expect(await statuses()).toEqual(first);
  });
});

describe('HubSpot simulator: options', () => {
  it('rejects invalid options naming each problem', async () => {
    await expect(
      HubSpotSimulator.start({ rateLimit: { limit: 0, windowMs: 10_000 }, webhooks: { duplicateRate: 3 } }),
    ).rejects.toThrow(/rateLimit\.limit.*webhooks\.duplicateRate|webhooks\.duplicateRate.*rateLimit\.limit/);
  });

  it('resolves defaults as documented', async () => {
    const simulator = await HubSpotSimulator.start();
    try {
      expect(simulator.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(simulator.options).toMatchObject({
        accessToken: 'sim-token',
        clientSecret: 'sim-secret',
        portalId: 33,
        rateLimit: { limit: 100, windowMs: 10_000 },
        secondlyLimit: null,
        dailyLimit: 250_000,
        searchRateLimit: { limit: 5, windowMs: 1_000 },
        searchIndexDelayMs: 0,
        webhooks: {
          targetUrl: null,
          batchWindowMs: 50,
          maxBatchSize: 99,
          duplicateRate: 0,
          reorder: false,
          retryDelaysMs: [100, 200, 400, 800, 1600, 3200, 6400, 12_800, 25_600, 51_200],
        },
      });
    } finally {
      await simulator.close();
    }
  });
});
