import { ResilienceError, ResilienceErrorCode } from './resilience.error';

/** Waits `ms`, or rejects with an `aborted` error (caused by `cause`) as soon as `signal` aborts. */
export function abortableSleep(ms: number, signal: AbortSignal | undefined, cause?: unknown): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortedError(cause));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortedError(cause));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function abortedError(cause: unknown): ResilienceError {
  return new ResilienceError(ResilienceErrorCode.Aborted, 'aborted', { cause });
}
