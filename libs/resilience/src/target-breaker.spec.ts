import { BreakerOpenError, ResilienceErrorCode } from './resilience.error';
import { TargetBreaker, type TargetBreakerOptions } from './target-breaker.service';

class ValidationError extends Error {}
class TargetDownError extends Error {}

const RESET_MS = 1_000;

describe('TargetBreaker', () => {
  const breakers: TargetBreaker[] = [];
  const events: string[] = [];
  let probe: jest.Mock<Promise<unknown>, [AbortSignal]>;

  function createBreaker(overrides: Partial<TargetBreakerOptions> = {}): TargetBreaker {
    const breaker = new TargetBreaker({
      target: 'hubspot:portal-1',
      probe,
      timeoutMs: 500,
      volumeThreshold: 2,
      errorThresholdPercentage: 50,
      resetTimeoutMs: RESET_MS,
      isFailure: (error) => error instanceof TargetDownError,
      onOpen: () => events.push('open'),
      onHalfOpen: () => events.push('half_open'),
      onClose: () => events.push('close'),
      ...overrides,
    });
    breakers.push(breaker);
    return breaker;
  }

  async function tripOpen(breaker: TargetBreaker): Promise<void> {
    for (let call = 0; call < 2; call += 1) {
      await expect(breaker.fire(() => Promise.reject(new TargetDownError('503 from target')))).rejects.toThrow('503');
    }
    expect(breaker.state).toBe('open');
  }

  beforeEach(() => {
    jest.useFakeTimers();
    events.length = 0;
    probe = jest.fn<Promise<unknown>, [AbortSignal]>(async () => 'ok');
  });

  afterEach(() => {
    for (const breaker of breakers.splice(0)) breaker.shutdown();
    jest.useRealTimers();
  });

  it('passes results and the call’s own errors through while closed', async () => {
    const breaker = createBreaker();
    expect(await breaker.fire(async () => 42)).toBe(42);
    const own = new Error('400 bad request');
    await expect(breaker.fire(() => Promise.reject(own))).rejects.toBe(own);
    expect(breaker.state).toBe('closed');
  });

  it('opens once failures pass the threshold and then refuses calls without making them', async () => {
    const breaker = createBreaker();
    await tripOpen(breaker);
    expect(events).toEqual(['open']);

    const call = jest.fn(async () => 'sent');
    const refused = breaker.fire(call);
    await expect(refused).rejects.toBeInstanceOf(BreakerOpenError);
    await expect(refused).rejects.toMatchObject({ code: ResilienceErrorCode.BreakerOpen, target: 'hubspot:portal-1' });
    expect(call).not.toHaveBeenCalled();
  });

  it('does not count per-record rejections as target failures', async () => {
    const breaker = createBreaker();
    for (let call = 0; call < 10; call += 1) {
      const rejection = new ValidationError('email is invalid');
      await expect(breaker.fire(() => Promise.reject(rejection))).rejects.toBe(rejection);
    }
    expect(breaker.state).toBe('closed');
    expect(events).toEqual([]);
  });

  it('fails a slow call as a timeout, aborts its signal and counts it as a failure', async () => {
    const breaker = createBreaker({ isFailure: () => false });
    const signals: AbortSignal[] = [];
    const hang = (signal: AbortSignal): Promise<never> => {
      signals.push(signal);
      return new Promise<never>(() => undefined);
    };
    for (let call = 0; call < 2; call += 1) {
      const slow = breaker.fire(hang);
      const settled = expect(slow).rejects.toMatchObject({ code: ResilienceErrorCode.Timeout });
      await jest.advanceTimersByTimeAsync(500);
      await settled;
    }
    expect(signals.map((signal) => signal.aborted)).toEqual([true, true]);
    expect(breaker.state).toBe('open');
  });

  it('probes the target after the reset timeout and closes when the probe succeeds', async () => {
    const breaker = createBreaker();
    await tripOpen(breaker);
    const closed = breaker.awaitClosed();

    await jest.advanceTimersByTimeAsync(RESET_MS);

    await closed;
    expect(probe).toHaveBeenCalledTimes(1);
    expect(events).toEqual(['open', 'half_open', 'close']);
    expect(breaker.state).toBe('closed');
    expect(await breaker.fire(async () => 'sent')).toBe('sent');
  });

  it('stays open after a failed probe and probes again once per reset timeout, not in a loop', async () => {
    const onProbeFailed = jest.fn();
    // Any probe error fails the probe, even one that `isFailure` would not count for a call.
    const outage = new Error('still down');
    probe.mockRejectedValueOnce(outage).mockRejectedValueOnce(outage);
    const breaker = createBreaker({ onProbeFailed });
    await tripOpen(breaker);

    await jest.advanceTimersByTimeAsync(RESET_MS);
    expect(breaker.state).toBe('open');
    expect(onProbeFailed).toHaveBeenCalledWith(outage);
    expect(probe).toHaveBeenCalledTimes(1);

    await jest.advanceTimersByTimeAsync(RESET_MS - 1);
    expect(probe).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(probe).toHaveBeenCalledTimes(2);
    expect(breaker.state).toBe('open');

    await jest.advanceTimersByTimeAsync(RESET_MS);
    expect(probe).toHaveBeenCalledTimes(3);
    expect(breaker.state).toBe('closed');
    expect(events).toEqual(['open', 'half_open', 'open', 'half_open', 'open', 'half_open', 'close']);
  });

  it('refuses other calls while the probe is deciding', async () => {
    let finishProbe: (value: string) => void = () => undefined;
    probe.mockImplementationOnce(() => new Promise((resolve) => (finishProbe = resolve)));
    const breaker = createBreaker();
    await tripOpen(breaker);
    await jest.advanceTimersByTimeAsync(RESET_MS);

    expect(breaker.state).toBe('half_open');
    await expect(breaker.fire(async () => 'sent')).rejects.toBeInstanceOf(BreakerOpenError);
    finishProbe('ok');
    await breaker.awaitClosed();
    expect(breaker.state).toBe('closed');
  });

  it('stops awaiting closure when the signal aborts or the breaker shuts down', async () => {
    const breaker = createBreaker();
    await expect(breaker.awaitClosed()).resolves.toBeUndefined();
    await tripOpen(breaker);

    const controller = new AbortController();
    const aborted = breaker.awaitClosed(controller.signal);
    controller.abort(new Error('consumer stopping'));
    await expect(aborted).rejects.toMatchObject({ code: ResilienceErrorCode.Aborted });

    const waiting = breaker.awaitClosed();
    breaker.shutdown();
    await expect(waiting).rejects.toMatchObject({ code: ResilienceErrorCode.Shutdown });
    await expect(breaker.fire(async () => 'sent')).rejects.toMatchObject({ code: ResilienceErrorCode.Shutdown });
  });
});
