import { TEST_KAFKA_BROKERS, uniqueSuffix } from '@tandem/testing';
import { describeBrokerContract } from '../broker.contract';
import { KafkaBroker } from './kafka-broker';

const quiet = { info: () => undefined, warn: () => undefined, error: (message: string) => console.error(message) };

describeBrokerContract('Kafka', async () => new KafkaBroker({ clientId: 'contract-test', brokers: TEST_KAFKA_BROKERS, logger: quiet }));

describe('KafkaBroker.ensureTopics', () => {
  it('lets services that create the same topics at once all use them straight away', async () => {
    const brokers = [1, 2, 3].map((n) => new KafkaBroker({ clientId: `race-${n}`, brokers: TEST_KAFKA_BROKERS, logger: quiet }));
    const topic = `race-${uniqueSuffix()}`;
    try {
      await Promise.all(brokers.map((broker) => broker.ensureTopics([{ name: topic, partitions: 6 }])));
      // Every racer, winner or not, can produce to every partition at once.
      await Promise.all(
        brokers.map(async (broker, n) => {
          const producer = await broker.producer();
          await producer.send([{ topic, records: Array.from({ length: 12 }, (_, index) => ({ key: `k${n}-${index}`, value: 'v' })) }]);
        }),
      );
    } finally {
      await Promise.all(brokers.map((broker) => broker.close()));
    }
  });
});
