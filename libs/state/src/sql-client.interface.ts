export interface SqlResult<R> {
  rows: R[];
  rowCount: number;
}

/**
 * The only way repositories reach the database, so that server PostgreSQL and an embedded engine
 * (PGlite) can both stand behind them.
 *
 * Implementations must:
 * - accept several `;`-separated statements in one `query` call when no parameters are given
 *   (migrations are sent that way);
 * - run `transaction` work in one transaction, committed when `work` resolves and rolled back when
 *   it rejects; calling `transaction` on the client handed to `work` nests as a savepoint, so a
 *   repository can make its own writes atomic whether or not its caller already opened a transaction.
 */
export interface SqlClient {
  query<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<SqlResult<R>>;
  transaction<T>(work: (tx: SqlClient) => Promise<T>): Promise<T>;
}
