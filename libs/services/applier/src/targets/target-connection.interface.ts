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
   * The target records each entity's applied version with the write itself and answers older
   * commands as stale; for the others the pipeline keeps that version.
   */
  keepsVersions: boolean;
  /** A cheap call that succeeds when the target answers again. */
  probe(): Promise<unknown>;
  /** Whether a failure says the target is unwell (counts toward opening the breaker and is retried). */
  isTransient(error: unknown): boolean;
  /** Readiness: reaches the target without spending rate-limited calls. */
  check(): Promise<void>;
  close(): Promise<void>;
}
