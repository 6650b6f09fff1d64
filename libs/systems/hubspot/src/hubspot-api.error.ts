export enum HubSpotApiErrorCode {
  /** 429 after the client's bounded retries (ten-secondly or secondly policy). */
  RateLimited = 'RATE_LIMITED',
  /** The account's daily allowance is used up: nothing succeeds until HubSpot resets it. */
  DailyLimit = 'DAILY_LIMIT',
  /** 401/403: the token is wrong, expired or lacks a scope. */
  Unauthorized = 'UNAUTHORIZED',
  /** 400 and other 4xx the request itself causes. */
  Validation = 'VALIDATION',
  NotFound = 'NOT_FOUND',
  /** 409 (e.g. a create for an email that exists) or 423 (record locked, retryable). */
  Conflict = 'CONFLICT',
  /** 5xx. */
  Server = 'SERVER',
  /** No answer within the request timeout. */
  Timeout = 'TIMEOUT',
  /** The connection failed or was dropped. */
  Network = 'NETWORK',
  /** A body that is not what the contract says. */
  MalformedResponse = 'MALFORMED_RESPONSE',
}

/** Whether another attempt later can succeed, unless the call says otherwise (423 Locked). */
export function isRetryableHubSpotCode(code: HubSpotApiErrorCode): boolean {
  switch (code) {
    case HubSpotApiErrorCode.RateLimited:
    case HubSpotApiErrorCode.Server:
    case HubSpotApiErrorCode.Timeout:
    case HubSpotApiErrorCode.Network:
      return true;
    case HubSpotApiErrorCode.DailyLimit:
    case HubSpotApiErrorCode.Unauthorized:
    case HubSpotApiErrorCode.Validation:
    case HubSpotApiErrorCode.NotFound:
    case HubSpotApiErrorCode.Conflict:
    case HubSpotApiErrorCode.MalformedResponse:
      return false;
    default: {
      const unknownCode: never = code;
      throw new Error(`unknown HubSpot error code ${String(unknownCode)}`);
    }
  }
}

export interface HubSpotApiErrorDetails {
  /** The HTTP status, or null when no response came. */
  status?: number | null;
  /** HubSpot's error category, e.g. VALIDATION_ERROR, OBJECT_NOT_FOUND, RATE_LIMITS. */
  category?: string | null;
  correlationId?: string | null;
  retryable?: boolean;
  cause?: unknown;
}

/** A failed HubSpot API call as a whole. Per-input failures of a batch are values, not this error. */
export class HubSpotApiError extends Error {
  readonly status: number | null;
  readonly category: string | null;
  readonly correlationId: string | null;
  readonly retryable: boolean;

  constructor(
    readonly code: HubSpotApiErrorCode,
    message: string,
    { status = null, category = null, correlationId = null, retryable, cause }: HubSpotApiErrorDetails = {},
  ) {
    super(message, { cause });
    this.name = 'HubSpotApiError';
    this.status = status;
    this.category = category;
    this.correlationId = correlationId;
    this.retryable = retryable ?? isRetryableHubSpotCode(code);
  }
}

export function isHubSpotApiError(error: unknown, code?: HubSpotApiErrorCode): error is HubSpotApiError {
  return error instanceof HubSpotApiError && (code === undefined || error.code === code);
}
