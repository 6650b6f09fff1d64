import type { Pool, PoolClient, QueryResult, QueryResultRow } from 'pg';
import { toPostgresSystemError } from './postgres-failure.util';

export type Queryable = Pool | PoolClient;

/**
 * Runs one statement, turning driver failures into `PostgresSystemError`s that say what was being done.
 * A `name` prepares it once per connection (see `preparedStatementNamer`).
 */
export async function runQuery<R extends QueryResultRow = QueryResultRow>(
  db: Queryable,
  doing: string,
  text: string,
  values: unknown[] = [],
  name?: string,
): Promise<QueryResult<R>> {
  try {
    return await db.query<R>({ text, values, name });
  } catch (error) {
    throw toPostgresSystemError(error, doing);
  }
}

const connectionFailures = new WeakMap<PoolClient, Error>();

/**
 * A checked-out client emits `error` when its connection dies, and an unhandled `error` event would
 * crash the process. The same failure also rejects the query in flight, which is where it is
 * reported; here it only marks the client as one that must not go back to the pool.
 */
function rememberConnectionFailure(this: PoolClient, error: Error): void {
  connectionFailures.set(this, error);
}

/** Checks a client out of the pool; a pool that cannot connect is `unavailable`. */
export async function connectClient(pool: Pool, doing: string): Promise<PoolClient> {
  let client: PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    throw toPostgresSystemError(error, doing);
  }
  client.on('error', rememberConnectionFailure);
  return client;
}

/** Returns a healthy client to the pool. */
export function releaseClient(client: PoolClient): void {
  client.off('error', rememberConnectionFailure);
  client.release();
}

/**
 * Returns a client whose transaction failed to the pool clean, or destroys it when its connection
 * failed or even ROLLBACK fails: closing the connection makes the server discard the transaction.
 */
export async function releaseAfterFailure(client: PoolClient): Promise<void> {
  let broken = connectionFailures.get(client);
  if (!broken) {
    try {
      await client.query('ROLLBACK');
    } catch (rollbackError) {
      broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
    }
  }
  client.off('error', rememberConnectionFailure);
  client.release(broken);
}

/** Runs `work` in one transaction on one pooled client, rolling back if anything fails. */
export async function withTransaction<T>(
  pool: Pool,
  doing: string,
  work: (client: PoolClient) => Promise<T>,
): Promise<T> {
  const client = await connectClient(pool, doing);
  try {
    await runQuery(client, doing, 'BEGIN');
    const result = await work(client);
    await runQuery(client, doing, 'COMMIT');
    releaseClient(client);
    return result;
  } catch (error) {
    await releaseAfterFailure(client);
    throw error;
  }
}
