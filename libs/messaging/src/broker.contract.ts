import { eventually, uniqueSuffix } from '@tandem/testing';
import type { BatchConsumer, Broker, InboundRecord, OutgoingRecord } from './broker.interface';

/**
 * Behaviour every Broker implementation must show: per-key order, at-least-once redelivery of a
 * failed batch, commits only after success, and pause/resume. Run against Kafka and the embedded one.
 */
export function describeBrokerContract(name: string, createBroker: () => Promise<Broker>): void {
  describe(`Broker contract: ${name}`, () => {
    let broker: Broker;
    beforeAll(async () => {
      broker = await createBroker();
    });
    afterAll(async () => {
      await broker.close();
    });

    const records = (count: number, keys: number): OutgoingRecord[] =>
      Array.from({ length: count }, (_, index) => ({ key: `k${index % keys}`, value: String(index) }));

    async function freshTopic(partitions = 3): Promise<string> {
      const topic = `contract-${uniqueSuffix()}`;
      await broker.ensureTopics([{ name: topic, partitions }]);
      return topic;
    }

    /** One partition holding the values 0 to 19 in order, for the tests of commits and redelivery. */
    async function topicOfTwenty(): Promise<string> {
      const topic = await freshTopic(1);
      await (await broker.producer()).send([{ topic, records: records(20, 1) }]);
      return topic;
    }

    it('delivers every record once per key in order', async () => {
      const topic = await freshTopic();
      const producer = await broker.producer();
      await producer.send([{ topic, records: records(300, 7) }]);
      const seen = new Map<string, number[]>();
      const consumer = broker.consumer({ groupId: `g-${uniqueSuffix()}`, topics: [topic] });
      await consumer.start(async (batch) => {
        for (const record of batch.records) {
          const list = seen.get(record.key ?? '') ?? [];
          list.push(Number(record.value?.toString()));
          seen.set(record.key ?? '', list);
        }
      });
      await eventually(() => expect([...seen.values()].flat()).toHaveLength(300));
      for (const values of seen.values()) expect(values).toEqual([...values].sort((a, b) => a - b));
      await consumer.stop();
    });

    it('accepts one send far larger than a broker request', async () => {
      const topic = await freshTopic(1);
      const producer = await broker.producer();
      const big = Array.from({ length: 3_000 }, (_, index) => ({ key: 'same', value: `${index}:${'x'.repeat(1_000)}` }));
      await producer.send([{ topic, records: big }]);
      let received = 0;
      const consumer = broker.consumer({ groupId: `g-${uniqueSuffix()}`, topics: [topic] });
      await consumer.start(async (batch) => {
        received += batch.records.length;
      });
      await eventually(() => expect(received).toBe(3_000));
      await consumer.stop();
    });

    it('redelivers a failed batch and commits only what succeeded', async () => {
      const topic = await topicOfTwenty();
      const groupId = `g-${uniqueSuffix()}`;
      let failedOnce = false;
      const handled: string[] = [];
      const first = broker.consumer({ groupId, topics: [topic], retryDelayMs: { min: 10, max: 50 } });
      await first.start(async (batch) => {
        if (!failedOnce) {
          failedOnce = true;
          throw new Error('transient');
        }
        handled.push(...batch.records.map((record) => record.value?.toString() ?? ''));
      });
      await eventually(() => expect(handled).toHaveLength(20));
      expect(handled).toEqual(Array.from({ length: 20 }, (_, index) => String(index)));
      await first.stop();

      await (await broker.producer()).send([{ topic, records: [{ key: 'k0', value: 'after-restart' }] }]);
      const resumed: InboundRecord[] = [];
      const second = broker.consumer({ groupId, topics: [topic] });
      await second.start(async (batch) => {
        resumed.push(...batch.records);
      });
      await eventually(() => expect(resumed.map((record) => record.value?.toString())).toEqual(['after-restart']));
      await second.stop();
    });

    it('hands a long fetch over in parts of at most maxBatchRecords, each committed once handled', async () => {
      const topic = await topicOfTwenty();
      const sizes: number[] = [];
      const handled: string[] = [];
      let failedOnce = false;
      const consumer = broker.consumer({ groupId: `g-${uniqueSuffix()}`, topics: [topic], maxBatchRecords: 6, retryDelayMs: { min: 10, max: 50 } });
      await consumer.start(async (batch) => {
        sizes.push(batch.records.length);
        const values = batch.records.map((record) => record.value?.toString() ?? '');
        // A later part fails once: only it comes again, not the parts already handled.
        if (!failedOnce && values.includes('8')) {
          failedOnce = true;
          throw new Error('transient');
        }
        handled.push(...values);
      });
      await eventually(() => expect(handled).toHaveLength(20));
      expect(handled).toEqual(Array.from({ length: 20 }, (_, index) => String(index)));
      expect(Math.max(...sizes)).toBeLessThanOrEqual(6);
      await consumer.stop();
    });

    it('finishes the part in flight when stopped, and hands the parts not begun to the next member', async () => {
      const topic = await topicOfTwenty();
      const groupId = `g-${uniqueSuffix()}`;
      const handled: string[] = [];
      let stopped: Promise<void> | undefined;
      const first = broker.consumer({ groupId, topics: [topic], maxBatchRecords: 5 });
      await first.start(async (batch) => {
        // Stopping waits for this part, so it is only asked for here.
        stopped ??= first.stop();
        await new Promise((resolve) => setTimeout(resolve, 50));
        handled.push(...batch.records.map((record) => record.value?.toString() ?? ''));
      });
      await eventually(() => expect(stopped).toBeDefined());
      await stopped;
      expect(handled).toEqual(['0', '1', '2', '3', '4']);

      const rest: string[] = [];
      const second = broker.consumer({ groupId, topics: [topic] });
      await second.start(async (batch) => {
        rest.push(...batch.records.map((record) => record.value?.toString() ?? ''));
      });
      await eventually(() => expect(rest).toHaveLength(15));
      expect(rest).toEqual(Array.from({ length: 15 }, (_, index) => String(index + 5)));
      await second.stop();
    });

    it("gives every group all records and shares a group's partitions among its members", async () => {
      const topic = await freshTopic(4);
      const producer = await broker.producer();
      const [shared, other] = [`g-${uniqueSuffix()}`, `g-${uniqueSuffix()}`];
      const byMember: Record<'a' | 'b' | 'other', InboundRecord[]> = { a: [], b: [], other: [] };
      const start = (groupId: string, member: keyof typeof byMember): BatchConsumer => {
        const consumer = broker.consumer({ groupId, topics: [topic] });
        void consumer.start(async (batch) => {
          byMember[member].push(...batch.records);
        });
        return consumer;
      };
      const a = start(shared, 'a');
      const otherGroup = start(other, 'other');
      await producer.send([{ topic, records: records(40, 40) }]);
      await eventually(() => expect([byMember.a.length, byMember.other.length]).toEqual([40, 40]));

      const b = start(shared, 'b');
      const owned = (consumer: BatchConsumer): number[] => consumer.assignments().flatMap((entry) => entry.partitions);
      await eventually(() => {
        expect(owned(a).length).toBeGreaterThan(0);
        expect(owned(b).length).toBeGreaterThan(0);
        expect([...owned(a), ...owned(b)].sort()).toEqual([0, 1, 2, 3]);
      });
      const [ownedByA, ownedByB] = [owned(a), owned(b)];
      await producer.send([{ topic, records: records(40, 40) }]);
      await eventually(() => expect(byMember.a.length + byMember.b.length).toBe(80));
      expect(byMember.a.slice(40).every((record) => ownedByA.includes(record.partition))).toBe(true);
      expect(byMember.b.every((record) => ownedByB.includes(record.partition))).toBe(true);
      expect(byMember.b.length).toBeGreaterThan(0);
      await eventually(() => expect(byMember.other).toHaveLength(80));

      await b.stop();
      await eventually(() => expect(owned(a).sort()).toEqual([0, 1, 2, 3]));
      await Promise.all([a.stop(), otherGroup.stop()]);
    });

    it('holds records while paused and delivers them on resume', async () => {
      const topic = await freshTopic(2);
      const producer = await broker.producer();
      const received: string[] = [];
      const consumer = broker.consumer({ groupId: `g-${uniqueSuffix()}`, topics: [topic] });
      await consumer.start(async (batch) => {
        received.push(...batch.records.map((record) => record.value?.toString() ?? ''));
      });
      await producer.send([{ topic, records: [{ key: 'a', value: 'before' }] }]);
      await eventually(() => expect(received).toEqual(['before']));
      consumer.pause();
      await producer.send([{ topic, records: [{ key: 'a', value: 'while-paused' }] }]);
      // A paused consumer must not deliver: give it time in which it could have.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(received).toEqual(['before']);
      consumer.resume();
      await eventually(() => expect(received).toEqual(['before', 'while-paused']));
      await consumer.stop();
    });
  });
}
