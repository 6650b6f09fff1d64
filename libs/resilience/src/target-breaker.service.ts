import CircuitBreaker from 'opossum';
import { abortedError } from './abortable-sleep.util';
import { BreakerOpenError, ResilienceError, ResilienceErrorCode } from './resilience.error';

export type BreakerState = 'closed' | 'open' | 'half_open';

export interface TargetBreakerOptions {
  /** The target system the breaker guards, e.g. `hubspot:portal-1`; named in errors. */
  target: string;
  /**
   * A cheap call that succeeds only when the target works again (e.g. `SELECT 1`, an account
   * lookup). It runs once each time the breaker half-opens: success closes the breaker, failure
   * opens it for another `resetTimeoutMs`. So a consumer that paused while open needs no traffic of
   * its own to find out the target has recovered.
   */
  probe: (signal: AbortSignal) => Promise<unknown>;
  /** Per call; a slower call fails as `timeout` and its signal aborts. Default 10 s; false for none. */
  timeoutMs?: number | false;
  /** Failure percentage within the rolling window that opens the breaker. Default 50. */
  errorThresholdPercentage?: number;
  /** Calls within the rolling window before the breaker may open at all. Default 5. */
  volumeThreshold?: number;
  /** How long the breaker stays open before probing. Default 30 s. */
  resetTimeoutMs?: number;
  /** The window failures are counted over. Default 10 s. */
  rollingWindowMs?: number;
  /**
   * Whether an error means the target is failing. Per-record rejections (validation errors, a
   * conflict on one record) return false: they still reject the call but do not count towards
   * opening the breaker. Default: every error counts. Timeouts always count.
   */
  isFailure?: (error: unknown) => boolean;
  /** The breaker opened (again, after a failed probe): stop sending, e.g. pause the queue. */
  onOpen?: () => void;
  /** The probe is running; calls are still refused until it succeeds. */
  onHalfOpen?: () => void;
  /** The target works again: resume. */
  onClose?: () => void;
  /** A probe failed; the breaker stays open for another `resetTimeoutMs`. */
  onProbeFailed?: (error: unknown) => void;
}

/** Marks a probe's error so it always counts as a failure, whatever `isFailure` says. */
class ProbeFailure extends Error {
  constructor(readonly original: unknown) {
    super('probe failed', { cause: original });
  }
}

interface Invocation {
  run(): Promise<unknown>;
}

/**
 * A circuit breaker for one target system, built on opossum. While the target fails, calls are
 * refused with `BreakerOpenError` instead of hammering it; the breaker probes the target itself
 * after `resetTimeoutMs` and closes once a probe succeeds. Consumers pause on `onOpen` and resume on
 * `onClose`, or simply `await awaitClosed(signal)` before each batch.
 */
export class TargetBreaker {
  readonly target: string;
  private readonly breaker: CircuitBreaker<[Invocation], unknown>;
  private readonly timeoutMs: number | false;

  constructor(private readonly options: TargetBreakerOptions) {
    this.target = options.target;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    const isFailure = options.isFailure ?? (() => true);
    this.breaker = new CircuitBreaker((invocation: Invocation) => invocation.run(), {
      name: options.target,
      timeout: this.timeoutMs,
      errorThresholdPercentage: options.errorThresholdPercentage ?? 50,
      volumeThreshold: options.volumeThreshold ?? 5,
      resetTimeout: options.resetTimeoutMs ?? 30_000,
      rollingCountTimeout: options.rollingWindowMs ?? 10_000,
      // opossum treats a filtered error as a success, so only errors that say nothing about the
      // target's health may be filtered.
      errorFilter: (error: unknown) =>
        !(error instanceof ProbeFailure) && !isOwnError(error) && !isFailure(error),
    });
    // Registered before `onHalfOpen`, so the probe takes the single trial call half-open allows.
    this.breaker.on('halfOpen', () => void this.probe());
    if (options.onOpen) this.breaker.on('open', options.onOpen);
    if (options.onHalfOpen) this.breaker.on('halfOpen', options.onHalfOpen);
    if (options.onClose) this.breaker.on('close', options.onClose);
  }

  /** A shut-down breaker reports `open`: it refuses every call. */
  get state(): BreakerState {
    if (this.breaker.closed) return 'closed';
    return this.breaker.halfOpen ? 'half_open' : 'open';
  }

  /**
   * Runs `call` through the breaker. Rejects with `BreakerOpenError` without calling while open,
   * with a `timeout` error (and aborts the call's signal) when it is too slow, and otherwise with
   * the call's own error, unchanged.
   */
  fire<T>(call: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return this.execute(call) as Promise<T>;
  }

  /** Resolves once the breaker is closed (at once if it is); rejects on abort or shutdown. */
  awaitClosed(signal?: AbortSignal): Promise<void> {
    if (this.breaker.closed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const settle = (error?: ResilienceError): void => {
        this.breaker.off('close', onClose);
        this.breaker.off('shutdown', onShutdown);
        signal?.removeEventListener('abort', onAbort);
        if (error) reject(error);
        else resolve();
      };
      const onClose = (): void => settle();
      const onShutdown = (): void => settle(this.shutdownError());
      const onAbort = (): void => settle(abortedError(signal?.reason));
      if (signal?.aborted) {
        onAbort();
        return;
      }
      this.breaker.on('close', onClose);
      this.breaker.on('shutdown', onShutdown);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Stops the breaker's timers; later calls reject with a `shutdown` error. */
  shutdown(): void {
    this.breaker.shutdown();
  }

  private async probe(): Promise<void> {
    try {
      await this.execute(async (signal) => {
        try {
          return await this.options.probe(signal);
        } catch (error) {
          throw new ProbeFailure(error);
        }
      });
    } catch (error) {
      // A call already in flight took the trial slot; its outcome decides, and a failure brings
      // the breaker back here after the next reset timeout.
      if (error instanceof BreakerOpenError) return;
      this.options.onProbeFailed?.(error instanceof ProbeFailure ? error.original : error);
    }
  }

  private async execute(call: (signal: AbortSignal) => Promise<unknown>): Promise<unknown> {
    const controller = new AbortController();
    try {
      return await this.breaker.fire({ run: () => call(controller.signal) });
    } catch (error) {
      const translated = this.translate(error);
      // Only a timed-out call can still be running; the abort lets it stop its request.
      controller.abort(translated);
      throw translated;
    }
  }

  private translate(error: unknown): unknown {
    if (!isOwnError(error)) return error;
    switch ((error as Error & { code?: string }).code) {
      case 'EOPENBREAKER':
        return new BreakerOpenError(this.target);
      case 'ETIMEDOUT':
        return new ResilienceError(
          ResilienceErrorCode.Timeout,
          `call to ${this.target} timed out after ${this.timeoutMs} ms`,
          { cause: error },
        );
      case 'ESHUTDOWN':
        return this.shutdownError();
      default:
        return error;
    }
  }

  private shutdownError(): ResilienceError {
    return new ResilienceError(ResilienceErrorCode.Shutdown, `circuit breaker for ${this.target} was shut down`);
  }
}

/** Errors opossum raises itself (open, timeout, shutdown) rather than ones the call threw. */
function isOwnError(error: unknown): error is Error {
  return error instanceof Error && CircuitBreaker.isOurError(error);
}
