import { PostgresApplier, PostgresSystemError, type PostgresTable } from '@tandem/postgres-system';
import { Pool } from 'pg';
import type { Logger } from 'pino';
import type { TargetConnection } from './target-connection.interface';

export interface PostgresTargetOptions {
  url: string;
  table: PostgresTable;
  /** The column creates look for a person's row by (see `createMatchFor`), if any. */
  matchColumn: string | null;
  preparedStatements: boolean;
}

export async function openPostgresTarget({ url, table, matchColumn, preparedStatements }: PostgresTargetOptions, logger: Logger): Promise<TargetConnection> {
  const pool = new Pool({ connectionString: url, max: 4 });
  pool.on('error', (error) => logger.warn({ error: error.message }, 'target connection dropped'));
  const target = new PostgresApplier({ pool, table, preparedStatements });
  await target.install();
  if (matchColumn !== null) {
    // Without the index creates still match, only by reading the whole table each time.
    await target.indexMatchColumn(matchColumn).catch((error: unknown) =>
      logger.warn({ error: String(error), column: matchColumn }, 'could not index the match column; creates will scan the table to match'),
    );
  }
  return {
    target,
    sharesCalls: false,
    keepsBookkeeping: true,
    probe: () => pool.query('SELECT 1'),
    isTransient: (error) => !(error instanceof PostgresSystemError) || error.retryable,
    check: async () => void (await pool.query('SELECT 1')),
    close: () => pool.end(),
  };
}
