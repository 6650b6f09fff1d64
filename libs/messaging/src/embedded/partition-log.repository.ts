import type { SqlClient } from '@tandem/state';
import type { InboundRecord, TopicSpec } from '../broker.interface';
import { EmbeddedBrokerError, EmbeddedBrokerErrorCode } from './embedded-broker.error';

/** Arbitrary but fixed, and distinct from the migration lock: brokers starting together create the tables once. */
const SCHEMA_LOCK_KEY = 7_406_120_032;

/**
 * The log lives in its own tables rather than in Tandem's migrations: it is the transport, present
 * only where the embedded broker is used. `next_offset` per partition is the log end, bumped in the
 * same transaction as the append, so whoever sees it also sees every record below it.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS tandem_broker_topics (
  name text PRIMARY KEY,
  partitions int NOT NULL CHECK (partitions > 0),
  compacted boolean NOT NULL,
  retention_ms bigint NULL CHECK (retention_ms > 0),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS tandem_broker_partitions (
  topic text NOT NULL REFERENCES tandem_broker_topics (name),
  partition int NOT NULL,
  next_offset bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (topic, partition)
);
CREATE TABLE IF NOT EXISTS tandem_broker_records (
  topic text NOT NULL,
  partition int NOT NULL,
  "offset" bigint NOT NULL,
  key text NULL,
  value bytea NULL,
  headers jsonb NOT NULL,
  appended_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (topic, partition, "offset")
);
CREATE TABLE IF NOT EXISTS tandem_broker_commits (
  group_id text NOT NULL,
  topic text NOT NULL,
  partition int NOT NULL,
  -- The next offset the group will read, as Kafka commits it.
  "offset" bigint NOT NULL,
  committed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (group_id, topic, partition)
)`;

/** Keeps one INSERT's parameters to a bounded size however large the send. */
const MAX_RECORDS_PER_INSERT = 1_000;
const MAX_BYTES_PER_INSERT = 1024 * 1024;

export interface TopicMeta {
  partitions: number;
  compacted: boolean;
  retentionMs: number | null;
}

export interface PartitionAppend {
  topic: string;
  partition: number;
  records: Array<{ key: string; value: string; headers: Record<string, string> }>;
}

export interface CleanupResult {
  /** Records older than their topic's retention. */
  expired: number;
  /** Records of compacted topics with a newer record of the same key. */
  compacted: number;
}

/** A partition's position: `topic` and `partition` with an offset (a log end, or a committed position). */
export interface PartitionOffset {
  topic: string;
  partition: number;
  offset: number;
}

/** SQL over the broker's tables; one statement per call unless stated. */
export class PartitionLogRepository {
  private schema: Promise<void> | undefined;

  constructor(private readonly db: SqlClient) {}

