import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/** The server that integration tests create their throwaway databases on. */
export const TEST_POSTGRES_URL = process.env['TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const TEST_REDIS_URL = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
export const TEST_KAFKA_BROKERS = (process.env['TEST_KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');

export interface TempDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** Creates an empty database with a unique name; `drop` removes it even if connections linger. */
export async function createTempDatabase(prefix: string): Promise<TempDatabase> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`.toLowerCase();
  await withAdmin((admin) => admin.query(`CREATE DATABASE ${name}`));
  const url = new URL(TEST_POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: () => withAdmin((admin) => admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

async function withAdmin<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A short unique suffix for topic, key and group names so test runs never see each other's data. */
export function uniqueSuffix(): string {
  return randomBytes(4).toString('hex');
}
