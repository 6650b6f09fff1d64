export enum CoordinationErrorCode {
  /** The shared store cannot be reached; the caller should pause and retry. */
  Unavailable = 'unavailable',
  /** The store answered with an error or an unexpected reply: a defect, not an outage. */
  CommandFailed = 'command_failed',
  InvalidArgument = 'invalid_argument',
  Aborted = 'aborted',
  /** A held lease could not be kept; work guarded by it must stop. */
  LeaseLost = 'lease_lost',
  /** The holder released the lease itself. */
  LeaseReleased = 'lease_released',
}

export class CoordinationError extends Error {
  constructor(
    readonly code: CoordinationErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CoordinationError';
  }
}

export function isCoordinationError(error: unknown, code?: CoordinationErrorCode): error is CoordinationError {
  return error instanceof CoordinationError && (code === undefined || error.code === code);
}
