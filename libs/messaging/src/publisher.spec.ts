import { MessageSchema, type MessageDraft } from '@tandem/contracts';
import type { Producer, TopicRecords } from './broker.interface';
import { Publisher, TRACEPARENT } from './publisher';

function recordingProducer(): Producer & { sent: TopicRecords[] } {
  const sent: TopicRecords[] = [];
  return { sent, send: async (batches) => void sent.push(...batches) };
}

const draft = (entityId: string): MessageDraft<'resolved'> => ({
  type: 'resolved',
  eventId: `e-${entityId}`,
  tenantId: 'acme',
  occurredAt: '2026-01-01T00:00:00.000Z',
  origin: 'reconciler',
  data: { entityType: 'contact', entityId, version: 1, deleted: false, record: { email: 'a@x.com' }, changedFields: ['email'] },
});

describe('Publisher', () => {
  const A = '3f1b2c4d-5e6f-4a1b-8c2d-9e0f1a2b3c4d';
  const B = '4f1b2c4d-5e6f-4a1b-8c2d-9e0f1a2b3c4d';

  it('stamps schema version and observation time, keys by tenant and entity, and validates as a message', async () => {
    const producer = recordingProducer();
    await new Publisher(producer, () => new Date('2026-02-02T00:00:00.000Z')).publish('t', [draft(A)]);
    const [record] = producer.sent[0]!.records;
    expect(record!.key).toBe(`acme:${A}`);
    const message = MessageSchema.parse(JSON.parse(record!.value));
    expect(message).toMatchObject({ schemaVersion: 1, observedAt: '2026-02-02T00:00:00.000Z', eventId: `e-${A}` });
    expect(Object.keys(record!.headers ?? {})).toEqual([TRACEPARENT]);
  });

  it('continues the trace of the message that caused each output, with a new span', async () => {
    const producer = recordingProducer();
    const parent = `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`;
    await new Publisher(producer).publishTraced('t', [{ draft: draft(A), parentTrace: parent }, { draft: draft(B) }]);
    const [first, second] = producer.sent[0]!.records.map((record) => record.headers![TRACEPARENT]!);
    expect(first).toMatch(new RegExp(`^00-${'a'.repeat(32)}-[0-9a-f]{16}-01$`));
    expect(first).not.toContain('b'.repeat(16));
    expect(second).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(second!.slice(3, 35)).not.toBe('a'.repeat(32));
  });

  it('gives every message its own span and every new trace its own id', async () => {
    const producer = recordingProducer();
    const parent = `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`;
    const entries = Array.from({ length: 3_000 }, (_, index) => ({ draft: draft(A), ...(index % 2 ? { parentTrace: parent } : {}) }));
    await new Publisher(producer).publishTraced('t', entries);
    const traces = producer.sent[0]!.records.map((record) => record.headers![TRACEPARENT]!.split('-'));
    expect(new Set(traces.map(([, , span]) => span)).size).toBe(3_000);
    expect(new Set(traces.map(([, traceId]) => traceId)).size).toBe(1_501);
  });

  it('sends outputs for several topics together and skips empty ones', async () => {
    const producer = recordingProducer();
    await new Publisher(producer).publishAll([
      { topic: 'one', entries: [{ draft: draft(A) }] },
      { topic: 'empty', entries: [] },
      { topic: 'two', entries: [{ draft: draft(B) }] },
    ]);
    expect(producer.sent.map((batch) => [batch.topic, batch.records.length])).toEqual([
      ['one', 1],
      ['two', 1],
    ]);
  });
});
