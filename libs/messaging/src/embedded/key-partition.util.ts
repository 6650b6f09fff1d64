/**
 * The partition of a record key: FNV-1a (32-bit) over the key's UTF-8 bytes, modulo the partition
 * count. Stable across processes and restarts, so a key stays on its partition (and keeps its
 * order) for the life of the log. Changing it would split existing keys over two partitions.
 */
export function partitionForKey(key: string, partitions: number): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(key, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % partitions;
}
