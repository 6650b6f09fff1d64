import { randomUUID } from 'node:crypto';
import { entityKey, SCHEMA_VERSION, type DeadLetter, type Message, type MessageDraft } from '@tandem/contracts';
import type { OutgoingRecord, Producer } from './broker.interface';

export const TRACEPARENT = 'traceparent';

export interface TracedDraft {
  draft: MessageDraft;
  parentTrace?: string;
}

/**
 * The one place messages are stamped: schema version, observation time, partition key and trace
 * context. Call sites supply only what they know.
 */
export class Publisher {
  constructor(
    private readonly producer: Producer,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** `parentTrace` is the traceparent of the message that caused these, so a trace follows an edit end to end. */
  publish(topic: string, drafts: readonly MessageDraft[], parentTrace?: string): Promise<void> {
    return this.publishTraced(topic, drafts.map((draft) => (parentTrace === undefined ? { draft } : { draft, parentTrace })));
  }

  /** For batches whose messages each continue the trace of a different input message. */
  publishTraced(topic: string, entries: readonly TracedDraft[]): Promise<void> {
    return this.publishAll([{ topic, entries }]);
  }

  /** Messages for several topics in as few broker requests as possible. */
  async publishAll(outputs: ReadonlyArray<{ topic: string; entries: readonly TracedDraft[] }>): Promise<void> {
    const observedAt = this.clock().toISOString();
    const batches = outputs
      .filter(({ entries }) => entries.length > 0)
      .map(({ topic, entries }) => ({
        topic,
        records: entries.map(({ draft, parentTrace }): OutgoingRecord => {
          // Built property by property (the check fails to compile when the envelope gains one): a
          // spread that adds properties takes V8's slow path, and cost three times the JSON encoding.
          const message = {
            type: draft.type,
            eventId: draft.eventId,
            tenantId: draft.tenantId,
            occurredAt: draft.occurredAt,
            origin: draft.origin,
            data: draft.data,
            schemaVersion: SCHEMA_VERSION,
            observedAt,
          } satisfies { [K in keyof Message]: unknown } as Message;
          return {
            key: entityKey(message.tenantId, message.data.entityId),
            value: JSON.stringify(message),
            // The trace context only: every header costs the broker client an encoder per record, and
            // the message type is in the message itself.
            headers: { [TRACEPARENT]: childTrace(parentTrace) },
          };
        }),
      }));
    if (batches.length > 0) await this.producer.send(batches);
  }

  async deadLetter(topic: string, letters: readonly DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    const records = letters.map((letter) => ({
      key: `${letter.sourceTopic}:${letter.partition}:${letter.offset}`,
      value: JSON.stringify(letter),
    }));
    await this.producer.send([{ topic, records }]);
  }
}

/** W3C trace context: keeps the parent's trace id, with a new span id. */
function childTrace(parent: string | undefined): string {
  const match = parent?.match(/^00-([0-9a-f]{32})-[0-9a-f]{16}-([0-9a-f]{2})$/);
  // randomUUID draws from a buffered entropy pool: far cheaper per message than randomBytes.
  const span = randomUUID().replace(/-/g, '');
  const traceId = match?.[1] ?? randomUUID().replace(/-/g, '');
  return `00-${traceId}-${span.slice(0, 16)}-${match?.[2] ?? '01'}`;
}
