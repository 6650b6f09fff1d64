import { SyncLogRepository, type SqlClient } from '@tandem/state';
import type { Logger } from 'pino';

/** Small enough that a chunk's transaction holds its locks and WAL briefly, large enough to keep up. */
const CHUNK_ROWS = 5_000;
/** Between hourly runs the log holds at most an hour's entries beyond its retention. */
const RUN_EVERY_MS = 3_600_000;
/** The first run waits until the service has started, and its consumer has settled. */
const FIRST_RUN_AFTER_MS = 60_000;

export interface PruneReport {
  /** When the run ended. */
  at: string;
  cutoff: string;
  deleted: number;
  /** The run stopped because another replica was pruning: it goes on from where that one stops. */
  yielded: boolean;
}

export interface SyncLogRetentionOptions {
  chunkRows?: number;
  runEveryMs?: number;
  firstRunAfterMs?: number;
}

/**
 * Keeps the sync log to its retention: it gains two entries per change, and would otherwise grow
 * without end. Every replica runs it; a chunk is deleted only under a lock one replica holds at a
 * time, so replicas take turns rather than fight over the same rows.
 */
export class SyncLogRetention {
  private readonly log: SyncLogRepository;
  private readonly stopping = new AbortController();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<PruneReport> | null = null;
  private last: PruneReport | null = null;

  constructor(
    db: SqlClient,
    private readonly retentionDays: number,
    private readonly logger: Logger,
    private readonly options: SyncLogRetentionOptions = {},
  ) {
    this.log = new SyncLogRepository(db);
  }

  /** Schedules the runs; a failed run is logged and the next one tries again. */
  start(): void {
    const schedule = (delayMs: number): void => {
      this.timer = setTimeout(() => {
        this.running = this.runOnce();
        this.running
          .catch((error: unknown) => {
            this.logger.error({ error: String(error) }, 'sync log pruning failed; trying again at the next run');
          })
          .finally(() => {
            this.running = null;
            if (!this.stopping.signal.aborted) schedule(this.options.runEveryMs ?? RUN_EVERY_MS);
          });
      }, delayMs);
      this.timer.unref();
    };
    schedule(this.options.firstRunAfterMs ?? FIRST_RUN_AFTER_MS);
  }

  /** Deletes the entries older than the retention, chunk by chunk, until none is left or it is stopped. */
  async runOnce(): Promise<PruneReport> {
    const bounds = await this.log.pruneBounds(this.retentionDays);
    const chunkRows = this.options.chunkRows ?? CHUNK_ROWS;
    let deleted = 0;
    let yielded = false;
    while (!this.stopping.signal.aborted) {
      const removed = await this.log.pruneChunk(bounds, chunkRows);
      if (removed === null) {
        yielded = true;
        break;
      }
      deleted += removed;
      if (removed < chunkRows) break;
      this.logger.info({ deleted, cutoff: bounds.cutoff }, 'pruning the sync log');
    }
    this.last = { at: new Date().toISOString(), cutoff: bounds.cutoff, deleted, yielded };
    if (deleted > 0 || yielded) this.logger.info(this.last, 'sync log pruned');
    return this.last;
  }

  /** For health: the retention and what the last run did. */
  status(): { retentionDays: number; lastRun: PruneReport | null } {
    return { retentionDays: this.retentionDays, lastRun: this.last };
  }

  /** Stops scheduling; a run in flight finishes its chunk and stops. */
  async stop(): Promise<void> {
    this.stopping.abort();
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }
}
