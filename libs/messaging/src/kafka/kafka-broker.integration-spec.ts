import { TEST_KAFKA_BROKERS } from '@tandem/testing';
import { describeBrokerContract } from '../broker.contract';
import { KafkaBroker } from './kafka-broker';

const quiet = { info: () => undefined, warn: () => undefined, error: (message: string) => console.error(message) };

describeBrokerContract('Kafka', async () => new KafkaBroker({ clientId: 'contract-test', brokers: TEST_KAFKA_BROKERS, logger: quiet }));
