import { CoordinationError, CoordinationErrorCode } from './coordination.error';
import type { RateLimitPolicy } from './rate-limiter.interface';

export function assertPositiveInteger(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new CoordinationError(
      CoordinationErrorCode.InvalidArgument,
      `${name} must be a positive integer, got ${value}`,
    );
  }
}

/** A cost above the limit could never be granted, so waiting for it would never end. */
export function assertRateLimitRequest(policy: RateLimitPolicy, cost: number): void {
  assertPositiveInteger(policy.limit, 'limit');
  assertPositiveInteger(policy.windowMs, 'windowMs');
  assertPositiveInteger(cost, 'cost');
  if (cost > policy.limit) {
    throw new CoordinationError(
      CoordinationErrorCode.InvalidArgument,
      `cost ${cost} exceeds the limit of ${policy.limit} per ${policy.windowMs} ms`,
    );
  }
}
