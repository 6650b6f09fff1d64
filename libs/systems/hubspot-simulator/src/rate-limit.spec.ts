import { eventually } from '@tandem/testing';
import { CONTACTS_PATH, type ErrorBody, apiClient } from './api-test-client.util';
import { HubSpotSimulator } from './hubspot-simulator.service';

describe('HubSpot simulator: rate limits and call accounting', () => {
  let simulator: HubSpotSimulator | undefined;

  afterEach(() => simulator?.close());

  async function start(options: Parameters<typeof HubSpotSimulator.start>[0]): Promise<HubSpotSimulator> {
    simulator = await HubSpotSimulator.start(options);
    return simulator;
  }

  it('counts a rolling window: headers on every answer, the 429 body of TEN_SECONDLY_ROLLING, room again later', async () => {
    const sim = await start({ rateLimit: { limit: 3, windowMs: 1_000 }, dailyLimit: 1_000 });
    const api = apiClient(sim);
    const answers = [];
    for (let call = 0; call < 4; call += 1) answers.push(await api<ErrorBody>('GET', CONTACTS_PATH));
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 429]);
    expect(answers.map((answer) => answer.headers.get('x-hubspot-ratelimit-remaining'))).toEqual(['2', '1', '0', '0']);
    for (const answer of answers) {
      expect(answer.headers.get('x-hubspot-ratelimit-max')).toBe('3');
      expect(answer.headers.get('x-hubspot-ratelimit-interval-milliseconds')).toBe('1000');
      expect(answer.headers.get('x-hubspot-ratelimit-daily')).toBe('1000');
    }
    expect(answers[2]?.headers.get('x-hubspot-ratelimit-daily-remaining')).toBe('997');
    expect(answers[3]?.body).toEqual({
      status: 'error',
      message: 'You have reached your ten_secondly_rolling limit.',
      errorType: 'RATE_LIMIT',
      policyName: 'TEN_SECONDLY_ROLLING',
      correlationId: expect.any(String),
    });
    await eventually(async () => expect((await api('GET', CONTACTS_PATH)).status).toBe(200), { intervalMs: 50 });
    expect(sim.rateLimited()).toBeGreaterThanOrEqual(1);
  });

  it('applies the SECONDLY policy when configured', async () => {
    const sim = await start({ secondlyLimit: 2 });
    const api = apiClient(sim);
    const statuses = [];
    for (let call = 0; call < 3; call += 1) statuses.push(await api<ErrorBody>('GET', CONTACTS_PATH));
    expect(statuses.map((answer) => answer.status)).toEqual([200, 200, 429]);
    expect(statuses[0]?.headers.get('x-hubspot-ratelimit-secondly')).toBe('2');
    expect(statuses[2]?.body).toMatchObject({
      message: 'You have reached your secondly limit.',
      errorType: 'RATE_LIMIT',
      policyName: 'SECONDLY',
    });
  });

  it('applies the DAILY policy', async () => {
    const sim = await start({ dailyLimit: 2 });
    const api = apiClient(sim);
    await api('GET', CONTACTS_PATH);
    await api('GET', CONTACTS_PATH);
    const refused = await api<ErrorBody>('GET', CONTACTS_PATH);
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ message: 'You have reached your daily limit.', policyName: 'DAILY' });
    expect(refused.headers.get('x-hubspot-ratelimit-daily-remaining')).toBe('0');
  });

  it('counts every call per path template, 429s and errors included, and never UI edits', async () => {
    const sim = await start({ rateLimit: { limit: 4, windowMs: 60_000 } });
    const api = apiClient(sim);
    const contact = sim.createContact({ email: 'ann@example.com' });
    sim.updateContact(contact.id, { phone: '1' });
    await api('GET', `${CONTACTS_PATH}/${contact.id}`);
    await api('GET', `${CONTACTS_PATH}/999`);
    await api('PATCH', `${CONTACTS_PATH}/${contact.id}`, { properties: { phone: '2' } });
    await api('POST', `${CONTACTS_PATH}/batch/update`, { inputs: [{ id: contact.id, properties: { phone: '3' } }] });
    const limited = await api('POST', `${CONTACTS_PATH}/batch/update`, { inputs: [] });
    expect(limited.status).toBe(429);
    await apiClient(sim, 'wrong')('GET', CONTACTS_PATH);
    await api('POST', `${CONTACTS_PATH}/search`, {});
    expect(sim.calls()).toEqual({
      'GET /crm/v3/objects/contacts/{id}': 2,
      'PATCH /crm/v3/objects/contacts/{id}': 1,
      'POST /crm/v3/objects/contacts/batch/update': 2,
      'GET /crm/v3/objects/contacts': 1,
      'POST /crm/v3/objects/contacts/search': 1,
    });
    expect(sim.callCount()).toBe(7);
    expect(sim.callCount('POST /crm/v3/objects/contacts/batch/update')).toBe(2);
    expect(sim.rateLimited()).toBe(1);
    // Search is not counted in the peak rate; the 429 and the 401 were received, so they are.
    expect(sim.maxRequestsInWindow()).toBe(6);
    sim.resetCalls();
    expect(sim.calls()).toEqual({});
    expect(sim.callCount()).toBe(0);
    expect(sim.rateLimited()).toBe(0);
    expect(sim.maxRequestsInWindow()).toBe(0);
  });

  it('measures the peak number of calls in a rolling window', async () => {
    const sim = await start({});
    const api = apiClient(sim);
    await Promise.all([api('GET', CONTACTS_PATH), api('GET', CONTACTS_PATH), api('GET', CONTACTS_PATH)]);
    // The gap between the calls is what is measured, so here time has to pass.
    await new Promise((resolve) => setTimeout(resolve, 60));
    await api('GET', CONTACTS_PATH);
    expect(sim.maxRequestsInWindow(10_000)).toBe(4);
    expect(sim.maxRequestsInWindow(50)).toBe(3);
  });
});
