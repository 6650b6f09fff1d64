export enum ResilienceErrorCode {
  /** The target's breaker is open: the call was not made. */
  BreakerOpen = 'breaker_open',
  /** The call took longer than the breaker allows; it counts as a target failure. */
  Timeout = 'timeout',
  /** The breaker was shut down. */
  Shutdown = 'shutdown',
  Aborted = 'aborted',
  InvalidOptions = 'invalid_options',
}

export class ResilienceError extends Error {
  constructor(
    readonly code: ResilienceErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ResilienceError';
  }
}

/** The call was refused without reaching the target; retry after the breaker closes. */
export class BreakerOpenError extends ResilienceError {
  constructor(readonly target: string) {
    super(ResilienceErrorCode.BreakerOpen, `circuit breaker for ${target} is open`);
    this.name = 'BreakerOpenError';
  }
}
