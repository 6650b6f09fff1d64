import { PostgresApplier, PostgresSystemError, type PostgresTable } from '@tandem/postgres-system';
import { Pool } from 'pg';
import type { Logger } from 'pino';
import type { TargetConnection } from './target-connection.interface';

/** `matchColumn`: the column creates look for a person's row by (see `createMatchFor`), if any. */
export async function openPostgresTarget(url: string, table: PostgresTable, logger: Logger, matchColumn: string | null): Promise<TargetConnection> {
  const pool = new Pool({ connectionString: url, max: 4 });
  pool.on('error', (error) => logger.warn({ error: error.message }, 'target connection dropped'));
  const target = new PostgresApplier({ pool, table });
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
