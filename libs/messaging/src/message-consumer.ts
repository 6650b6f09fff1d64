import { parseMessage, type DeadLetter, type MessageOf, type MessageType } from '@tandem/contracts';
import type { BatchConsumer, InboundRecord } from './broker.interface';
import type { Publisher } from './publisher';

export interface ReceivedMessage<T> {
  message: T;
  record: InboundRecord;
}

export interface MessageBatch<T> {
  topic: string;
  partition: number;
  messages: ReceivedMessage<T>[];
}

export interface MessageConsumerOptions<T extends MessageType> {
  consumer: BatchConsumer;
  publisher: Publisher;
  deadLetterTopic: string;
  accepted: readonly T[];
  service: string;
  clock?: () => Date;
}

/**
 * Validates every record at the edge. An invalid one goes to the dead-letter topic with the reason
 * and never blocks its partition; the handler sees only valid messages of the accepted types, and
 * the batch is committed only when the handler resolves.
 */
export class MessageConsumer<T extends MessageType> {
  constructor(private readonly options: MessageConsumerOptions<T>) {}

  start(handler: (batch: MessageBatch<MessageOf<T>>, signal: AbortSignal) => Promise<void>): Promise<void> {
    const { consumer, publisher, deadLetterTopic, accepted, service } = this.options;
    const clock = this.options.clock ?? (() => new Date());
    return consumer.start(async (batch, signal) => {
      const messages: ReceivedMessage<MessageOf<T>>[] = [];
      const letters: DeadLetter[] = [];
      for (const record of batch.records) {
        const parsed = parseMessage(record.value, accepted);
        if (parsed.ok) {
          messages.push({ message: parsed.message, record });
        } else {
          letters.push({
            sourceTopic: record.topic,
            partition: record.partition,
            offset: record.offset,
            key: record.key,
            code: 'invalid_message',
            reason: parsed.reason,
            payload: record.value?.toString('utf8') ?? '',
            failedAt: clock().toISOString(),
            service,
          });
        }
      }
      await publisher.deadLetter(deadLetterTopic, letters);
      if (messages.length > 0) await handler({ topic: batch.topic, partition: batch.partition, messages }, signal);
    });
  }

  stop(): Promise<void> {
    return this.options.consumer.stop();
  }
}
