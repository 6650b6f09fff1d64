import { randomBytes } from 'node:crypto';
import fc from 'fast-check';

/**
 * The parts of kafkajs that patches/kafkajs+2.2.4.patch rewrites for CPU, checked against the
 * definitions and behaviour they must still meet. The broker checks the rest: it refuses a record
 * batch whose checksum or layout is wrong, and the Kafka integration tests read every record back.
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
const RequestQueue = require('kafkajs/src/network/requestQueue') as new (options: object) => KafkaRequestQueue;
/* eslint-enable @typescript-eslint/no-require-imports */

interface KafkaRequestQueue {
  push(request: { entry: object; expectResponse: boolean; sendRequest: () => void }): void;
  fulfillRequest(response: { correlationId: number; payload: Buffer | null; size: number }): void;
  maybeThrottle(milliseconds: number): void;
}

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

  describe('request queue', () => {
    const silent = { debug: () => undefined, warn: () => undefined };
    let correlationId = 0;
    /** Pushes a request; the handle counts its sends and answers it with `fulfil`. */
    const request = (queue: KafkaRequestQueue) => {
      const id = (correlationId += 1);
      const pushed = { sends: 0, fulfil: () => queue.fulfillRequest({ correlationId: id, payload: null, size: 0 }) };
      queue.push({ entry: { correlationId: id, apiName: 'Fetch', resolve: () => undefined, reject: () => undefined }, expectResponse: true, sendRequest: () => (pushed.sends += 1) });
      return pushed;
    };
    const newQueue = (maxInFlightRequests: number | null): KafkaRequestQueue =>
      new RequestQueue({ maxInFlightRequests, requestTimeout: 30_000, enforceRequestTimeout: false, clientId: 'test', broker: 'localhost:9092', logger: silent });

    beforeEach(() => jest.useFakeTimers());
    afterEach(() => jest.useRealTimers());

    it('keeps no timer while no request waits (unpatched, it woke every millisecond)', () => {
      const queue = newQueue(null);
      const first = request(queue);
      first.fulfil();
      expect(first.sends).toBe(1);
      expect(jest.getTimerCount()).toBe(0);
      jest.advanceTimersByTime(1_000);
      expect(jest.getTimerCount()).toBe(0);
    });

    it('sends a request held by a throttle when the throttle ends', () => {
      const queue = newQueue(null);
      queue.maybeThrottle(50);
      const held = request(queue);
      jest.advanceTimersByTime(49);
      expect(held.sends).toBe(0);
      jest.advanceTimersByTime(1);
      expect(held.sends).toBe(1);
      held.fulfil();
      expect(jest.getTimerCount()).toBe(0);
    });

    it('sends a request held by the in-flight limit when the one in flight is answered', () => {
      const queue = newQueue(1);
      const inFlight = request(queue);
      const held = request(queue);
      expect([inFlight.sends, held.sends]).toEqual([1, 0]);
      inFlight.fulfil();
      expect(held.sends).toBe(1);
      held.fulfil();
      // The fallback check set while it waited runs once and sets no other.
      jest.advanceTimersByTime(1_000);
      expect(jest.getTimerCount()).toBe(0);
    });
  });
});
