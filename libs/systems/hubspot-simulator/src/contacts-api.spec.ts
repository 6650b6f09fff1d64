import {
  type ApiCall,
  CONTACTS_PATH,
  type ContactBody,
  type ErrorBody,
  type PageBody,
  apiClient,
} from './api-test-client.util';
import { HubSpotSimulator } from './hubspot-simulator.service';

describe('HubSpot simulator: single-object contacts endpoints', () => {
  let simulator: HubSpotSimulator;
  let api: ApiCall;

  beforeEach(async () => {
    simulator = await HubSpotSimulator.start();
    api = apiClient(simulator);
  });

  afterEach(() => simulator.close());

  function expectErrorBody(body: ErrorBody, category: string): void {
    expect(body).toMatchObject({ status: 'error', category });
    expect(typeof body.message).toBe('string');
    expect(body.correlationId).toMatch(/^[0-9a-f-]{36}$/);
  }

  it('answers 401 with an error body for a missing or wrong token', async () => {
    for (const token of [null, 'not-the-token']) {
      const response = await apiClient(simulator, token)<ErrorBody>('GET', CONTACTS_PATH);
      expect(response.status).toBe(401);
      expectErrorBody(response.body, 'INVALID_AUTHENTICATION');
    }
  });

  it('creates a contact (201) with string properties, hs_object_id and ISO dates', async () => {
    const response = await api<ContactBody>('POST', CONTACTS_PATH, {
      properties: { email: 'ann@example.com', firstname: 'Ann', phone: 5551234 },
    });
    expect(response.status).toBe(201);
    const contact = response.body;
    expect(contact.id).toMatch(/^\d+$/);
    expect(contact.properties).toMatchObject({
      email: 'ann@example.com',
      firstname: 'Ann',
      phone: '5551234',
      hs_object_id: contact.id,
    });
    expect(new Date(contact.properties.createdate ?? '').toISOString()).toBe(contact.createdAt);
    expect(contact.properties.lastmodifieddate).toBe(contact.updatedAt);
    expect(contact.archived).toBe(false);
    const second = await api<ContactBody>('POST', CONTACTS_PATH, { properties: { firstname: 'Bo' } });
    expect(Number(second.body.id)).toBeGreaterThan(Number(contact.id));
  });

  it('reads one contact with the requested properties, unset ones as null, unknown ones ignored', async () => {
    const { id } = simulator.createContact({ email: 'ann@example.com', firstname: 'Ann', company: 'Acme' });
    const byDefault = await api<ContactBody>('GET', `${CONTACTS_PATH}/${id}`);
    expect(byDefault.status).toBe(200);
    expect(Object.keys(byDefault.body.properties).sort()).toEqual(
      ['createdate', 'email', 'firstname', 'hs_object_id', 'lastmodifieddate', 'lastname'].sort(),
    );
    const chosen = await api<ContactBody>('GET', `${CONTACTS_PATH}/${id}?properties=company,phone,no_such_thing`);
    expect(chosen.body.properties).toEqual({
      company: 'Acme',
      phone: null,
      hs_object_id: id,
      createdate: expect.any(String),
      lastmodifieddate: expect.any(String),
    });
    const byEmail = await api<ContactBody>('GET', `${CONTACTS_PATH}/ANN@example.com?idProperty=email`);
    expect(byEmail.body.id).toBe(id);
  });

  it('answers 404 OBJECT_NOT_FOUND for an unknown id', async () => {
    const response = await api<ErrorBody>('GET', `${CONTACTS_PATH}/424242`);
    expect(response.status).toBe(404);
    expectErrorBody(response.body, 'OBJECT_NOT_FOUND');
  });

  it('updates with PATCH (200) and moves lastmodifieddate on every change, API writes included', async () => {
    const created = simulator.createContact({ email: 'ann@example.com', firstname: 'Ann' });
    const first = await api<ContactBody>('PATCH', `${CONTACTS_PATH}/${created.id}`, { properties: { firstname: 'Anne' } });
    expect(first.status).toBe(200);
    expect(first.body.properties.firstname).toBe('Anne');
    const second = await api<ContactBody>('PATCH', `${CONTACTS_PATH}/${created.id}`, { properties: { phone: '1' } });
    const modified = [created.updatedAt, first.body.updatedAt, second.body.updatedAt].map((iso) => Date.parse(iso));
    expect(modified[1]).toBeGreaterThan(modified[0]!);
    expect(modified[2]).toBeGreaterThan(modified[1]!);
    expect(second.body.properties.lastmodifieddate).toBe(second.body.updatedAt);
    expect(simulator.getContact(created.id)?.properties).toMatchObject({ firstname: 'Anne', phone: '1' });
    const missing = await api<ErrorBody>('PATCH', `${CONTACTS_PATH}/999999`, { properties: { phone: '1' } });
    expect(missing.status).toBe(404);
  });

  it('rejects unknown and read-only properties with 400 VALIDATION_ERROR naming them', async () => {
    const response = await api<ErrorBody>('POST', CONTACTS_PATH, {
      properties: { email: 'a@example.com', favourite_colour: 'blue', hs_object_id: '5' },
    });
    expect(response.status).toBe(400);
    expectErrorBody(response.body, 'VALIDATION_ERROR');
    expect(response.body.errors?.map((error) => error.in).sort()).toEqual(['favourite_colour', 'hs_object_id']);
    expect(simulator.contacts()).toHaveLength(0);
  });

  it('rejects an invalid email with VALIDATION_ERROR naming email', async () => {
    for (const email of ['no-at-sign.com', 'two@@example.com', 'nodot@example', 'sp ace@example.com']) {
      const response = await api<ErrorBody>('POST', CONTACTS_PATH, { properties: { email } });
      expect(response.status).toBe(400);
      expectErrorBody(response.body, 'VALIDATION_ERROR');
      expect(response.body.errors).toEqual([expect.objectContaining({ in: 'email' })]);
    }
  });

  it('answers 409 CONFLICT with the existing id for a duplicate email, whatever its case', async () => {
    const existing = simulator.createContact({ email: 'ann@example.com' });
    const response = await api<ErrorBody>('POST', CONTACTS_PATH, { properties: { email: 'ANN@example.com' } });
    expect(response.status).toBe(409);
    expectErrorBody(response.body, 'CONFLICT');
    expect(response.body.message).toContain(`Existing ID: ${existing.id}`);
    const other = simulator.createContact({ email: 'bo@example.com' });
    const update = await api<ErrorBody>('PATCH', `${CONTACTS_PATH}/${other.id}`, {
      properties: { email: 'ann@example.com' },
    });
    expect(update.status).toBe(409);
  });

  it('lists at most `limit` per page with paging.next (after and link), and no paging on the last page', async () => {
    const ids = Array.from({ length: 25 }, (_, index) => simulator.createContact({ firstname: `c${index}` }).id);
    const seen: string[] = [];
    let response = await api<PageBody>('GET', `${CONTACTS_PATH}?limit=10&properties=firstname`);
    let pages = 1;
    while (response.body.paging) {
      seen.push(...response.body.results.map((contact) => contact.id));
      expect(response.body.results).toHaveLength(10);
      const link = new URL(response.body.paging.next.link ?? '');
      expect(link.searchParams.get('after')).toBe(response.body.paging.next.after);
      response = await api<PageBody>('GET', `${link.pathname}${link.search}`);
      pages += 1;
    }
    seen.push(...response.body.results.map((contact) => contact.id));
    expect(pages).toBe(3);
    expect(response.body.results).toHaveLength(5);
    expect(seen).toEqual(ids);
    expect(response.body.results[0]?.properties).toHaveProperty('firstname');
  });

  it('rejects a page size above 100', async () => {
    const response = await api<ErrorBody>('GET', `${CONTACTS_PATH}?limit=101`);
    expect(response.status).toBe(400);
    expectErrorBody(response.body, 'VALIDATION_ERROR');
  });

  it('archives with DELETE (204): gone from reads and lists, listed with archived=true, email free again', async () => {
    const contact = simulator.createContact({ email: 'ann@example.com' });
    const archived = await api<undefined>('DELETE', `${CONTACTS_PATH}/${contact.id}`);
    expect(archived.status).toBe(204);
    expect(archived.body).toBeUndefined();
    expect((await api<ErrorBody>('GET', `${CONTACTS_PATH}/${contact.id}`)).status).toBe(404);
    const read = await api<ContactBody>('GET', `${CONTACTS_PATH}/${contact.id}?archived=true`);
    expect(read.body).toMatchObject({ id: contact.id, archived: true, archivedAt: expect.any(String) });
    expect((await api<PageBody>('GET', CONTACTS_PATH)).body.results).toEqual([]);
    const listed = await api<PageBody>('GET', `${CONTACTS_PATH}?archived=true`);
    expect(listed.body.results.map((result) => result.id)).toEqual([contact.id]);
    expect((await api<undefined>('DELETE', `${CONTACTS_PATH}/${contact.id}`)).status).toBe(204);
    expect((await api<undefined>('DELETE', `${CONTACTS_PATH}/777777`)).status).toBe(204);
    const again = await api<ContactBody>('POST', CONTACTS_PATH, { properties: { email: 'ann@example.com' } });
    expect(again.status).toBe(201);
    expect(again.body.id).not.toBe(contact.id);
  });

  it('answers invalid JSON with a VALIDATION_ERROR body', async () => {
    const response = await fetch(`${simulator.url}${CONTACTS_PATH}`, {
      method: 'POST',
      headers: { Authorization: 'Bearer sim-token', 'Content-Type': 'application/json' },
      body: '{"properties":',
    });
    expect(response.status).toBe(400);
    expectErrorBody((await response.json()) as ErrorBody, 'VALIDATION_ERROR');
  });
});

