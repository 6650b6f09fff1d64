import { CONTACTS_PATH, type PageBody, apiClient } from './api-test-client.util';
import { HubSpotSimulator } from './hubspot-simulator.service';
import { HubSpotSimulatorErrorCode } from './hubspot-simulator.error';

describe('HubSpot simulator: importing saved contacts', () => {
  const simulators: HubSpotSimulator[] = [];
  const start = async () => {
    const simulator = await HubSpotSimulator.start();
    simulators.push(simulator);
    return simulator;
  };

  afterEach(async () => {
    await Promise.all(simulators.splice(0).map((simulator) => simulator.close()));
  });

  it('restores contacts as saved, without webhook events, and creates after the highest id', async () => {
    const before = await start();
    const ann = before.createContact({ email: 'ann@example.com', firstname: 'Ann' });
    const bob = before.createContact({ email: 'bob@example.com', firstname: 'Bob' });
    before.updateContact(ann.id, { lastname: 'Lee' });
    before.archiveContact(bob.id);
    const saved = [...before.contacts(), ...before.contacts({ archived: true })];

    const after = await start();
    after.importContacts(JSON.parse(JSON.stringify(saved)));

    expect(after.contacts()).toEqual(before.contacts());
    expect(after.contacts({ archived: true })).toEqual(before.contacts({ archived: true }));
    expect(after.webhookStats().events).toBe(0);
    const listed = await apiClient(after)<PageBody>('GET', `${CONTACTS_PATH}?properties=email,lastname`);
    expect(listed.body.results.map((contact) => contact.properties)).toMatchObject([{ email: 'ann@example.com', lastname: 'Lee' }]);
    // The archived contact freed its email; the active one holds it.
    expect(after.createContact({ email: 'bob@example.com' }).id).toBe(String(Number(bob.id) + 1));
    expect(() => after.createContact({ email: 'ann@example.com' })).toThrow(expect.objectContaining({ code: HubSpotSimulatorErrorCode.DuplicateEmail }));
  });

  it('refuses ids that are taken or not numeric, importing nothing', async () => {
    const simulator = await start();
    const taken = simulator.createContact({ email: 'ann@example.com' });
    const other = { ...taken, id: '900', properties: { ...taken.properties, email: 'other@example.com' } };
    expect(() => simulator.importContacts([other, taken])).toThrow(expect.objectContaining({ code: HubSpotSimulatorErrorCode.InvalidOptions }));
    expect(() => simulator.importContacts([{ ...other, id: 'abc' }])).toThrow(/ids are numeric/);
    expect(simulator.contacts().map((contact) => contact.id)).toEqual([taken.id]);
  });
});
