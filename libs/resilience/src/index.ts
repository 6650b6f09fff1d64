export * from './resilience.error';
export { retry, type RetryOptions } from './retry.util';
export { TargetBreaker, type BreakerState, type TargetBreakerOptions } from './target-breaker.service';
