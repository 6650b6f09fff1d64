import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPgliteSqlClient, createPgSqlClient, type PgliteSqlClient, type PgSqlClient } from '@tandem/state';
import { createTempDatabase, eventually, uniqueSuffix, type TempDatabase } from '@tandem/testing';
import type { BatchConsumer, InboundRecord, RecordBatch } from '../broker.interface';
import { describeBrokerContract } from '../broker.contract';
import { EmbeddedBroker } from './embedded-broker';
import { EmbeddedBrokerErrorCode } from './embedded-broker.error';

const quiet = { info: () => undefined, warn: () => undefined, error: (message: string) => console.error(message) };

const values = (records: InboundRecord[]): string[] => records.map((record) => record.value?.toString('utf8') ?? '');

let contractDb: PgliteSqlClient | undefined;
let serverDb: TempDatabase | undefined;
let serverClient: PgSqlClient | undefined;

afterAll(async () => {
  await contractDb?.close();
  await serverClient?.close();
  await serverDb?.drop();
});

describeBrokerContract('embedded (PGlite)', async () => {
  contractDb = await createPgliteSqlClient();
  return new EmbeddedBroker({ db: contractDb, logger: quiet });
});

describeBrokerContract('embedded (PostgreSQL server)', async () => {
  serverDb = await createTempDatabase('embedded_broker');
  serverClient = createPgSqlClient(serverDb.url);
  return new EmbeddedBroker({ db: serverClient, logger: quiet });
});

