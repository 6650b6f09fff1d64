import { eventually } from '@tandem/testing';
import { CoordinationErrorCode } from './coordination.error';
import type { Coordination } from './coordination.interface';
import type { LeaseGrant } from './lease.interface';

export interface CoordinationContractSubject {
  coordination: Coordination;
  /** Removes whatever the test stored and closes the coordination. */
  dispose(): Promise<void>;
}

/**
 * The behaviour every `Coordination` implementation must have. Each test gets a fresh, empty
 * subject. Expiry is observed by polling, never by sleeping a fixed time.
 */
export function describeCoordinationContract(name: string, open: () => Promise<CoordinationContractSubject>): void {
  describe(`Coordination contract: ${name}`, () => {
    let subject: CoordinationContractSubject;
    let coordination: Coordination;

    beforeEach(async () => {
      subject = await open();
      coordination = subject.coordination;
    });

    afterEach(async () => {
      await subject.dispose();
    });

    describe('lease', () => {
      it('grants a free resource to one holder and refuses others while it is held', async () => {
        const { lease } = coordination;
        const grant = await lease.acquire('source-crm', 'a', 10_000);
        expect(grant).toEqual({ token: expect.any(Number) });
        expect(await lease.acquire('source-crm', 'b', 10_000)).toBeNull();
        expect(await lease.acquire('source-hubspot', 'b', 10_000)).not.toBeNull();
      });

      it('lets exactly one of many racing holders win', async () => {
        const holders = Array.from({ length: 10 }, (_, index) => `holder-${index}`);
        const grants = await Promise.all(holders.map((holder) => coordination.lease.acquire('race', holder, 10_000)));
        expect(grants.filter((grant) => grant !== null)).toHaveLength(1);
      });

      it('returns the current grant when the holder asks again, without a new token', async () => {
        const first = await coordination.lease.acquire('r', 'a', 10_000);
        expect(await coordination.lease.acquire('r', 'a', 10_000)).toEqual(first);
      });

      it('hands out strictly increasing tokens across releases and expiries', async () => {
        const { lease } = coordination;
        const first = await lease.acquire('r', 'a', 10_000);
        await lease.release('r', 'a', first!.token);
        const second = await lease.acquire('r', 'b', 50);
        expect(second!.token).toBeGreaterThan(first!.token);
        const third = await eventually(() => acquired(lease.acquire('r', 'c', 10_000)), { intervalMs: 10 });
        expect(third.token).toBeGreaterThan(second!.token);
      });

      it('raises the fence past a token used before, never lowering it', async () => {
        const { lease } = coordination;
        const first = (await lease.acquire('fenced', 'a', 10_000))!;
        await lease.release('fenced', 'a', first.token);
        await lease.raiseFence('fenced', first.token + 41);
        await lease.raiseFence('fenced', 1);
        const next = (await lease.acquire('fenced', 'b', 10_000))!;
        expect(next.token).toBe(first.token + 42);
      });

      it('renews only for the current holder with its token', async () => {
        const { lease } = coordination;
        const { token } = (await lease.acquire('r', 'a', 10_000))!;
        expect(await lease.renew('r', 'a', token, 10_000)).toBe(true);
        expect(await lease.renew('r', 'b', token, 10_000)).toBe(false);
        expect(await lease.renew('r', 'a', token + 1, 10_000)).toBe(false);
        expect(await lease.renew('free', 'a', token, 10_000)).toBe(false);
      });

      it('keeps a renewed lease past its first ttl', async () => {
        const { lease } = coordination;
        const renewed = (await lease.acquire('renewed', 'a', 100))!;
        expect(await lease.acquire('control', 'a', 100)).not.toBeNull();
        expect(await lease.renew('renewed', 'a', renewed.token, 60_000)).toBe(true);
        // Once the unrenewed control lease has expired, the first ttl has passed for both.
        await eventually(() => acquired(lease.acquire('control', 'b', 60_000)), { intervalMs: 10 });
        expect(await lease.acquire('renewed', 'b', 60_000)).toBeNull();
      });

      it('lets another holder take an expired lease and refuses the old holder afterwards', async () => {
        const { lease } = coordination;
        const old = (await lease.acquire('r', 'a', 50))!;
        const taken = await eventually(() => acquired(lease.acquire('r', 'b', 60_000)), { intervalMs: 10 });
        expect(taken.token).toBeGreaterThan(old.token);
        expect(await lease.renew('r', 'a', old.token, 60_000)).toBe(false);
        await lease.release('r', 'a', old.token);
        expect(await lease.acquire('r', 'c', 60_000)).toBeNull();
      });

      it('ignores a release by anyone but the current holder with its token', async () => {
        const { lease } = coordination;
        const { token } = (await lease.acquire('r', 'a', 60_000))!;
        await lease.release('r', 'b', token);
        await lease.release('r', 'a', token + 1);
        expect(await lease.acquire('r', 'b', 60_000)).toBeNull();
        await lease.release('r', 'a', token);
        expect(await lease.acquire('r', 'b', 60_000)).not.toBeNull();
      });

      it('rejects a ttl that is not a positive integer', async () => {
        await expect(coordination.lease.acquire('r', 'a', 0)).rejects.toMatchObject({
          code: CoordinationErrorCode.InvalidArgument,
        });
        await expect(coordination.lease.renew('r', 'a', 1, 1.5)).rejects.toMatchObject({
          code: CoordinationErrorCode.InvalidArgument,
        });
      });
    });

    describe('dedupe window', () => {
      it('claims an id the first time only', async () => {
        const { dedupe } = coordination;
        expect(await dedupe.claim(['e1', 'e2'], 60_000)).toEqual([true, true]);
        expect(await dedupe.claim(['e2', 'e3', 'e1'], 60_000)).toEqual([false, true, false]);
        expect(await dedupe.claim([], 60_000)).toEqual([]);
      });

      it('claims an id repeated within one call once', async () => {
        expect(await coordination.dedupe.claim(['e1', 'e1'], 60_000)).toEqual([true, false]);
        expect(await coordination.dedupe.claim(['e2', 'e2'], 60_000, 'delivery-1')).toEqual([true, false]);
      });

      it('lets exactly one of many concurrent callers claim an id', async () => {
        const results = await Promise.all(
          Array.from({ length: 10 }, () => coordination.dedupe.claim(['contested'], 60_000)),
        );
        expect(results.filter(([claimed]) => claimed)).toHaveLength(1);
      });

      it('grants the same claimant its claim again and refuses other claimants', async () => {
        const { dedupe } = coordination;
        expect(await dedupe.claim(['e1'], 60_000, 'delivery-1')).toEqual([true]);
        expect(await dedupe.claim(['e1', 'e2'], 60_000, 'delivery-1')).toEqual([true, true]);
        expect(await dedupe.claim(['e1'], 60_000, 'delivery-2')).toEqual([false]);
        expect(await dedupe.claim(['e1'], 60_000)).toEqual([false]);
      });

      it('forgets claims so a failed attempt can be redone', async () => {
        const { dedupe } = coordination;
        await dedupe.claim(['e1', 'e2'], 60_000);
        await dedupe.forget(['e1']);
        expect(await dedupe.claim(['e1', 'e2'], 60_000)).toEqual([true, false]);
        await dedupe.forget([]);
      });

      it('forgets only its own claims when given a claimant', async () => {
        const { dedupe } = coordination;
        await dedupe.claim(['mine'], 60_000, 'delivery-1');
        await dedupe.claim(['theirs'], 60_000, 'delivery-2');
        await dedupe.forget(['mine', 'theirs'], 'delivery-1');
        expect(await dedupe.claim(['mine', 'theirs'], 60_000, 'delivery-3')).toEqual([true, false]);
      });

      it('lets an id be claimed again once its ttl has passed', async () => {
        const { dedupe } = coordination;
        expect(await dedupe.claim(['short'], 50)).toEqual([true]);
        expect(await dedupe.claim(['short'], 50)).toEqual([false]);
        await eventually(async () => (await dedupe.claim(['short'], 60_000))[0] === true, { intervalMs: 10 });
      });
    });

    describe('rate limiter', () => {
      const policy = { limit: 3, windowMs: 60_000 };

      it('grants up to the limit, then says how long to wait', async () => {
        const { rateLimiter } = coordination;
        for (let grant = 0; grant < 3; grant += 1) {
          expect(await rateLimiter.tryAcquire('hubspot:1', policy)).toMatchObject({ granted: true });
        }
        const refused = await rateLimiter.tryAcquire('hubspot:1', policy);
        expect(refused.granted).toBe(false);
        if (refused.granted) return;
        expect(refused.retryAfterMs).toBeGreaterThan(59_000);
        expect(refused.retryAfterMs).toBeLessThanOrEqual(60_000);
        expect(await rateLimiter.tryAcquire('hubspot:2', policy)).toMatchObject({ granted: true });
      });

      it('counts the cost of a request', async () => {
        const { rateLimiter } = coordination;
        expect(await rateLimiter.tryAcquire('k', policy, 2)).toMatchObject({ granted: true });
        expect(await rateLimiter.tryAcquire('k', policy, 2)).toMatchObject({ granted: false });
        expect(await rateLimiter.tryAcquire('k', policy, 1)).toMatchObject({ granted: true });
      });

      it('rejects a cost that could never be granted, and a malformed policy', async () => {
        const { rateLimiter } = coordination;
        const invalid = { code: CoordinationErrorCode.InvalidArgument };
        await expect(rateLimiter.tryAcquire('k', policy, 4)).rejects.toMatchObject(invalid);
        await expect(rateLimiter.acquire('k', policy, { cost: 0 })).rejects.toMatchObject(invalid);
        await expect(rateLimiter.tryAcquire('k', { limit: 0, windowMs: 1_000 })).rejects.toMatchObject(invalid);
      });

      it('grants again once the oldest grant has left the window', async () => {
        const { rateLimiter } = coordination;
        const short = { limit: 2, windowMs: 100 };
        const first = await rateLimiter.tryAcquire('k', short);
        await rateLimiter.tryAcquire('k', short);
        const refused = await rateLimiter.tryAcquire('k', short);
        expect(refused.granted).toBe(false);
        const granted = await eventually(
          async () => {
            const decision = await rateLimiter.tryAcquire('k', short);
            if (!decision.granted) throw new Error(`refused for another ${decision.retryAfterMs} ms`);
            return decision;
          },
          { intervalMs: 10 },
        );
        if (!first.granted) throw new Error('first request was refused');
        expect(granted.grantedAtMs - first.grantedAtMs).toBeGreaterThanOrEqual(short.windowMs);
      });

      it('waits in acquire until the window has room', async () => {
        const { rateLimiter } = coordination;
        const short = { limit: 1, windowMs: 150 };
        const first = await rateLimiter.acquire('k', short);
        const second = await rateLimiter.acquire('k', short);
        expect(second.grantedAtMs - first.grantedAtMs).toBeGreaterThanOrEqual(short.windowMs);
      });

      it('stops waiting when the signal aborts', async () => {
        const { rateLimiter } = coordination;
        await rateLimiter.tryAcquire('k', { limit: 1, windowMs: 60_000 });
        const controller = new AbortController();
        const waiting = rateLimiter.acquire('k', { limit: 1, windowMs: 60_000 }, { signal: controller.signal });
        controller.abort(new Error('shutting down'));
        await expect(waiting).rejects.toMatchObject({ code: CoordinationErrorCode.Aborted });
        await expect(
          rateLimiter.acquire('other', { limit: 1, windowMs: 60_000 }, { signal: controller.signal }),
        ).rejects.toMatchObject({ code: CoordinationErrorCode.Aborted });
        expect(await rateLimiter.tryAcquire('other', { limit: 1, windowMs: 60_000 })).toMatchObject({
          granted: true,
        });
      });

      it('never grants more than the limit in any rolling window under concurrent callers', async () => {
        const { rateLimiter } = coordination;
        const tight = { limit: 5, windowMs: 200 };
        const grants = await Promise.all(Array.from({ length: 20 }, () => rateLimiter.acquire('busy', tight)));
        expectWithinLimit(
          grants.map((grant) => grant.grantedAtMs),
          tight,
        );
      });

      it('blocks a penalized key until the penalty has passed', async () => {
        const { rateLimiter } = coordination;
        await rateLimiter.penalize('k', 60_000);
        const refused = await rateLimiter.tryAcquire('k', policy);
        expect(refused).toMatchObject({ granted: false });
        if (refused.granted) return;
        expect(refused.retryAfterMs).toBeGreaterThan(59_000);
        expect(await rateLimiter.tryAcquire('unpenalized', policy)).toMatchObject({ granted: true });

        await rateLimiter.penalize('short', 50);
        expect(await rateLimiter.tryAcquire('short', policy)).toMatchObject({ granted: false });
        await eventually(async () => (await rateLimiter.tryAcquire('short', policy)).granted, { intervalMs: 10 });
      });

      it('does not shorten a longer penalty', async () => {
        const { rateLimiter } = coordination;
        await rateLimiter.penalize('k', 60_000);
        await rateLimiter.penalize('k', 10);
        const refused = await rateLimiter.tryAcquire('k', policy);
        if (refused.granted) throw new Error('penalized key was granted');
        expect(refused.retryAfterMs).toBeGreaterThan(59_000);
      });
    });
  });
}

/** For polling: the grant, or a failure that `eventually` retries. */
async function acquired(attempt: Promise<LeaseGrant | null>): Promise<LeaseGrant> {
  const grant = await attempt;
  if (!grant) throw new Error('lease is still held');
  return grant;
}

/** Fails unless every `limit + 1` consecutive grants span at least one full window. */
export function expectWithinLimit(grantTimes: number[], policy: { limit: number; windowMs: number }): void {
  const sorted = [...grantTimes].sort((a, b) => a - b);
  const crowded = sorted.flatMap((start, index) => {
    const next = sorted[index + policy.limit];
    return next !== undefined && next - start < policy.windowMs ? [{ start, next, index }] : [];
  });
  expect(crowded).toEqual([]);
}
