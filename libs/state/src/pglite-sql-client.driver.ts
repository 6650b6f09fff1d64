import { AsyncLocalStorage } from 'node:async_hooks';
import { resolve } from 'node:path';
import { PGlite, types, type Results, type Transaction } from '@electric-sql/pglite';
import { transactionClient } from './savepoint.util';
import type { SqlClient, SqlResult } from './sql-client.interface';
import { StateError, StateErrorCode } from './state.error';

export interface PgliteSqlClientOptions {
  /** Kept between runs when given, so a restart resumes where it stopped; in memory otherwise. */
  dataDir?: string;
}

/** A `SqlClient` over an embedded PGlite database, which this client owns and `close` shuts down. */
export interface PgliteSqlClient extends SqlClient {
  close(): Promise<void>;
}

/**
 * Values come back as node-postgres returns them (64-bit integers as text, bytea as Buffer), so
 * code written against the server driver reads the same rows here. Array types follow their
 * element's parser.
 */
const PARSERS = {
  [types.INT8]: (value: string) => value,
  [types.BYTEA]: (value: string) => Buffer.from(value.slice(2), 'hex'),
};

/** Data directories open in this process: two engines on one directory would corrupt it. */
const openDataDirs = new Set<string>();

/**
 * Opens (creating when needed) an embedded PostgreSQL. It has a single connection, so statements
 * and transactions from every caller in the process run one at a time, in arrival order: a
 * transaction holds the connection from BEGIN to COMMIT and nobody else's query lands inside it.
 */
export async function createPgliteSqlClient(options: PgliteSqlClientOptions = {}): Promise<PgliteSqlClient> {
  const dataDir = options.dataDir === undefined ? undefined : resolve(options.dataDir);
  if (dataDir !== undefined) {
    if (openDataDirs.has(dataDir)) {
      throw new StateError(StateErrorCode.DataDirInUse, `the embedded database in ${dataDir} is already open in this process`);
    }
    openDataDirs.add(dataDir);
  }
  let db: PGlite;
  try {
    db = await PGlite.create({ ...(dataDir === undefined ? {} : { dataDir }), parsers: PARSERS });
  } catch (error) {
    if (dataDir !== undefined) openDataDirs.delete(dataDir);
    throw error;
  }
  return new PgliteClient(db, dataDir);
}

interface OpenTransaction {
  client: PgliteClient;
  open: boolean;
}

/** Which of this process's transactions the current async call chain runs inside, if any. */
const currentTransaction = new AsyncLocalStorage<OpenTransaction>();

class PgliteClient implements PgliteSqlClient {
  private readonly gate = new Gate();
  private closed: Promise<void> | undefined;

  constructor(
    private readonly db: PGlite,
    private readonly dataDir: string | undefined,
  ) {}

  async query<R>(text: string, params?: unknown[]): Promise<SqlResult<R>> {
    this.refuseInsideOwnTransaction();
    return this.gate.run(() => runQuery<R>(this.db, text, params));
  }

  async transaction<T>(work: (tx: SqlClient) => Promise<T>): Promise<T> {
    this.refuseInsideOwnTransaction();
    return this.gate.run(() =>
      this.db.transaction(async (tx) => {
        const marker: OpenTransaction = { client: this, open: true };
        try {
          return await currentTransaction.run(marker, () => work(transactionClient((text, params) => runQuery(tx, text, params))));
        } finally {
          marker.open = false;
        }
      }),
    );
  }

  close(): Promise<void> {
    // Queued work finishes first; the data directory is free again once the engine has shut down.
    this.closed ??= this.gate.run(async () => {
      try {
        await this.db.close();
      } finally {
        if (this.dataDir !== undefined) openDataDirs.delete(this.dataDir);
      }
    });
    return this.closed;
  }

  /**
   * With one connection, a statement sent through the outer client while a transaction of this
   * client is open in the same call chain would wait for that transaction forever: fail instead.
   */
  private refuseInsideOwnTransaction(): void {
    const current = currentTransaction.getStore();
    if (current?.client === this && current.open) {
      throw new StateError(
        StateErrorCode.ConnectionInUse,
        'the embedded database was used through its outer client inside one of its own transactions; use the transaction client',
      );
    }
  }
}

type Queryable = Pick<PGlite | Transaction, 'query' | 'exec'>;

async function runQuery<R>(target: Queryable, text: string, params?: unknown[]): Promise<SqlResult<R>> {
  // Without parameters the simple protocol runs several statements; the last one is the answer.
  const result: Results | undefined =
    params === undefined ? (await target.exec(text)).at(-1) : await target.query(text, [...params]);
  return { rows: (result?.rows ?? []) as R[], rowCount: result?.rowCount ?? 0 };
}

/** Runs tasks one at a time in the order they were submitted; a failed task does not stop the next. */
class Gate {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
