import { KafkaBroker, topicSpecs } from '@tandem/messaging';
import { TEST_KAFKA_BROKERS, uniqueSuffix } from '@tandem/testing';
import { Kafka, logLevel } from 'kafkajs';
import { deleteKafkaNamespace } from './kafka-namespace.util';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

describe('deleteKafkaNamespace', () => {
  it("deletes a stack's topics and idle consumer groups and leaves another prefix's alone", async () => {
    const prefix = `ns${uniqueSuffix()}`;
    // Shares the first prefix as a string, not as a namespace.
    const neighbour = `${prefix}x`;
    const broker = new KafkaBroker({ clientId: 'namespace-test', brokers: TEST_KAFKA_BROKERS, logger: quiet });
    const kafka = new Kafka({ clientId: 'namespace-test', brokers: TEST_KAFKA_BROKERS, logLevel: logLevel.NOTHING });
    // An admin asks for the metadata of every topic it touched: a deleted one fails its later calls.
    const setup = kafka.admin();
    const admin = kafka.admin();
    await Promise.all([setup.connect(), admin.connect()]);
    try {
      const config = { partitions: 2, retentionMs: 60_000 };
      await broker.ensureTopics([...topicSpecs({ prefix, ...config }, ['crm']), ...topicSpecs({ prefix: neighbour, ...config }, ['crm'])]);
      for (const owner of [prefix, neighbour]) {
        await setup.setOffsets({ groupId: `${owner}.reconciler`, topic: `${owner}.changes`, partitions: [{ partition: 0, offset: '0' }] });
      }
      await setup.disconnect();

      const deleted = await deleteKafkaNamespace(TEST_KAFKA_BROKERS, prefix);

      expect(deleted.topics.sort()).toEqual([`${prefix}.apply.crm`, `${prefix}.changes`, `${prefix}.conflicts`, `${prefix}.dead-letters`, `${prefix}.resolved`]);
      expect(deleted.groups).toEqual([`${prefix}.reconciler`]);
      const topics = await admin.listTopics();
      expect(topics.filter((topic) => topic.startsWith(`${prefix}.`))).toEqual([]);
      expect(topics.filter((topic) => topic.startsWith(`${neighbour}.`))).toHaveLength(5);
      const groups = (await admin.listGroups()).groups.map((group) => group.groupId);
      expect(groups).not.toContain(`${prefix}.reconciler`);
      expect(groups).toContain(`${neighbour}.reconciler`);
    } finally {
      await deleteKafkaNamespace(TEST_KAFKA_BROKERS, neighbour);
      await admin.disconnect();
      await broker.close();
    }
  });
});
