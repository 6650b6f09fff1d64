import { randomBytes } from 'node:crypto';
import { entityKey, SCHEMA_VERSION, type DeadLetter, type Message, type MessageDraft } from '@tandem/contracts';
import type { OutgoingRecord, Producer } from './broker.interface';

export const TRACEPARENT = 'traceparent';

export interface TracedDraft {
  draft: MessageDraft;
  parentTrace?: string;
}
export const MESSAGE_TYPE_HEADER = 'tandem-type';

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
  async publishTraced(topic: string, entries: readonly TracedDraft[]): Promise<void> {
    if (entries.length === 0) return;
    const observedAt = this.clock().toISOString();
    const records = entries.map(({ draft, parentTrace }): OutgoingRecord => {
      const message = { ...draft, schemaVersion: SCHEMA_VERSION, observedAt } as Message;
      return {
        key: entityKey(message.tenantId, message.data.entityId),
        value: JSON.stringify(message),
        headers: { [TRACEPARENT]: childTrace(parentTrace), [MESSAGE_TYPE_HEADER]: message.type },
      };
    });
    await this.producer.send(topic, records);
  }

  /** Re-publishes an already stamped message unchanged (redrive), keeping its observation time. */
  async republish(topic: string, messages: readonly Message[]): Promise<void> {
    await this.producer.send(
      topic,
      messages.map((message) => ({
        key: entityKey(message.tenantId, message.data.entityId),
        value: JSON.stringify(message),
        headers: { [TRACEPARENT]: childTrace(undefined), [MESSAGE_TYPE_HEADER]: message.type },
      })),
    );
  }

  async deadLetter(topic: string, letters: readonly DeadLetter[]): Promise<void> {
    await this.producer.send(
      topic,
      letters.map((letter) => ({
        key: `${letter.sourceTopic}:${letter.partition}:${letter.offset}`,
        value: JSON.stringify(letter),
        headers: { [MESSAGE_TYPE_HEADER]: 'dead-letter' },
      })),
    );
  }
}

/** W3C trace context: keeps the parent's trace id, with a new span id. */
function childTrace(parent: string | undefined): string {
  const match = parent?.match(/^00-([0-9a-f]{32})-[0-9a-f]{16}-([0-9a-f]{2})$/);
  const traceId = match?.[1] ?? randomBytes(16).toString('hex');
  return `00-${traceId}-${randomBytes(8).toString('hex')}-${match?.[2] ?? '01'}`;
}
