import { parseWebhookEvents } from './webhook-event.schema';

const base = { eventId: 3816279340, subscriptionId: 25, portalId: 33, appId: 1160452, occurredAt: 1462216307945, attemptNumber: 0 };

describe('parseWebhookEvents', () => {
  it('reads the documented delivery shape, with ids as strings', () => {
    const result = parseWebhookEvents([
      { ...base, subscriptionType: 'contact.propertyChange', objectId: 1246965, propertyName: 'phone', propertyValue: '555', changeSource: 'CRM' },
    ]);
    expect(result).toEqual({
      ok: true,
      ignoredEventTypes: [],
      events: [
        {
          eventId: '3816279340',
          subscriptionId: '25',
          portalId: '33',
          appId: '1160452',
          type: 'contact.propertyChange',
          occurredAtMs: 1462216307945,
          attemptNumber: 0,
          objectId: '1246965',
          propertyName: 'phone',
          propertyValue: '555',
          changeSource: 'CRM',
          merge: null,
        },
      ],
    });
  });

  it('accepts eventType for subscriptionType, string object ids and string timestamps', () => {
    const result = parseWebhookEvents([{ ...base, eventType: 'contact.deletion', objectId: '77', occurredAt: '1462216307945' }]);
    expect(result.ok && result.events[0]).toMatchObject({ type: 'contact.deletion', objectId: '77', occurredAtMs: 1462216307945 });
  });

  it('reads merge fields', () => {
    const result = parseWebhookEvents([
      { ...base, subscriptionType: 'contact.merge', objectId: 5, primaryObjectId: 5, mergedObjectIds: [6, '7'], newObjectId: 8 },
    ]);
    expect(result.ok && result.events[0]?.merge).toEqual({ primaryObjectId: '5', mergedObjectIds: ['6', '7'], newObjectId: '8' });
  });

  it('leaves out events of other object types instead of failing the delivery', () => {
    const result = parseWebhookEvents([
      { ...base, subscriptionType: 'company.creation', objectId: 1 },
      { ...base, subscriptionType: 'contact.creation', objectId: 2 },
    ]);
    expect(result.ok && result.events.map((event) => event.objectId)).toEqual(['2']);
    expect(result.ok && result.ignoredEventTypes).toEqual(['company.creation']);
  });

  it('names what is wrong with a bad body', () => {
    expect(parseWebhookEvents({ events: [] })).toEqual({ ok: false, error: expect.stringContaining('must be a JSON array') });
    const missing = parseWebhookEvents([{ ...base, objectId: 1 }]);
    expect(missing).toEqual({ ok: false, error: expect.stringContaining('needs subscriptionType or eventType') });
    const badId = parseWebhookEvents([{ ...base, subscriptionType: 'contact.creation', objectId: 'abc' }]);
    expect(badId).toEqual({ ok: false, error: expect.stringContaining('event 0.objectId') });
    const badMerge = parseWebhookEvents([{ ...base, subscriptionType: 'contact.merge', objectId: 1 }]);
    expect(badMerge).toEqual({ ok: false, error: expect.stringContaining('contact.merge needs primaryObjectId') });
  });
});
