import { Pool, type PoolClient } from 'pg';
import { preparedStatementNamer, type StatementNamer } from './prepared-statement.util';
import { transactionClient, type RunQuery } from './savepoint.util';
import type { SqlClient, SqlResult } from './sql-client.interface';
import { StateError, StateErrorCode } from './state.error';

/** A `SqlClient` over a `pg.Pool`; `close` ends the pool only when this client created it. */
export interface PgSqlClient extends SqlClient {
  close(): Promise<void>;
}

export interface PgSqlClientOptions {
  /**
   * Parameterized statements are prepared once per connection and then only bound and executed
   * (default). The server stops planning the same batch statements again for every batch, and after
   * a few runs plans them for any batch: a keyed lookup of a batch's ids then reads its index
   * whatever the table's size, where a plan made for each batch read small tables whole. Off for a
   * pooler that hands a session's statements to other clients (PgBouncer in transaction mode before
   * 1.21, or with `max_prepared_statements` at 0).
   */
  preparedStatements?: boolean;
}

export function createPgSqlClient(source: string | Pool, { preparedStatements = true }: PgSqlClientOptions = {}): PgSqlClient {
  const ownsPool = typeof source === 'string';
  const pool = typeof source === 'string' ? ownPool(source) : source;
  const statementName = preparedStatementNamer(preparedStatements);
  const run =
    (target: Queryable): RunQuery =>
    (text, params) =>
      runQuery(target, text, params, statementName);
  return {
    query: run(pool),
    transaction: (work) => runTransaction(pool, work, run),
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

async function runQuery<R>(target: Queryable, text: string, params: unknown[] | undefined, statementName: StatementNamer): Promise<SqlResult<R>> {
  // Statements without parameters may hold several commands, which the extended protocol refuses.
  const result = params === undefined ? await target.query(text) : await target.query({ name: statementName(text), text, values: [...params] });
  // Several statements in one call yield one result per statement; the last one is the answer.
  const last = Array.isArray(result) ? result[result.length - 1] : result;
  return { rows: (last?.rows ?? []) as R[], rowCount: last?.rowCount ?? 0 };
}

async function runTransaction<T>(
  pool: Pool,
  work: (tx: SqlClient) => Promise<T>,
  run: (target: Queryable) => RunQuery,
): Promise<T> {
  const connection = await pool.connect();
  await connection.query('BEGIN').catch((error: unknown) => {
    connection.release(error instanceof Error ? error : true);
    throw error;
  });
  let result: T;
  try {
    result = await work(transactionClient(run(connection)));
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
