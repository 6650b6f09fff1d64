import { ResilienceErrorCode } from './resilience.error';
import { retry, type RetryOptions } from './retry.util';

class TransientError extends Error {}

const options: RetryOptions = {
  retries: 3,
  baseDelayMs: 100,
  maxDelayMs: 250,
  isRetryable: (error) => error instanceof TransientError,
};

describe('retry', () => {
  beforeEach(() => {
    jest.useFakeTimers();
    jest.spyOn(Math, 'random').mockReturnValue(1);
  });

  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('returns the first success, numbering attempts from 1', async () => {
    const operation = jest.fn(async (attempt: number) => {
      if (attempt < 3) throw new TransientError(`attempt ${attempt}`);
      return 'done';
    });
    const result = retry(operation, options);
    await jest.runAllTimersAsync();
    expect(await result).toBe('done');
    expect(operation.mock.calls.map(([attempt]) => attempt)).toEqual([1, 2, 3]);
  });

  it('backs off exponentially up to the maximum delay', async () => {
    const onRetry = jest.fn();
    const last = new TransientError('attempt 4');
    let attempts = 0;
    const result = retry(async () => {
      attempts += 1;
      throw attempts === 4 ? last : new TransientError(`attempt ${attempts}`);
    }, { ...options, onRetry });
    const settled = expect(result).rejects.toBe(last);

    await jest.advanceTimersByTimeAsync(99);
    expect(attempts).toBe(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(attempts).toBe(2);
    await jest.runAllTimersAsync();
    await settled;

    expect(attempts).toBe(4);
    expect(onRetry.mock.calls.map(([, attempt, delayMs]) => [attempt, delayMs])).toEqual([
      [1, 100],
      [2, 200],
      [3, 250],
    ]);
  });

  it('draws each delay uniformly below the ceiling (full jitter)', async () => {
    jest.spyOn(Math, 'random').mockReturnValueOnce(0).mockReturnValueOnce(0.5);
    const onRetry = jest.fn();
    const result = retry(
      async (attempt) => {
        if (attempt < 3) throw new TransientError('busy');
        return 'done';
      },
      { ...options, onRetry },
    );
    await jest.runAllTimersAsync();
    await result;
    expect(onRetry.mock.calls.map(([, , delayMs]) => delayMs)).toEqual([0, 100]);
  });

  it('rethrows a non-retryable error at once', async () => {
    const fatal = new Error('401 unauthorized');
    const operation = jest.fn(async () => {
      throw fatal;
    });
    await expect(retry(operation, options)).rejects.toBe(fatal);
    expect(operation).toHaveBeenCalledTimes(1);
  });

  it('stops waiting when the signal aborts, keeping the last error as the cause', async () => {
    const controller = new AbortController();
    const failure = new TransientError('503');
    const operation = jest.fn(async () => {
      throw failure;
    });
    const result = retry(operation, { ...options, signal: controller.signal });
    const settled = expect(result).rejects.toMatchObject({ code: ResilienceErrorCode.Aborted, cause: failure });
    await jest.advanceTimersByTimeAsync(10);
    controller.abort();
    await settled;
    expect(operation).toHaveBeenCalledTimes(1);
  });

  it('does not start when the signal has already aborted', async () => {
    const operation = jest.fn(async () => 'done');
    await expect(retry(operation, { ...options, signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: ResilienceErrorCode.Aborted,
    });
    expect(operation).not.toHaveBeenCalled();
  });

  it('rejects options that make no sense', async () => {
    await expect(retry(async () => 'done', { ...options, retries: -1, maxDelayMs: 10 })).rejects.toMatchObject({
      code: ResilienceErrorCode.InvalidOptions,
      message: expect.stringMatching(/retries.*maxDelayMs/),
    });
  });
});
