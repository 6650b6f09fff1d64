import { type ApiCall, type BatchBody, CONTACTS_PATH, type ErrorBody, apiClient } from './api-test-client.util';
import { HubSpotSimulator } from './hubspot-simulator.service';

const BATCH = `${CONTACTS_PATH}/batch`;

describe('HubSpot simulator: batch endpoints', () => {
  let simulator: HubSpotSimulator;
  let api: ApiCall;

  beforeEach(async () => {
    simulator = await HubSpotSimulator.start({ rateLimit: { limit: 1_000, windowMs: 10_000 } });
    api = apiClient(simulator);
  });

  afterEach(() => simulator.close());

  it.each(['read', 'create', 'update', 'upsert', 'archive'])(
    'answers more than 100 inputs to batch/%s with the 400 VALIDATION_ERROR body, applying nothing',
    async (operation) => {
      const existing = simulator.createContact({ email: 'kept@example.com' });
      const inputs = Array.from({ length: 101 }, (_, index) => ({
        id: index === 0 ? existing.id : `${index}@example.com`,
        idProperty: index === 0 ? undefined : 'email',
        properties: { email: `${index}@example.com`, phone: '1' },
      }));
      const response = await api<ErrorBody>('POST', `${BATCH}/${operation}`, { inputs });
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ status: 'error', category: 'VALIDATION_ERROR' });
      expect(response.body.message).toMatch(/^The maximum number of inputs supported in a batch is 100/);
      expect(response.body.correlationId).toEqual(expect.any(String));
      expect(simulator.contacts()).toEqual([existing]);
    },
  );

  it('reads by id and by email; unknown ids come back as a 207 OBJECT_NOT_FOUND naming them', async () => {
    const ann = simulator.createContact({ email: 'ann@example.com', phone: '1' });
    const byId = await api<BatchBody>('POST', `${BATCH}/read`, { inputs: [{ id: ann.id }], properties: ['phone'] });
    expect(byId.status).toBe(200);
    expect(byId.body).toMatchObject({ status: 'COMPLETE', startedAt: expect.any(String), completedAt: expect.any(String) });
    expect(byId.body.results).toEqual([expect.objectContaining({ id: ann.id, properties: expect.objectContaining({ phone: '1' }) })]);
    const byEmail = await api<BatchBody>('POST', `${BATCH}/read`, {
      inputs: [{ id: 'ANN@example.com' }, { id: 'nobody@example.com' }],
      idProperty: 'email',
      properties: ['email'],
    });
    expect(byEmail.status).toBe(207);
    expect(byEmail.body.results.map((contact) => contact.id)).toEqual([ann.id]);
    expect(byEmail.body.numErrors).toBe(1);
    expect(byEmail.body.errors?.[0]).toMatchObject({
      status: 'error',
      category: 'OBJECT_NOT_FOUND',
      context: { ids: ['nobody@example.com'] },
    });
  });

  it('reads each property\'s history, newest first and naming who wrote it, for at most 50 inputs', async () => {
    const ann = simulator.createContact({ email: 'ann@example.com', phone: '1' });
    await api('POST', `${BATCH}/update`, { inputs: [{ id: ann.id, properties: { phone: '2' } }] });
    const edited = simulator.updateContact(ann.id, { phone: '3', firstname: 'Ann' });
    const response = await api<BatchBody>('POST', `${BATCH}/read`, { inputs: [{ id: ann.id }], properties: ['phone'], propertiesWithHistory: ['phone', 'company'] });
    expect(response.status).toBe(200);
    const [read] = response.body.results;
    expect(read!.properties['phone']).toBe('3');
    // A property never written has no history.
    expect(Object.keys(read!.propertiesWithHistory!)).toEqual(['phone']);
    expect(read!.propertiesWithHistory!['phone']!.map((version) => [version.value, version.sourceType])).toEqual([['3', 'CRM_UI'], ['2', 'INTEGRATION'], ['1', 'CRM_UI']]);
    expect(read!.propertiesWithHistory!['phone']![0]!.timestamp).toBe(edited.updatedAt);

    const tooMany = await api<ErrorBody>('POST', `${BATCH}/read`, { inputs: Array.from({ length: 51 }, () => ({ id: ann.id })), propertiesWithHistory: ['phone'] });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.message).toMatch(/propertiesWithHistory is 50/);
  });

  it('reads archived contacts only with archived=true; all inputs unknown is a 404', async () => {
    const ann = simulator.createContact({ email: 'ann@example.com' });
    simulator.archiveContact(ann.id);
    const active = await api<ErrorBody>('POST', `${BATCH}/read`, { inputs: [{ id: ann.id }] });
    expect(active.status).toBe(404);
    expect(active.body).toMatchObject({ status: 'error', category: 'OBJECT_NOT_FOUND', context: { ids: [ann.id] } });
    const archived = await api<BatchBody>('POST', `${BATCH}/read?archived=true`, { inputs: [{ id: ann.id }] });
    expect(archived.status).toBe(200);
    expect(archived.body.results[0]).toMatchObject({ id: ann.id, archived: true });
  });

  it('creates (201) and, when one input is invalid, answers 207 and still creates the valid ones', async () => {
    const created = await api<BatchBody>('POST', `${BATCH}/create`, {
      inputs: [{ properties: { email: 'a@example.com' } }, { properties: { email: 'b@example.com' } }],
    });
    expect(created.status).toBe(201);
    expect(created.body.results.map((contact) => contact.properties.email).sort()).toEqual(['a@example.com', 'b@example.com']);

    const partial = await api<BatchBody>('POST', `${BATCH}/create`, {
      inputs: [
        { properties: { email: 'c@example.com' } },
        { properties: { email: 'not-an-email' } },
        { properties: { email: 'A@example.com' } },
      ],
    });
    expect(partial.status).toBe(207);
    expect(partial.body.results.map((contact) => contact.properties.email)).toEqual(['c@example.com']);
    expect(partial.body.numErrors).toBe(2);
    const [invalid, conflict] = partial.body.errors ?? [];
    expect(invalid).toMatchObject({ status: 'error', category: 'VALIDATION_ERROR', context: { email: ['not-an-email'] } });
    expect(invalid?.errors).toEqual([expect.objectContaining({ in: 'email' })]);
    expect(conflict).toMatchObject({ category: 'CONFLICT', context: { email: ['A@example.com'] } });
    expect(conflict?.message).toContain(`Existing ID: ${created.body.results.find((c) => c.properties.email === 'a@example.com')?.id}`);
    expect(simulator.contacts().map((contact) => contact.properties.email).sort()).toEqual([
      'a@example.com',
      'b@example.com',
      'c@example.com',
    ]);
  });

  it('answers a batch whose every input fails with the 4xx of that failure', async () => {
    const response = await api<ErrorBody>('POST', `${BATCH}/create`, {
      inputs: [{ properties: { email: 'bad' } }, { properties: { shoe_size: '42' } }],
    });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ status: 'error', category: 'VALIDATION_ERROR' });
    expect(response.body.errors?.map((error) => error.in).sort()).toEqual(['email', 'shoe_size']);
  });

  it('updates; unknown and archived ids fail per input as OBJECT_NOT_FOUND while the rest apply', async () => {
    const ann = simulator.createContact({ email: 'ann@example.com' });
    const bo = simulator.createContact({ email: 'bo@example.com' });
    simulator.archiveContact(bo.id);
    const response = await api<BatchBody>('POST', `${BATCH}/update`, {
      inputs: [
        { id: ann.id, properties: { phone: '111' } },
        { id: bo.id, properties: { phone: '222' } },
        { id: '999999', properties: { phone: '333' } },
      ],
    });
    expect(response.status).toBe(207);
    expect(response.body.results.map((contact) => [contact.id, contact.properties.phone])).toEqual([[ann.id, '111']]);
    expect(response.body.numErrors).toBe(2);
    expect(response.body.errors).toEqual([
      expect.objectContaining({ status: 'error', category: 'OBJECT_NOT_FOUND', context: { ids: [bo.id] } }),
      expect.objectContaining({ status: 'error', category: 'OBJECT_NOT_FOUND', context: { ids: ['999999'] } }),
    ]);
    expect(simulator.getContact(ann.id)?.properties.phone).toBe('111');
    expect(simulator.getContact(bo.id, { archived: true })?.properties.phone).toBeUndefined();

    const allMissing = await api<ErrorBody>('POST', `${BATCH}/update`, {
      inputs: [
        { id: '999998', properties: { phone: '1' } },
        { id: '999999', properties: { phone: '1' } },
      ],
    });
    expect(allMissing.status).toBe(404);
    expect(allMissing.body).toMatchObject({ category: 'OBJECT_NOT_FOUND', context: { ids: ['999998', '999999'] } });
  });

  it('rejects duplicate ids in one update batch', async () => {
    const ann = simulator.createContact({ email: 'ann@example.com' });
    const response = await api<ErrorBody>('POST', `${BATCH}/update`, {
      inputs: [
        { id: ann.id, properties: { phone: '1' } },
        { id: ann.id, properties: { phone: '2' } },
      ],
    });
    expect(response.status).toBe(400);
    expect(response.body.message).toContain('Duplicate IDs');
    expect(simulator.getContact(ann.id)?.properties.phone).toBeUndefined();
  });

  it('upserts by email: creates once (new: true), then updates (new: false)', async () => {
    const existing = simulator.createContact({ email: 'ann@example.com' });
    const upsert = (): Promise<{ status: number; body: BatchBody }> =>
      api<BatchBody>('POST', `${BATCH}/upsert`, {
        inputs: [
          { id: 'ann@example.com', idProperty: 'email', properties: { phone: '1' } },
          { id: 'new@example.com', idProperty: 'email', properties: { firstname: 'New' } },
        ],
      });
    const first = await upsert();
    expect(first.status).toBe(200);
    const byEmail = Object.fromEntries(first.body.results.map((contact) => [contact.properties.email, contact]));
    expect(byEmail['ann@example.com']).toMatchObject({ id: existing.id, new: false, properties: { phone: '1' } });
    expect(byEmail['new@example.com']).toMatchObject({ new: true, properties: { firstname: 'New' } });
    const retried = await upsert();
    expect(retried.body.results.every((contact) => contact.new === false)).toBe(true);
    expect(simulator.contacts()).toHaveLength(2);
  });

  it('archives with 204, even for unknown and already archived ids', async () => {
    const ann = simulator.createContact({ email: 'ann@example.com' });
    const bo = simulator.createContact({ email: 'bo@example.com' });
    simulator.archiveContact(bo.id);
    const response = await api<undefined>('POST', `${BATCH}/archive`, {
      inputs: [{ id: ann.id }, { id: bo.id }, { id: '999999' }],
    });
    expect(response.status).toBe(204);
    expect(response.body).toBeUndefined();
    expect(simulator.contacts()).toEqual([]);
    expect(simulator.contacts({ archived: true }).map((contact) => contact.id).sort()).toEqual([ann.id, bo.id].sort());
  });
});

describe('HubSpot simulator: batch validation that rejects the whole batch', () => {
  let simulator: HubSpotSimulator;

  beforeEach(async () => {
    simulator = await HubSpotSimulator.start({ batchValidation: 'reject-batch' });
  });

  afterEach(() => simulator.close());

  it('answers 400 and applies nothing when one input has an invalid value', async () => {
    const response = await apiClient(simulator)<ErrorBody>('POST', `${BATCH}/create`, {
      inputs: [{ properties: { email: 'ok@example.com' } }, { properties: { email: 'broken' } }],
    });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ category: 'VALIDATION_ERROR', errors: [expect.objectContaining({ in: 'email' })] });
    expect(simulator.contacts()).toEqual([]);
  });
});
