import { PostgresChangeCapture, type PostgresTable } from '@tandem/postgres-system';
import { Pool } from 'pg';
import type { Logger } from 'pino';
import type { SourceReader } from './source-reader.interface';

/** A PostgreSQL table read through trigger capture; a resumable snapshot of existing rows first. */
export class PostgresSourceReader implements SourceReader {
  readonly source: PostgresChangeCapture;
  private readonly pool: Pool;

  private constructor(
    pool: Pool,
    capture: PostgresChangeCapture,
    private readonly snapshotChunkSize: number,
    private readonly logger: Logger,
  ) {
    this.pool = pool;
    this.source = capture;
  }

  static async open(options: { url: string; table: PostgresTable; snapshotChunkSize: number; logger: Logger }): Promise<PostgresSourceReader> {
    const { logger } = options;
    const pool = new Pool({ connectionString: options.url, max: 4 });
    pool.on('error', (error) => logger.warn({ error: error.message }, 'source connection dropped'));
    const capture = new PostgresChangeCapture({
      pool,
      table: options.table,
      onListenerError: (error) => logger.warn({ error: error.message }, 'change notifications unavailable; polling'),
    });
    await capture.install();
    return new PostgresSourceReader(pool, capture, options.snapshotChunkSize, logger);
  }

  async prepare(signal: AbortSignal): Promise<void> {
    const snapshot = await this.source.snapshot({
      chunkSize: this.snapshotChunkSize,
      signal,
      onProgress: (progress) => this.logger.info(progress, 'initial snapshot'),
    });
    if (snapshot.rowsDone > 0) this.logger.info(snapshot, 'initial snapshot done');
  }

  async runBeside(): Promise<void> {
    // Capture notifies the reader itself; nothing runs beside it.
  }

  async check(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    await this.source.close();
    await this.pool.end();
  }
}
