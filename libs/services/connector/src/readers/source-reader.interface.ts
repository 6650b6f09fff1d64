import type { RecordChangeSource } from '@tandem/pipeline';

/** What the lease holder does with a system of one kind; standbys only construct it. */
export interface SourceReader {
  readonly source: RecordChangeSource;
  /** Work before streaming (snapshot, backfill): resumable, and stops early when `signal` aborts. */
  prepare(signal: AbortSignal, fencingToken: number): Promise<void>;
  /** Work beside streaming (pollers) until `signal` aborts. */
  runBeside(signal: AbortSignal, fencingToken: number): Promise<void>;
  /** Answers when the system can be reached, for readiness. */
  check(): Promise<void>;
  close(): Promise<void>;
}
