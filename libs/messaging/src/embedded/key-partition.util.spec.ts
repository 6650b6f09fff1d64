import { partitionForKey } from './key-partition.util';

describe('partitionForKey', () => {
  it('puts a key on the same partition every time, in every process', () => {
    // Pinned: records already in a log were placed with these answers.
    expect(['', 'a', 'contact:42', 'ünïcödé'].map((key) => partitionForKey(key, 1_000_003))).toEqual([
      129_763, 990_745, 202_371, 702_774,
    ]);
    expect(['contact:42', 'x'].map((key) => partitionForKey(key, 12))).toEqual([1, 3]);
  });

  it('answers within the partition count and spreads keys over all partitions', () => {
    const counts = new Array<number>(12).fill(0);
    for (let index = 0; index < 12_000; index += 1) {
      const partition = partitionForKey(`tenant-1/${index}`, 12);
      counts[partition] = (counts[partition] ?? 0) + 1;
    }
    expect(counts.every((count) => count > 700 && count < 1_300)).toBe(true);
    expect(partitionForKey('only', 1)).toBe(0);
  });
});