describe('HubSpot simulator: UI edits', () => {
  let simulator: HubSpotSimulator;

  beforeEach(async () => {
    simulator = await HubSpotSimulator.start();
  });

  afterEach(() => simulator.close());

  it('restores an archived contact unless its email is taken meanwhile', async () => {
    const contact = simulator.createContact({ email: 'ann@example.com' });
    simulator.archiveContact(contact.id);
    expect(simulator.getContact(contact.id)).toBeUndefined();
    expect(simulator.getContact(contact.id, { archived: true })?.archived).toBe(true);
    expect(simulator.restoreContact(contact.id).archived).toBe(false);
    simulator.archiveContact(contact.id);
    simulator.createContact({ email: 'ann@example.com' });
    expect(() => simulator.restoreContact(contact.id)).toThrow(/already has the email/);
  });

  it('merges: the primary keeps its values, fills gaps from the merged contact, which is archived', () => {
    const primary = simulator.createContact({ email: 'ann@example.com', firstname: 'Ann' });
    const merged = simulator.createContact({ email: 'ann@work.example.com', firstname: 'A.', phone: '42' });
    const result = simulator.mergeContacts(primary.id, merged.id);
    expect(result.properties).toMatchObject({ email: 'ann@example.com', firstname: 'Ann', phone: '42' });
    expect(simulator.contacts().map((contact) => contact.id)).toEqual([primary.id]);
    expect(simulator.contacts({ archived: true }).map((contact) => contact.id)).toEqual([merged.id]);
  });

  it('refuses unknown properties and unknown contacts', () => {
    expect(() => simulator.createContact({ shoe_size: '42' })).toThrow(/does not exist/);
    expect(() => simulator.updateContact('1', { firstname: 'x' })).toThrow(/no such contact/);
    expect(() => simulator.archiveContact('1')).toThrow(/no active contact/);
  });
});
