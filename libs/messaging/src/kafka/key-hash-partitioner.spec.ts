import { Partitioners, type PartitionMetadata } from 'kafkajs';
import { keyHashPartitioner, murmur2 } from './key-hash-partitioner';

function partitions(count: number): PartitionMetadata[] {
  return Array.from({ length: count }, (_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));
}

function randomKey(index: number): string | Buffer {
  const alphabet = 'abcXYZ019:/-_ éü€😀';
  const length = index % 41;
  const text = Array.from({ length }, () => alphabet[Math.floor(Math.random() * alphabet.length)]).join('');
  return index % 5 === 0 ? Buffer.from(text) : text;
}

describe('keyHashPartitioner', () => {
  it('puts every key on the partition kafkajs (and the Java client) would', () => {
    const ours = keyHashPartitioner();
    const theirs = Partitioners.DefaultPartitioner();
    for (let index = 0; index < 5_000; index += 1) {
      const key = randomKey(index);
      const partitionMetadata = partitions(1 + (index % 64));
      const args = { topic: 'tandem.changes', partitionMetadata, message: { key, value: 'v' } };
      expect([key, ours(args)]).toEqual([key, theirs(args)]);
    }
  });

  it('hashes keys as the Java client does', () => {
    // Pinned from org.apache.kafka.common.utils.Utils.murmur2 of kafka-clients 4.4.0.
    const keys = ['', 'a', 'acme/3f1c1f0e-8f5e-4c53-9d8a-3f0f3b0b8c11', 'ünïcödé', 'contact:42'];
    expect(keys.map((key) => murmur2(Buffer.from(key)))).toEqual([275646681, -1563381124, -978214444, 201421315, 1479756517]);
    const partitioner = keyHashPartitioner();
    expect(keys.map((key) => partitioner({ topic: 't', partitionMetadata: partitions(12), message: { key, value: null } }))).toEqual([9, 4, 4, 7, 1]);
  });

  it('honours an explicit partition', () => {
    const partitioner = keyHashPartitioner();
    expect(partitioner({ topic: 't', partitionMetadata: partitions(8), message: { key: 'k', value: null, partition: 5 } })).toBe(5);
  });
});