describe('EmbeddedBroker', () => {
  let db: PgliteSqlClient;
  let broker: EmbeddedBroker;
  const consumers: BatchConsumer[] = [];

  beforeAll(async () => {
    db = await createPgliteSqlClient();
    // A poll far beyond any test's wait: only the wake-up on send can deliver in time.
    broker = new EmbeddedBroker({ db, logger: quiet, pollIntervalMs: 600_000 });
  });

  afterEach(async () => {
    await Promise.all(consumers.splice(0).map((consumer) => consumer.stop()));
  });

  afterAll(async () => {
    await broker.close();
    await db.close();
  });

  async function freshTopic(partitions: number, options: { compacted?: boolean; retentionMs?: number } = {}): Promise<string> {
    const topic = `embedded-${uniqueSuffix()}`;
    await broker.ensureTopics([{ name: topic, partitions, ...options }]);
    return topic;
  }

  function consumer(groupId: string, topic: string, on: (batch: RecordBatch) => Promise<void> | void, target = broker): BatchConsumer {
    const created = target.consumer({ groupId, topics: [topic], retryDelayMs: { min: 10, max: 50 } });
    consumers.push(created);
    void created.start(async (batch) => on(batch));
    return created;
  }

  it('wakes consumers as soon as records are sent, without waiting for a poll', async () => {
    const topic = await freshTopic(2);
    const received: string[] = [];
    consumer(`g-${uniqueSuffix()}`, topic, (batch) => void received.push(...values(batch.records)));
    const producer = await broker.producer();
    await producer.send([{ topic, records: [{ key: 'a', value: 'one', headers: { trace: 't-1' } }] }]);
    await eventually(() => expect(received).toEqual(['one']), { timeoutMs: 5_000, intervalMs: 20 });
  });

  it('hands every record, headers included, to each group, with offsets increasing per partition', async () => {
    const topic = await freshTopic(3);
    const producer = await broker.producer();
    await producer.send([
      { topic, records: Array.from({ length: 30 }, (_, i) => ({ key: `k${i % 5}`, value: String(i), headers: { n: String(i) } })) },
    ]);
    const first: InboundRecord[] = [];
    const second: InboundRecord[] = [];
    consumer(`g-${uniqueSuffix()}`, topic, (batch) => void first.push(...batch.records));
    consumer(`g-${uniqueSuffix()}`, topic, (batch) => void second.push(...batch.records));
    await eventually(() => expect([first.length, second.length]).toEqual([30, 30]));
    expect(second.map((record) => record.value?.toString()).sort()).toEqual(first.map((record) => record.value?.toString()).sort());
    for (const record of first) expect(record.headers).toEqual({ n: record.value?.toString() });
    for (let partition = 0; partition < 3; partition += 1) {
      const offsets = first.filter((record) => record.partition === partition).map((record) => Number(record.offset));
      expect(offsets).toEqual(offsets.map((_, index) => index));
    }
    // The same key always lands on the same partition.
    const partitionsOfKey = new Map<string, Set<number>>();
    for (const record of first) partitionsOfKey.set(record.key ?? '', (partitionsOfKey.get(record.key ?? '') ?? new Set()).add(record.partition));
    expect([...partitionsOfKey.values()].every((partitions) => partitions.size === 1)).toBe(true);
  });

  it('refuses records for an unknown topic and writes nothing of that send', async () => {
    const topic = await freshTopic(1);
    const producer = await broker.producer();
    await expect(
      producer.send([
        { topic, records: [{ key: 'a', value: 'lost' }] },
        { topic: `missing-${uniqueSuffix()}`, records: [{ key: 'a', value: 'x' }] },
      ]),
    ).rejects.toMatchObject({ code: EmbeddedBrokerErrorCode.UnknownTopic });
    await producer.send([{ topic, records: [{ key: 'a', value: 'kept' }] }]);
    const received: InboundRecord[] = [];
    consumer(`g-${uniqueSuffix()}`, topic, (batch) => void received.push(...batch.records));
    await eventually(() => expect(values(received)).toEqual(['kept']));
    expect(received[0]?.offset).toBe('0');
    await expect(broker.consumer({ groupId: 'g', topics: [`missing-${uniqueSuffix()}`] }).start(async () => undefined)).rejects.toMatchObject({
      code: EmbeddedBrokerErrorCode.UnknownTopic,
    });
  });

  it('shares a group’s partitions among its members and gives them back when one stops', async () => {
    const topic = await freshTopic(4);
    const groupId = `g-${uniqueSuffix()}`;
    const delivered: Array<{ member: string; record: InboundRecord }> = [];
    const a = consumer(groupId, topic, (batch) => void delivered.push(...batch.records.map((record) => ({ member: 'a', record }))));
    await eventually(() => expect(a.assignments()).toEqual([{ topic, partitions: [0, 1, 2, 3] }]));
    const b = consumer(groupId, topic, (batch) => void delivered.push(...batch.records.map((record) => ({ member: 'b', record }))));
    await eventually(() => expect(b.assignments()).toHaveLength(1));
    const ownedByA = a.assignments()[0]?.partitions ?? [];
    const ownedByB = b.assignments()[0]?.partitions ?? [];
    expect(ownedByA).toHaveLength(2);
    expect([...ownedByA, ...ownedByB].sort()).toEqual([0, 1, 2, 3]);

    const producer = await broker.producer();
    await producer.send([{ topic, records: Array.from({ length: 40 }, (_, i) => ({ key: `k${i}`, value: String(i) })) }]);
    await eventually(() => expect(delivered).toHaveLength(40));
    for (const { member, record } of delivered) expect((member === 'a' ? ownedByA : ownedByB).includes(record.partition)).toBe(true);

    await b.stop();
    expect(a.assignments()).toEqual([{ topic, partitions: [0, 1, 2, 3] }]);
    await producer.send([{ topic, records: Array.from({ length: 40 }, (_, i) => ({ key: `k${i}`, value: `again-${i}` })) }]);
    await eventually(() => expect(delivered).toHaveLength(80));
    expect(delivered.slice(40).every(({ member }) => member === 'a')).toBe(true);
    expect(new Set(delivered.map(({ record }) => `${record.partition}:${record.offset}`)).size).toBe(80);
  });

  it('hands a partition over only after its old owner committed the batch in flight', async () => {
    const topic = await freshTopic(2);
    const groupId = `g-${uniqueSuffix()}`;
    const producer = await broker.producer();
    await producer.send([{ topic, records: Array.from({ length: 20 }, (_, i) => ({ key: `k${i % 4}`, value: String(i) })) }]);
    const delivered: Array<{ member: string; record: InboundRecord }> = [];
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let waiting = 0;
    // The first member holds a batch of both partitions until released: one of them moves meanwhile.
    const a = consumer(groupId, topic, async (batch) => {
      waiting += 1;
      await released;
      delivered.push(...batch.records.map((record) => ({ member: 'a', record })));
    });
    await eventually(() => expect(waiting).toBe(2));
    const b = consumer(groupId, topic, (batch) => void delivered.push(...batch.records.map((record) => ({ member: 'b', record }))));
    await eventually(() => expect(b.assignments()).toEqual([{ topic, partitions: [1] }]));
    expect(a.assignments()).toEqual([{ topic, partitions: [0] }]);
    await producer.send([{ topic, records: Array.from({ length: 20 }, (_, i) => ({ key: `k${i % 4}`, value: String(20 + i) })) }]);
    release();
    await eventually(() => expect(delivered).toHaveLength(40));
    expect(new Set(delivered.map(({ record }) => `${record.partition}:${record.offset}`)).size).toBe(40);
    expect(delivered.some(({ member, record }) => member === 'b' && record.partition === 1)).toBe(true);
    for (const key of ['k0', 'k1', 'k2', 'k3']) {
      const sequence = delivered.filter(({ record }) => record.key === key).map(({ record }) => Number(record.value?.toString()));
      expect(sequence).toEqual([...sequence].sort((x, y) => x - y));
    }
  });

  it('keeps only the newest record per key of a compacted topic, leaving offsets as they were', async () => {
    const topic = await freshTopic(1, { compacted: true });
    const producer = await broker.producer();
    await producer.send([
      {
        topic,
        records: [
          { key: 'k1', value: 'k1-v1' },
          { key: 'k2', value: 'k2-v1' },
          { key: 'k1', value: 'k1-v2' },
          { key: 'k1', value: 'k1-v3' },
        ],
      },
    ]);
    const before = await broker.cleanup();
    expect(before.compacted).toBeGreaterThanOrEqual(2);
    const received: InboundRecord[] = [];
    consumer(`g-${uniqueSuffix()}`, topic, (batch) => void received.push(...batch.records));
    await eventually(() => expect(values(received)).toEqual(['k2-v1', 'k1-v3']));
    expect(received.map((record) => record.offset)).toEqual(['1', '3']);
    await producer.send([{ topic, records: [{ key: 'k2', value: 'k2-v2' }] }]);
    await eventually(() => expect(received.at(-1)?.offset).toBe('4'));
  });

  it('drops records older than the retention, and a consumer reading from the start skips the gap', async () => {
    const topic = await freshTopic(1, { retentionMs: 1 });
    const producer = await broker.producer();
    await producer.send([{ topic, records: [{ key: 'a', value: 'old-1' }, { key: 'b', value: 'old-2' }] }]);
    let expired = 0;
    await eventually(async () => {
      expired += (await broker.cleanup()).expired;
      expect(expired).toBe(2);
    });
    await producer.send([{ topic, records: [{ key: 'a', value: 'new' }] }]);
    const received: InboundRecord[] = [];
    consumer(`g-${uniqueSuffix()}`, topic, (batch) => void received.push(...batch.records));
    await eventually(() => expect(received.map((record) => [record.offset, record.value?.toString()])).toEqual([['2', 'new']]));
  });

  it('runs retention on its own schedule', async () => {
    const scheduled = new EmbeddedBroker({ db, logger: quiet, cleanupIntervalMs: 50 });
    try {
      const topic = `retained-${uniqueSuffix()}`;
      await scheduled.ensureTopics([{ name: topic, partitions: 1, retentionMs: 1 }]);
      await (await scheduled.producer()).send([{ topic, records: [{ key: 'a', value: 'old' }] }]);
      await eventually(async () => {
        const { rows } = await db.query<{ count: string }>('SELECT count(*) FROM tandem_broker_records WHERE topic = $1', [topic]);
        expect(rows).toEqual([{ count: '0' }]);
      });
    } finally {
      await scheduled.close();
    }
  });

  it('finds records appended through another broker on the same database by polling', async () => {
    const polling = new EmbeddedBroker({ db, logger: quiet, pollIntervalMs: 50 });
    const other = new EmbeddedBroker({ db, logger: quiet });
    try {
      const topic = await freshTopic(2);
      const received: string[] = [];
      consumer(`g-${uniqueSuffix()}`, topic, (batch) => void received.push(...values(batch.records)), polling);
      await (await other.producer()).send([{ topic, records: [{ key: 'x', value: 'from elsewhere' }] }]);
      await eventually(() => expect(received).toEqual(['from elsewhere']), { timeoutMs: 5_000, intervalMs: 20 });
    } finally {
      await Promise.all([polling.close(), other.close()]);
    }
  });

  it('pushes a few thousand records through quickly enough for the demo load', async () => {
    const topic = await freshTopic(4);
    const producer = await broker.producer();
    let received = 0;
    consumer(`g-${uniqueSuffix()}`, topic, (batch) => {
      received += batch.records.length;
    });
    const started = performance.now();
    for (let send = 0; send < 30; send += 1) {
      await producer.send([{ topic, records: Array.from({ length: 100 }, (_, i) => ({ key: `k${i}`, value: `{"n":${send * 100 + i}}` })) }]);
    }
    await eventually(() => expect(received).toBe(3_000), { intervalMs: 10 });
    const seconds = (performance.now() - started) / 1000;
    console.log(`embedded broker: 3,000 records in 30 sends, produced and consumed in ${seconds.toFixed(2)} s`);
    expect(3_000 / seconds).toBeGreaterThan(500);
  });
});

