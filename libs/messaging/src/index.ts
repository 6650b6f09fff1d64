export type * from './broker.interface';
export type { MessagingLogger } from './messaging-logger';
export { KafkaBroker, type KafkaBrokerOptions } from './kafka/kafka-broker';
export { EmbeddedBroker, type EmbeddedBrokerOptions } from './embedded/embedded-broker';
export { EmbeddedBrokerError, EmbeddedBrokerErrorCode } from './embedded/embedded-broker.error';
export type { CleanupResult } from './embedded/partition-log.repository';
export { Publisher, TRACEPARENT, type TracedDraft } from './publisher';
export { MessageConsumer, type MessageBatch, type ReceivedMessage } from './message-consumer';
export { consumerGroups, topicNames, topicSpecs, type TopicNames, type TopicsConfig } from './topics.config';
