import { Kafka, KafkaJSDeleteGroupsError, logLevel, type Admin } from 'kafkajs';

/**
 * Deletes the topics and consumer groups a stack made under its prefix (`<prefix>.…`, see
 * `topicNames`), so that test and benchmark runs do not pile up partitions on a broker that keeps
 * its data between starts. Returns what it deleted.
 */
export async function deleteKafkaNamespace(brokers: string[], prefix: string): Promise<{ topics: string[]; groups: string[] }> {
  const admin = new Kafka({ clientId: 'tandem-cleanup', brokers, logLevel: logLevel.NOTHING, retry: { retries: 3 } }).admin();
  await admin.connect();
  try {
    const inNamespace = (name: string): boolean => name.startsWith(`${prefix}.`);
    const topics = (await admin.listTopics()).filter(inNamespace);
    if (topics.length > 0) await admin.deleteTopics({ topics });
    const groups = (await admin.listGroups()).groups.map((group) => group.groupId).filter(inNamespace);
    return { topics, groups: await deleteEmptyGroups(admin, groups) };
  } finally {
    await admin.disconnect();
  }
}

/**
 * A group whose member was killed keeps it until the session times out and cannot be deleted
 * before; the broker expires its offsets on its own later.
 */
async function deleteEmptyGroups(admin: Admin, groups: string[]): Promise<string[]> {
  if (groups.length === 0) return [];
  try {
    await admin.deleteGroups(groups);
    return groups;
  } catch (error) {
    if (!(error instanceof KafkaJSDeleteGroupsError)) throw error;
    const left = new Set(error.groups.map((group) => group.groupId));
    return groups.filter((group) => !left.has(group));
  }
}
