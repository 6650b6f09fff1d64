import { CoordinationError, CoordinationErrorCode } from './coordination.error';

/** Waits `ms`, or rejects with an `aborted` error as soon as `signal` aborts. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortedError(signal));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortedError(signal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw abortedError(signal);
}

function abortedError(signal: AbortSignal | undefined): CoordinationError {
  return new CoordinationError(CoordinationErrorCode.Aborted, 'wait was aborted', { cause: signal?.reason });
}
