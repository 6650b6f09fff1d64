import type { MessageDraft } from '@tandem/contracts';
import type { TracedDraft } from '@tandem/messaging';
import { CoalescingPublisher, type PublishOutput } from './coalescing-publisher';

function entry(id: string): TracedDraft {
  return { draft: { eventId: id } as unknown as MessageDraft };
}

class RecordingPublisher {
  sends: Array<Array<{ topic: string; ids: string[] }>> = [];
  failNext = false;

  async publishAll(outputs: readonly PublishOutput[]): Promise<void> {
    this.sends.push(outputs.map(({ topic, entries }) => ({ topic, ids: entries.map(({ draft }) => draft.eventId) })));
    if (this.failNext) {
      this.failNext = false;
      throw new Error('broker down');
    }
  }
}

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('CoalescingPublisher', () => {
  it('publishes the batches worked together in one send, once the last of them is ready', async () => {
    const publisher = new RecordingPublisher();
    const coalescing = new CoalescingPublisher(publisher, { maxWaitMs: 60_000 });
    const [a, b, c] = [coalescing.join(), coalescing.join(), coalescing.join()];
    const first = a.publishAll([{ topic: 'apply.hubspot', entries: [entry('a1'), entry('a2')] }, { topic: 'resolved', entries: [entry('ar')] }]);
    const second = b.publishAll([{ topic: 'apply.hubspot', entries: [entry('b1')] }]);
    await tick(20);
    expect(publisher.sends).toEqual([]);
    const third = c.publishAll([{ topic: 'resolved', entries: [entry('cr')] }]);
    await Promise.all([first, second, third]);
    expect(publisher.sends).toEqual([
      [
        { topic: 'apply.hubspot', ids: ['a1', 'a2', 'b1'] },
        { topic: 'resolved', ids: ['ar', 'cr'] },
      ],
    ]);
  });

  it('does not wait for a batch that left without publishing', async () => {
    const publisher = new RecordingPublisher();
    const coalescing = new CoalescingPublisher(publisher, { maxWaitMs: 60_000 });
    const [a, failed] = [coalescing.join(), coalescing.join()];
    const published = a.publishAll([{ topic: 't', entries: [entry('a')] }]);
    failed.leave();
    await published;
    a.leave();
    expect(publisher.sends).toEqual([[{ topic: 't', ids: ['a'] }]]);
  });

  it('publishes a lone batch at once, and the ready ones after maxWaitMs when another is slow', async () => {
    const publisher = new RecordingPublisher();
    const coalescing = new CoalescingPublisher(publisher, { maxWaitMs: 30 });
    await coalescing.join().publishAll([{ topic: 't', entries: [entry('alone')] }]);
    expect(publisher.sends).toHaveLength(1);

    const [ready, slow] = [coalescing.join(), coalescing.join()];
    const started = Date.now();
    await ready.publishAll([{ topic: 't', entries: [entry('ready')] }]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
    await slow.publishAll([{ topic: 't', entries: [entry('slow')] }]);
    expect(publisher.sends.map((send) => send[0]?.ids)).toEqual([['alone'], ['ready'], ['slow']]);
  });

  it('rejects every batch of a failed send, so each partition retries its own', async () => {
    const publisher = new RecordingPublisher();
    publisher.failNext = true;
    const coalescing = new CoalescingPublisher(publisher, { maxWaitMs: 60_000 });
    const [a, b] = [coalescing.join(), coalescing.join()];
    const results = await Promise.allSettled([a.publishAll([{ topic: 't', entries: [entry('a')] }]), b.publishAll([{ topic: 't', entries: [entry('b')] }])]);
    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    await expect(a.publishAll([])).rejects.toThrow('once');
  });
});
