import { randomBytes } from 'node:crypto';
import fc from 'fast-check';

/**
 * The parts of kafkajs that patches/kafkajs+2.2.4.patch rewrites for speed, checked against the
 * definitions they must still meet. The broker checks the rest: it refuses a record batch whose
 * checksum or layout is wrong, and the Kafka integration tests read every record back.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- kafkajs's internals have no typed exports */
const crc32C = require('kafkajs/src/protocol/recordBatch/crc32C') as (buffer: Buffer) => number;
const Encoder = require('kafkajs/src/protocol/encoder') as new () => { writeVarInt(value: number): unknown; buffer: Buffer };
const groupMessagesPerPartition = require('kafkajs/src/producer/groupMessagesPerPartition') as (args: {
  topic: string;
  partitionMetadata: Array<{ partitionId: number }>;
  messages: Array<{ key: string; value: string }>;
  partitioner: (args: { message: { key: string } }) => number;
}) => Record<string, Array<{ key: string; value: string }>>;
/* eslint-enable @typescript-eslint/no-require-imports */

/** CRC-32C by its definition: the reflected Castagnoli polynomial, one bit at a time. */
function crc32CByDefinition(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

describe('kafkajs as patched', () => {
  it('checksums record batches with CRC-32C, at every length and alignment', () => {
    expect(crc32C(Buffer.from('123456789')).toString(16)).toBe('e3069283');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), fc.nat(7), (bytes, offset) => {
        const shifted = Buffer.from(bytes).subarray(Math.min(offset, bytes.length));
        expect(crc32C(shifted)).toBe(crc32CByDefinition(shifted));
      }),
    );
    const large = randomBytes(100_003);
    expect(crc32C(large)).toBe(crc32CByDefinition(large));
  });

  it('writes varints as Kafka does: zigzag, seven bits a byte, low bits first', () => {
    const encoded = (value: number): number[] => {
      const encoder = new Encoder();
      encoder.writeVarInt(value);
      return [...encoder.buffer];
    };
    expect(encoded(0)).toEqual([0x00]);
    expect(encoded(-1)).toEqual([0x01]);
    expect(encoded(1)).toEqual([0x02]);
    expect(encoded(-64)).toEqual([0x7f]);
    expect(encoded(64)).toEqual([0x80, 0x01]);
    expect(encoded(300)).toEqual([0xd8, 0x04]);
    expect(encoded(2 ** 31 - 1)).toEqual([0xfe, 0xff, 0xff, 0xff, 0x0f]);
    expect(encoded(-(2 ** 31))).toEqual([0xff, 0xff, 0xff, 0xff, 0x0f]);
  });

  it('groups a send per partition, every message once, in the order given', () => {
    const messages = Array.from({ length: 10_000 }, (_, index) => ({ key: `k${index % 37}`, value: String(index) }));
    const grouped = groupMessagesPerPartition({
      topic: 't',
      partitionMetadata: [0, 1, 2].map((partitionId) => ({ partitionId })),
      messages,
      partitioner: ({ message }) => Number(message.key.slice(1)) % 3,
    });
    expect(Object.keys(grouped).sort()).toEqual(['0', '1', '2']);
    for (const [partition, inPartition] of Object.entries(grouped)) {
      expect(inPartition).toEqual(messages.filter((message) => Number(message.key.slice(1)) % 3 === Number(partition)));
    }
  });
});