describe('EmbeddedBroker on a data directory', () => {
  let dataRoot: string;

  beforeAll(async () => {
    dataRoot = await mkdtemp(join(tmpdir(), 'tandem-broker-'));
  });

  afterAll(() => rm(dataRoot, { recursive: true, force: true }));

  it('keeps records and committed offsets across close and reopen: a group resumes after its last commit', async () => {
    const dataDir = join(dataRoot, 'db');
    const topic = 'durable';
    const [committing, idle] = ['g-committing', 'g-idle'];

    const firstDb = await createPgliteSqlClient({ dataDir });
    const first = new EmbeddedBroker({ db: firstDb, logger: quiet });
    try {
      await first.ensureTopics([{ name: topic, partitions: 1 }]);
      const producer = await first.producer();
      await producer.send([{ topic, records: Array.from({ length: 5 }, (_, i) => ({ key: 'k', value: `r${i}` })) }]);
      const seen: string[] = [];
      const reader = first.consumer({ groupId: committing, topics: [topic] });
      await reader.start(async (batch) => void seen.push(...values(batch.records)));
      await eventually(() => expect(seen).toEqual(['r0', 'r1', 'r2', 'r3', 'r4']));
      await reader.stop();
      await producer.send([{ topic, records: Array.from({ length: 3 }, (_, i) => ({ key: 'k', value: `r${5 + i}` })) }]);
    } finally {
      await first.close();
      await firstDb.close();
    }

    const secondDb = await createPgliteSqlClient({ dataDir });
    const second = new EmbeddedBroker({ db: secondDb, logger: quiet });
    try {
      await second.ensureTopics([{ name: topic, partitions: 1 }]);
      const resumed: InboundRecord[] = [];
      const fresh: InboundRecord[] = [];
      const resumedReader = second.consumer({ groupId: committing, topics: [topic] });
      const freshReader = second.consumer({ groupId: idle, topics: [topic] });
      await resumedReader.start(async (batch) => void resumed.push(...batch.records));
      await freshReader.start(async (batch) => void fresh.push(...batch.records));
      await eventually(() => expect(values(resumed)).toEqual(['r5', 'r6', 'r7']));
      expect(resumed.map((record) => record.offset)).toEqual(['5', '6', '7']);
      await eventually(() => expect(fresh).toHaveLength(8));
      // Offsets continue after the restart; nothing is reused.
      await (await second.producer()).send([{ topic, records: [{ key: 'k', value: 'r8' }] }]);
      await eventually(() => expect(resumed.at(-1)?.offset).toBe('8'));
      await Promise.all([resumedReader.stop(), freshReader.stop()]);
    } finally {
      await second.close();
      await secondDb.close();
    }
  });
});
