export enum PostgresSystemErrorCode {
  /** The server cannot be reached, dropped the connection, is shutting down or is out of resources. */
  Unavailable = 'UNAVAILABLE',
  /** A serialization failure, deadlock, lock or statement timeout: the same work may succeed if retried. */
  Contention = 'CONTENTION',
  /** The server rejected a statement for a reason a retry does not fix. */
  Rejected = 'REJECTED',
  /** The configured table or one of its configured columns does not exist. */
  TableMissing = 'TABLE_MISSING',
  /** The caller passed a value this adapter cannot use (bad table config, sequence, limit). */
  InvalidArgument = 'INVALID_ARGUMENT',
}

/** Whether the caller's retry/breaker should try the same work again. */
export function isRetryableCode(code: PostgresSystemErrorCode): boolean {
  switch (code) {
    case PostgresSystemErrorCode.Unavailable:
    case PostgresSystemErrorCode.Contention:
      return true;
    case PostgresSystemErrorCode.Rejected:
    case PostgresSystemErrorCode.TableMissing:
    case PostgresSystemErrorCode.InvalidArgument:
      return false;
    default: {
      const unknownCode: never = code;
      throw new Error(`unknown postgres system error code ${String(unknownCode)}`);
    }
  }
}

/** A failure of the PostgreSQL system adapter as a whole (not of a single apply command). */
export class PostgresSystemError extends Error {
  readonly retryable: boolean;
  /** The server's SQLSTATE when the failure came from the server. */
  readonly sqlState: string | null;

  constructor(
    readonly code: PostgresSystemErrorCode,
    message: string,
    { cause, sqlState = null }: { cause?: unknown; sqlState?: string | null } = {},
  ) {
    super(message, { cause });
    this.name = 'PostgresSystemError';
    this.retryable = isRetryableCode(code);
    this.sqlState = sqlState;
  }
}
