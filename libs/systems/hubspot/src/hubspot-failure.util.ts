import { HubSpotApiError, HubSpotApiErrorCode } from './hubspot-api.error';
import { ErrorBodySchema, type ErrorBody } from './hubspot-response.schema';

/** The 429 policies HubSpot names in `policyName`. */
export type RateLimitPolicyName = 'TEN_SECONDLY_ROLLING' | 'SECONDLY' | 'DAILY';

/** Reads an error body leniently: anything that is not a JSON object becomes an empty body. */
export function parseErrorBody(text: string): ErrorBody {
  try {
    const parsed = ErrorBodySchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : {};
  } catch {
    return {};
  }
}

/**
 * The policy a 429 was answered under. A 429 that names none (or one we do not know) is treated as
 * the ten-secondly limit: backing off and retrying is the safe reading.
 */
export function rateLimitPolicyOf(body: ErrorBody): RateLimitPolicyName {
  const name = (body.policyName ?? '').toUpperCase();
  if (name === 'DAILY' || name === 'SECONDLY') return name;
  return 'TEN_SECONDLY_ROLLING';
}

/** How long to keep off after a 429: `Retry-After` (seconds) when given, else the policy's whole window. */
export function rateLimitBackoffMs(retryAfterHeader: string | null, windowMs: number): number {
  if (retryAfterHeader !== null && /^\d+(\.\d+)?$/.test(retryAfterHeader.trim())) {
    return Math.max(1, Math.ceil(Number(retryAfterHeader) * 1000));
  }
  return windowMs;
}

/** The typed error for a non-2xx answer (429s other than DAILY are handled by the client's retry). */
export function errorFromResponse(status: number, body: ErrorBody, doing: string): HubSpotApiError {
  const details = { status, category: body.category ?? null, correlationId: body.correlationId ?? null };
  const message = `${doing}: HubSpot answered ${status}${body.message ? ` ${body.message}` : ''}${describeFieldErrors(body)}`;
  if (status === 429) {
    const code = rateLimitPolicyOf(body) === 'DAILY' ? HubSpotApiErrorCode.DailyLimit : HubSpotApiErrorCode.RateLimited;
    return new HubSpotApiError(code, message, details);
  }
  if (status >= 500) return new HubSpotApiError(HubSpotApiErrorCode.Server, message, details);
  switch (status) {
    case 401:
    case 403:
      return new HubSpotApiError(HubSpotApiErrorCode.Unauthorized, message, details);
    case 404:
      return new HubSpotApiError(HubSpotApiErrorCode.NotFound, message, details);
    case 409:
      return new HubSpotApiError(HubSpotApiErrorCode.Conflict, message, details);
    case 423: // the record is locked by another write for a moment
      return new HubSpotApiError(HubSpotApiErrorCode.Conflict, message, { ...details, retryable: true });
    default:
      return new HubSpotApiError(HubSpotApiErrorCode.Validation, message, details);
  }
}

function describeFieldErrors(body: ErrorBody): string {
  const fields = (body.errors ?? []).map((error) => error.in ?? error.message).filter((each) => each !== undefined);
  return fields.length > 0 ? ` (${fields.join('; ')})` : '';
}

/** The typed error for a call that got no usable answer: a timeout or a connection failure. */
export function errorFromFetchFailure(error: unknown, doing: string, timeoutMs: number): HubSpotApiError {
  if (error instanceof HubSpotApiError) return error;
  if (isTimeout(error)) {
    return new HubSpotApiError(HubSpotApiErrorCode.Timeout, `${doing}: no answer from HubSpot within ${timeoutMs} ms`, { cause: error });
  }
  const reason = error instanceof Error ? describeCause(error) : String(error);
  return new HubSpotApiError(HubSpotApiErrorCode.Network, `${doing}: ${reason}`, { cause: error });
}

/** By name, not class: the abort reason is a DOMException, which is not always an `Error` instance. */
function isTimeout(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { name, cause } = error as { name?: unknown; cause?: unknown };
  return name === 'TimeoutError' || (name === 'AbortError' && isTimeout(cause));
}

/** fetch reports "fetch failed" with the socket error (ECONNREFUSED, ...) as its cause. */
function describeCause(error: Error): string {
  const cause = error.cause;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return `${error.message} (${typeof code === 'string' ? `${code}: ` : ''}${cause.message})`;
  }
  return error.message;
}

/**
 * Whether a failed call certainly changed nothing in HubSpot: it was answered 429 (refused under a
 * rate limit), or the connection was refused, so the request never reached HubSpot. A 5xx, a timeout
 * or a dropped connection may come after HubSpot acted, so it is not such a failure.
 */
export function changedNothing(error: unknown): boolean {
  if (!(error instanceof HubSpotApiError)) return false;
  if (error.code === HubSpotApiErrorCode.RateLimited || error.code === HubSpotApiErrorCode.DailyLimit) return true;
  if (error.code !== HubSpotApiErrorCode.Network) return false;
  for (let cause: unknown = error.cause; cause instanceof Error; cause = cause.cause) {
    if ((cause as { code?: unknown }).code === 'ECONNREFUSED') return true;
  }
  return false;
}
