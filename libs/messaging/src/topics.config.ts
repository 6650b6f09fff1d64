import type { TopicSpec } from './broker.interface';

/** Topic names and sizes, from configuration. Partition counts are the unit of scale for every role. */
export interface TopicsConfig {
  prefix: string;
  partitions: number;
  /** How long change, command and conflict messages are kept; the resolved topic is compacted instead. */
  retentionMs: number;
}

export function topicNames(prefix: string) {
  return {
    /** Change events from connectors, plus apply results and conflict decisions: everything the reconciler owns per entity. */
    changes: `${prefix}.changes`,
    /** Apply commands for one target system. */
    apply: (systemId: string) => `${prefix}.apply.${systemId}`,
    /** Current state of every entity, log-compacted. */
    resolved: `${prefix}.resolved`,
    conflicts: `${prefix}.conflicts`,
    deadLetters: `${prefix}.dead-letters`,
  };
}
export type TopicNames = ReturnType<typeof topicNames>;

/** The consumer group of each consuming role: the replicas of a role share its group. */
export function consumerGroups(prefix: string) {
  return {
    reconciler: `${prefix}.reconciler`,
    applier: (systemId: string) => `${prefix}.applier.${systemId}`,
  };
}

export function topicSpecs(config: TopicsConfig, systemIds: readonly string[]): TopicSpec[] {
  const names = topicNames(config.prefix);
  const kept = { partitions: config.partitions, retentionMs: config.retentionMs };
  return [
    { name: names.changes, ...kept },
    ...systemIds.map((id) => ({ name: names.apply(id), ...kept })),
    { name: names.resolved, partitions: config.partitions, compacted: true },
    { name: names.conflicts, ...kept },
    { name: names.deadLetters, partitions: 1, retentionMs: config.retentionMs },
  ];
}
