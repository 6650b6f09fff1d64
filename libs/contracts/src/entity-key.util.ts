/**
 * Kafka message key: every message about one entity of one tenant lands in the same partition, so
 * each entity's messages are processed in order by exactly one consumer.
 */
export function entityKey(tenantId: string, entityId: string): string {
  return `${tenantId}:${entityId}`;
}
