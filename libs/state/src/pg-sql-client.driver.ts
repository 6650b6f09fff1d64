import { Pool, type PoolClient } from 'pg';
import { transactionClient } from './savepoint.util';
import type { SqlClient, SqlResult } from './sql-client.interface';
import { StateError, StateErrorCode } from './state.error';

/** A `SqlClient` over a `pg.Pool`; `close` ends the pool only when this client created it. */
export interface PgSqlClient extends SqlClient {
  close(): Promise<void>;
}

export function createPgSqlClient(source: string | Pool): PgSqlClient {
  const ownsPool = typeof source === 'string';
  const pool = typeof source === 'string' ? ownPool(source) : source;
  return {
    query: (text, params) => runQuery(pool, text, params),
    transaction: (work) => runTransaction(pool, work),
    close: async () => {
      if (ownsPool) await pool.end();
    },
  };
}

function ownPool(connectionString: string): Pool {
  const pool = new Pool({ connectionString });
  // An idle session the server ends (restart, failover) is already dropped from the pool, and the next
  // query reconnects or fails with its own error; unheard, the event would crash the process instead.
  pool.on('error', () => undefined);
  return pool;
}

type Queryable = Pick<Pool | PoolClient, 'query'>;

async function runQuery<R>(target: Queryable, text: string, params?: unknown[]): Promise<SqlResult<R>> {
  const result = params === undefined ? await target.query(text) : await target.query(text, [...params]);
  // Several statements in one call yield one result per statement; the last one is the answer.
  const last = Array.isArray(result) ? result[result.length - 1] : result;
  return { rows: (last?.rows ?? []) as R[], rowCount: last?.rowCount ?? 0 };
}

async function runTransaction<T>(pool: Pool, work: (tx: SqlClient) => Promise<T>): Promise<T> {
  const connection = await pool.connect();
  await connection.query('BEGIN').catch((error: unknown) => {
    connection.release(error instanceof Error ? error : true);
    throw error;
  });
  let result: T;
  try {
    result = await work(transactionClient((text, params) => runQuery(connection, text, params)));
    await connection.query('COMMIT');
  } catch (error) {
    try {
      await connection.query('ROLLBACK');
    } catch (rollbackError) {
      connection.release(rollbackError instanceof Error ? rollbackError : true);
      throw new StateError(StateErrorCode.RollbackFailed, 'transaction failed and could not be rolled back', {
        cause: new AggregateError([error, rollbackError]),
      });
    }
    connection.release();
    throw error;
  }
  connection.release();
  return result;
}
