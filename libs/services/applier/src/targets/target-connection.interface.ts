import type { ApplyTarget } from '@tandem/pipeline';

/** A target system's writer with what its breaker and retries need to know about it. */
export interface TargetConnection {
  target: ApplyTarget;
  /**
   * Batch-API targets gather every assigned partition's commands into shared calls, so the
   * consumer works all its partitions at once rather than APPLIER_CONCURRENCY of them.
   */
  sharesCalls: boolean;
  /**
   * The target records Tandem's bookkeeping in one transaction with each write (each entity's
   * applied version, so older commands are answered stale, and the entity of each record it made);
   * for the others the pipeline keeps it (see the pipeline's `tracksWrites`).
   */
  keepsBookkeeping: boolean;
  /** A cheap call that succeeds when the target answers again. */
  probe(): Promise<unknown>;
  /** Whether a failure says the target is unwell (counts toward opening the breaker and is retried). */
  isTransient(error: unknown): boolean;
  /** Readiness: reaches the target without spending rate-limited calls. */
  check(): Promise<void>;
  close(): Promise<void>;
}
