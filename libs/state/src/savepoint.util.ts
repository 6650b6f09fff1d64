import type { SqlClient, SqlResult } from './sql-client.interface';
import { StateError, StateErrorCode } from './state.error';

export type RunQuery = <R>(text: string, params?: unknown[]) => Promise<SqlResult<R>>;

/**
 * The client handed to transaction work: statements run on the transaction's connection, and a
 * nested `transaction` is a savepoint. Work inside a transaction runs one step at a time, so
 * savepoints are named by nesting depth.
 */
export function transactionClient(run: RunQuery, savepoints: { depth: number } = { depth: 0 }): SqlClient {
  return {
    query: run,
    transaction: async (work) => {
      savepoints.depth += 1;
      const name = `tandem_sp_${savepoints.depth}`;
      try {
        await run(`SAVEPOINT ${name}`);
        try {
          const result = await work(transactionClient(run, savepoints));
          await run(`RELEASE SAVEPOINT ${name}`);
          return result;
        } catch (error) {
          await run(`ROLLBACK TO SAVEPOINT ${name}`).catch((rollbackError: unknown) => {
            throw new StateError(StateErrorCode.RollbackFailed, `could not roll back to savepoint ${name}`, {
              cause: new AggregateError([error, rollbackError]),
            });
          });
          throw error;
        }
      } finally {
        savepoints.depth -= 1;
      }
    },
  };
}
