import { abortableSleep, abortedError } from './abortable-sleep.util';
import { ResilienceError, ResilienceErrorCode } from './resilience.error';

export interface RetryOptions {
  /** Retries after the first attempt; `retries: 3` makes at most 4 attempts. */
  retries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** False for errors that another attempt cannot fix (validation, auth): they are rethrown at once. */
  isRetryable: (error: unknown) => boolean;
  /** Stops waiting between attempts; the operation itself should watch the same signal. */
  signal?: AbortSignal;
  /** Called before each wait with the failed attempt's error and number (from 1) and the delay. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

/**
 * Runs `operation` (given the attempt number, from 1) until it succeeds, waiting between attempts
 * with exponential backoff and full jitter so that many callers failing together do not retry
 * together. The last error is rethrown unchanged once retries run out, or at once if it is not
 * retryable; an abort while waiting rejects with an `aborted` error caused by the last error.
 */
export async function retry<T>(operation: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  assertRetryOptions(options);
  const { signal } = options;
  let lastError: unknown = signal?.reason;
  for (let attempt = 1; ; attempt += 1) {
    if (signal?.aborted) throw abortedError(lastError);
    try {
      return await operation(attempt);
    } catch (error) {
      if (attempt > options.retries || !options.isRetryable(error)) throw error;
      lastError = error;
      const delayMs = backoffDelayMs(attempt, options);
      options.onRetry?.(error, attempt, delayMs);
      await abortableSleep(delayMs, signal, error);
    }
  }
}

/** Full jitter: uniformly between 0 and the exponential ceiling for this attempt. */
function backoffDelayMs(attempt: number, { baseDelayMs, maxDelayMs }: RetryOptions): number {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
  return Math.round(Math.random() * ceiling);
}

function assertRetryOptions({ retries, baseDelayMs, maxDelayMs }: RetryOptions): void {
  const problems = [
    Number.isInteger(retries) && retries >= 0 ? null : `retries must be a non-negative integer, got ${retries}`,
    baseDelayMs >= 0 ? null : `baseDelayMs must not be negative, got ${baseDelayMs}`,
    maxDelayMs >= baseDelayMs ? null : `maxDelayMs (${maxDelayMs}) must be at least baseDelayMs (${baseDelayMs})`,
  ].filter((problem) => problem !== null);
  if (problems.length > 0) throw new ResilienceError(ResilienceErrorCode.InvalidOptions, problems.join('; '));
}
