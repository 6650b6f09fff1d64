import { consumerGroups, topicNames } from '@tandem/messaging';
import type { KafkaReader } from './kafka-reader.util';
import type { ServiceStack } from './service-stack';

/** A source database whose captured changes wait in `tandem.changes` for its connector. */
export interface CapturingDatabase {
  name: string;
  query<R extends Record<string, unknown>>(text: string): Promise<{ rows: R[] }>;
}

/**
 * What is still in flight through the stack, one phrase each: changes captured in a source database
 * and not yet read by its connector, and messages the reconciler or an applier has not committed.
 * Empty when nothing is.
 */
export async function inFlight(stack: ServiceStack, kafka: KafkaReader, sources: CapturingDatabase[]): Promise<string[]> {
  const parts: string[] = [];
  for (const source of sources) {
    const captured = Number((await source.query<{ n: string }>(`SELECT count(*) AS n FROM tandem.changes`)).rows[0]!.n);
    if (captured > 0) parts.push(`${captured} captured in ${source.name}`);
  }
  const topics = topicNames(stack.prefix);
  const groups = consumerGroups(stack.prefix);
  const reconcilerLag = await kafka.lag(topics.changes, groups.reconciler);
  if (reconcilerLag > 0) parts.push(`reconciler lag ${reconcilerLag}`);
  for (const systemId of stack.appliers.keys()) {
    const lag = await kafka.lag(topics.apply(systemId), groups.applier(systemId));
    if (lag > 0) parts.push(`${systemId} applier lag ${lag}`);
  }
  return parts;
}