  /** Creates the tables on first use; a failed attempt is retried by the next caller. */
  ready(): Promise<void> {
    this.schema ??= this.db
      .transaction(async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK_KEY]);
        await tx.query(SCHEMA);
      })
      .catch((error: unknown) => {
        this.schema = undefined;
        throw error;
      });
    return this.schema;
  }

  /** Creates missing topics with their partitions; existing ones are left as they are, as Kafka does. */
  async createTopics(topics: TopicSpec[]): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO tandem_broker_topics (name, partitions, compacted, retention_ms)
         SELECT * FROM unnest($1::text[], $2::int[], $3::boolean[], $4::bigint[])
         ON CONFLICT (name) DO NOTHING`,
        [
          topics.map((topic) => topic.name),
          topics.map((topic) => topic.partitions),
          topics.map((topic) => topic.compacted ?? false),
          topics.map((topic) => topic.retentionMs ?? null),
        ],
      );
      await tx.query(
        `INSERT INTO tandem_broker_partitions (topic, partition)
         SELECT t.name, p FROM tandem_broker_topics t, generate_series(0, t.partitions - 1) AS p
         WHERE t.name = ANY($1::text[])
         ON CONFLICT DO NOTHING`,
        [topics.map((topic) => topic.name)],
      );
    });
  }

  async topics(names: string[]): Promise<Map<string, TopicMeta>> {
    const { rows } = await this.db.query<{ name: string; partitions: number; compacted: boolean; retention_ms: string | null }>(
      'SELECT name, partitions, compacted, retention_ms FROM tandem_broker_topics WHERE name = ANY($1::text[])',
      [names],
    );
    return new Map(
      rows.map((row) => [
        row.name,
        { partitions: row.partitions, compacted: row.compacted, retentionMs: row.retention_ms === null ? null : Number(row.retention_ms) },
      ]),
    );
  }

  /**
   * Appends every partition's records in one transaction, with consecutive offsets after the
   * partition's end. Partition rows are locked in a fixed order, so concurrent appends from other
   * processes on the same database wait for each other instead of deadlocking or interleaving.
   * Returns the new end of each partition written.
   */
  async append(appends: PartitionAppend[]): Promise<PartitionOffset[]> {
    const sorted = [...appends].sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
    return this.db.transaction(async (tx) => {
      const topics = sorted.map((entry) => entry.topic);
      const partitions = sorted.map((entry) => entry.partition);
      await tx.query(
        `SELECT 1 FROM tandem_broker_partitions p
         JOIN unnest($1::text[], $2::int[]) AS w(topic, partition) ON p.topic = w.topic AND p.partition = w.partition
         ORDER BY p.topic, p.partition
         FOR UPDATE OF p`,
        [topics, partitions],
      );
      const { rows } = await tx.query<{ topic: string; partition: number; next_offset: string }>(
        `UPDATE tandem_broker_partitions p SET next_offset = p.next_offset + w.count
         FROM unnest($1::text[], $2::int[], $3::bigint[]) AS w(topic, partition, count)
         WHERE p.topic = w.topic AND p.partition = w.partition
         RETURNING p.topic, p.partition, p.next_offset`,
        [topics, partitions, sorted.map((entry) => entry.records.length)],
      );
      const ends = new Map(rows.map((row) => [`${row.topic}:${row.partition}`, Number(row.next_offset)]));
      const rowsToInsert: Array<{ topic: string; partition: number; offset: number; key: string; value: Buffer; headers: string }> = [];
      for (const entry of sorted) {
        const end = ends.get(`${entry.topic}:${entry.partition}`);
        if (end === undefined) {
          throw new EmbeddedBrokerError(EmbeddedBrokerErrorCode.UnknownTopic, `partition ${entry.topic}:${entry.partition} does not exist`);
        }
        const first = end - entry.records.length;
        entry.records.forEach((record, index) => {
          rowsToInsert.push({
            topic: entry.topic,
            partition: entry.partition,
            offset: first + index,
            key: record.key,
            value: Buffer.from(record.value, 'utf8'),
            headers: JSON.stringify(record.headers),
          });
        });
      }
      for (const chunk of chunks(rowsToInsert)) {
        await tx.query(
          `INSERT INTO tandem_broker_records (topic, partition, "offset", key, value, headers)
           SELECT * FROM unnest($1::text[], $2::int[], $3::bigint[], $4::text[], $5::bytea[], $6::jsonb[])`,
          [
            chunk.map((row) => row.topic),
            chunk.map((row) => row.partition),
            chunk.map((row) => row.offset),
            chunk.map((row) => row.key),
            chunk.map((row) => row.value),
            chunk.map((row) => row.headers),
          ],
        );
      }
      return rows.map((row) => ({ topic: row.topic, partition: row.partition, offset: Number(row.next_offset) }));
    });
  }

  /** Up to `limit` records of one partition from `from` on, in offset order. */
  async fetch(topic: string, partition: number, from: number, limit: number): Promise<InboundRecord[]> {
    const { rows } = await this.db.query<{ offset: string; key: string | null; value: Buffer | null; headers: Record<string, string> }>(
      `SELECT "offset", key, value, headers FROM tandem_broker_records
       WHERE topic = $1 AND partition = $2 AND "offset" >= $3
       ORDER BY "offset" LIMIT $4`,
      [topic, partition, from, limit],
    );
    return rows.map((row) => ({ topic, partition, offset: String(row.offset), key: row.key, value: row.value, headers: row.headers }));
  }

  async endOffsets(topics: string[]): Promise<PartitionOffset[]> {
    const { rows } = await this.db.query<{ topic: string; partition: number; next_offset: string }>(
      'SELECT topic, partition, next_offset FROM tandem_broker_partitions WHERE topic = ANY($1::text[])',
      [topics],
    );
    return rows.map((row) => ({ topic: row.topic, partition: row.partition, offset: Number(row.next_offset) }));
  }

  /** The group's committed position in one partition, or null when it never committed there. */
  async committed(groupId: string, topic: string, partition: number): Promise<number | null> {
    const { rows } = await this.db.query<{ offset: string }>(
      'SELECT "offset" FROM tandem_broker_commits WHERE group_id = $1 AND topic = $2 AND partition = $3',
      [groupId, topic, partition],
    );
    return rows[0] === undefined ? null : Number(rows[0].offset);
  }

  async commit(groupId: string, topic: string, partition: number, nextOffset: number): Promise<void> {
    await this.db.query(
      `INSERT INTO tandem_broker_commits (group_id, topic, partition, "offset") VALUES ($1, $2, $3, $4)
       ON CONFLICT (group_id, topic, partition) DO UPDATE SET "offset" = excluded."offset", committed_at = now()`,
      [groupId, topic, partition, nextOffset],
    );
  }

  /**
   * Kafka's cleanup policies: "delete" drops records older than the topic's retention; "compact"
   * keeps only the newest record of each key in each partition. Offsets never change; consumers
   * simply find gaps, as on Kafka.
   */
  async cleanup(): Promise<CleanupResult> {
    const expired = await this.db.query(
      `DELETE FROM tandem_broker_records r USING tandem_broker_topics t
       WHERE r.topic = t.name AND NOT t.compacted AND t.retention_ms IS NOT NULL
         AND r.appended_at < now() - t.retention_ms * interval '1 millisecond'`,
    );
    const compacted = await this.db.query(
      `DELETE FROM tandem_broker_records r
       USING (
         SELECT topic, partition, "offset",
                row_number() OVER (PARTITION BY topic, partition, key ORDER BY "offset" DESC) AS newest_first
         FROM tandem_broker_records
         WHERE topic IN (SELECT name FROM tandem_broker_topics WHERE compacted)
       ) AS superseded
       WHERE superseded.newest_first > 1
         AND r.topic = superseded.topic AND r.partition = superseded.partition AND r."offset" = superseded."offset"`,
    );
    return { expired: expired.rowCount, compacted: compacted.rowCount };
  }

  /** Answers when the database answers. */
  async ping(): Promise<void> {
    await this.db.query('SELECT 1');
  }
}

function* chunks<T extends { value: Buffer; headers: string }>(rows: T[]): Generator<T[]> {
  let chunk: T[] = [];
  let bytes = 0;
  for (const row of rows) {
    const size = row.value.length + row.headers.length + 64;
    if (chunk.length > 0 && (chunk.length >= MAX_RECORDS_PER_INSERT || bytes + size > MAX_BYTES_PER_INSERT)) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push(row);
    bytes += size;
  }
  if (chunk.length > 0) yield chunk;
}
