import { abortableSleep, throwIfAborted } from './abortable-sleep.util';
import type { RateLimitDecision, RateLimitGrant } from './rate-limiter.interface';

/** Retries `attempt` after each refusal's own `retryAfterMs`, so waiting never spins. */
export async function waitForGrant(
  attempt: () => Promise<RateLimitDecision>,
  signal?: AbortSignal,
): Promise<RateLimitGrant> {
  for (;;) {
    throwIfAborted(signal);
    const decision = await attempt();
    if (decision.granted) return { grantedAtMs: decision.grantedAtMs };
    await abortableSleep(decision.retryAfterMs, signal);
  }
}
