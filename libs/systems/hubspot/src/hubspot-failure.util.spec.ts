import { HubSpotApiErrorCode } from './hubspot-api.error';
import { changedNothing, errorFromFetchFailure, errorFromResponse, parseErrorBody, rateLimitBackoffMs, rateLimitPolicyOf } from './hubspot-failure.util';

describe('HubSpot failure classification', () => {
  it.each([
    [400, HubSpotApiErrorCode.Validation, false],
    [401, HubSpotApiErrorCode.Unauthorized, false],
    [403, HubSpotApiErrorCode.Unauthorized, false],
    [404, HubSpotApiErrorCode.NotFound, false],
    [409, HubSpotApiErrorCode.Conflict, false],
    [423, HubSpotApiErrorCode.Conflict, true],
    [429, HubSpotApiErrorCode.RateLimited, true],
    [500, HubSpotApiErrorCode.Server, true],
    [503, HubSpotApiErrorCode.Server, true],
  ])('status %i is %s, retryable %s', (status, code, retryable) => {
    const error = errorFromResponse(status, { message: 'nope', category: 'SOME', correlationId: 'c-1' }, 'POST /x');
    expect(error).toMatchObject({ code, retryable, status, category: 'SOME', correlationId: 'c-1' });
    expect(error.message).toContain('POST /x');
    expect(error.message).toContain('nope');
  });

  it('a 429 under the DAILY policy is not retryable', () => {
    const body = parseErrorBody(JSON.stringify({ status: 'error', errorType: 'RATE_LIMIT', policyName: 'DAILY', message: 'daily' }));
    expect(rateLimitPolicyOf(body)).toBe('DAILY');
    expect(errorFromResponse(429, body, 'GET /x')).toMatchObject({ code: HubSpotApiErrorCode.DailyLimit, retryable: false });
  });

  it('reads the policy of a 429, defaulting to the ten-secondly one', () => {
    expect(rateLimitPolicyOf({ policyName: 'SECONDLY' })).toBe('SECONDLY');
    expect(rateLimitPolicyOf({ policyName: 'TEN_SECONDLY_ROLLING' })).toBe('TEN_SECONDLY_ROLLING');
    expect(rateLimitPolicyOf(parseErrorBody('<html>busy</html>'))).toBe('TEN_SECONDLY_ROLLING');
  });

  it('backs off for Retry-After when given, else the whole window', () => {
    expect(rateLimitBackoffMs('2', 10_000)).toBe(2_000);
    expect(rateLimitBackoffMs('0.5', 10_000)).toBe(500);
    expect(rateLimitBackoffMs(null, 10_000)).toBe(10_000);
    expect(rateLimitBackoffMs('Wed, 21 Oct 2015 07:28:00 GMT', 1_000)).toBe(1_000);
  });

  it('names the fields HubSpot complains about', () => {
    const error = errorFromResponse(400, { message: 'Property values were not valid', errors: [{ message: 'bad', in: 'email' }] }, 'POST /x');
    expect(error.message).toContain('(email)');
  });

  it('classifies timeouts and connection failures as retryable', () => {
    const timeout = errorFromFetchFailure(new DOMException('The operation was aborted due to timeout', 'TimeoutError'), 'GET /x', 10_000);
    expect(timeout).toMatchObject({ code: HubSpotApiErrorCode.Timeout, retryable: true, status: null });
    expect(timeout.message).toContain('10000 ms');
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    const network = errorFromFetchFailure(new TypeError('fetch failed', { cause: refused }), 'GET /x', 10_000);
    expect(network).toMatchObject({ code: HubSpotApiErrorCode.Network, retryable: true });
    expect(network.message).toContain('ECONNREFUSED');
  });

  it('knows a call refused before HubSpot acted from one that may have acted', () => {
    const socketError = (code: string) => new TypeError('fetch failed', { cause: Object.assign(new Error(`socket ${code}`), { code }) });
    expect(changedNothing(errorFromResponse(429, {}, 'POST /x'))).toBe(true);
    expect(changedNothing(errorFromFetchFailure(socketError('ECONNREFUSED'), 'POST /x', 10_000))).toBe(true);
    expect(changedNothing(errorFromFetchFailure(socketError('ECONNRESET'), 'POST /x', 10_000))).toBe(false);
    expect(changedNothing(errorFromResponse(503, {}, 'POST /x'))).toBe(false);
    expect(changedNothing(errorFromFetchFailure(new DOMException('timed out', 'TimeoutError'), 'POST /x', 10_000))).toBe(false);
    expect(changedNothing(new Error('not from HubSpot'))).toBe(false);
  });
});
