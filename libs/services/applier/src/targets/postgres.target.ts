import { PostgresApplier, PostgresSystemError, type PostgresTable } from '@tandem/postgres-system';
import { Pool } from 'pg';
import type { Logger } from 'pino';
import type { TargetConnection } from './target-connection.interface';

export async function openPostgresTarget(url: string, table: PostgresTable, logger: Logger): Promise<TargetConnection> {
  const pool = new Pool({ connectionString: url, max: 4 });
  pool.on('error', (error) => logger.warn({ error: error.message }, 'target connection dropped'));
  const target = new PostgresApplier({ pool, table });
  await target.install();
  return {
    target,
    sharesCalls: false,
    keepsVersions: true,
    probe: () => pool.query('SELECT 1'),
    isTransient: (error) => !(error instanceof PostgresSystemError) || error.retryable,
    check: async () => void (await pool.query('SELECT 1')),
    close: () => pool.end(),
  };
}
