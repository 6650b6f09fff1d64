import type { Consumer } from 'kafkajs';
import { KafkaBatchConsumer } from './kafka-broker';

/** The part of a kafkajs consumer the batch consumer drives; crashes are raised by the test. */
class FakeConsumer {
  readonly events = { GROUP_JOIN: 'consumer.group_join', CRASH: 'consumer.crash' } as const;
  readonly calls: string[] = [];
  private readonly listeners = new Map<string, (event: unknown) => void>();

  on(event: string, listener: (event: unknown) => void): () => void {
    this.listeners.set(event, listener);
    return () => this.listeners.delete(event);
  }

  crash(restart: boolean): void {
    this.listeners.get(this.events.CRASH)?.({ payload: { error: new Error('Failed to find group coordinator'), groupId: 'g', restart } });
  }

  async connect(): Promise<void> {
    this.calls.push('connect');
  }

  async subscribe(): Promise<void> {
    this.calls.push('subscribe');
  }

  async run(): Promise<void> {
    this.calls.push('run');
  }

  pause(topics: Array<{ topic: string }>): void {
    this.calls.push(`pause ${topics.map(({ topic }) => topic).join(',')}`);
  }

  async disconnect(): Promise<void> {
    this.calls.push('disconnect');
  }
}

const silent = { warn: () => undefined, error: () => undefined, info: () => undefined };

describe('KafkaBatchConsumer', () => {
  const waitFor = async (condition: () => boolean) => {
    for (let waited = 0; !condition(); waited += 10) {
      if (waited > 2_000) throw new Error('timed out');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };

  function batchConsumer() {
    const made: FakeConsumer[] = [];
    const consumer = new KafkaBatchConsumer(
      () => {
        const fake = new FakeConsumer();
        made.push(fake);
        return fake as unknown as Consumer;
      },
      { groupId: 'g', topics: ['t.changes'], retryDelayMs: { min: 10, max: 10 } },
      silent,
    );
    return { consumer, made };
  }

  it('starts a new consumer, keeping the caller\'s pauses, when kafkajs gives one up after a failure it does not retry', async () => {
    const { consumer, made } = batchConsumer();
    await consumer.start(async () => undefined);
    consumer.pause();

    made[0]!.crash(false);
    await waitFor(() => made[1]?.calls.includes('pause t.changes') === true);
    expect(made[0]!.calls.at(-1)).toBe('disconnect');
    expect(made[1]!.calls).toEqual(['connect', 'subscribe', 'run', 'pause t.changes']);
  });

  it('leaves a crash kafkajs restarts itself, and starts nothing once stopped', async () => {
    const { consumer, made } = batchConsumer();
    await consumer.start(async () => undefined);
    made[0]!.crash(true);
    await consumer.stop();
    made[0]!.crash(false);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(made).toHaveLength(1);
  });
});
