import { CoordinationError, CoordinationErrorCode } from './coordination.error';
import type { Lease } from './lease.interface';
import { LeaseKeeper } from './lease-keeper.service';
import { MemoryLease } from './memory/memory-lease.store';

const TTL_MS = 3_000;

/** A lease whose renewals the test scripts; acquire always grants token 7. */
function scriptedLease(renew: Lease['renew']): Lease & { renew: jest.Mock; release: jest.Mock } {
  return {
    acquire: async () => ({ token: 7 }),
    renew: jest.fn(renew),
    release: jest.fn(async () => undefined),
    raiseFence: async () => undefined,
  };
}

describe('LeaseKeeper', () => {
  beforeEach(() => {
    jest.useFakeTimers();
  });

  afterEach(() => {
    jest.useRealTimers();
  });

  it('keeps a lease held for longer than its ttl by renewing it every ttl/3', async () => {
    const lease = new MemoryLease();
    const renew = jest.spyOn(lease, 'renew');
    const keeper = (await LeaseKeeper.acquire(lease, { resource: 'source-crm', holderId: 'a', ttlMs: TTL_MS }))!;

    await jest.advanceTimersByTimeAsync(TTL_MS * 4);

    expect(keeper.held).toBe(true);
    expect(renew).toHaveBeenCalledTimes(12);
    expect(renew).toHaveBeenLastCalledWith('source-crm', 'a', keeper.token, TTL_MS);
    expect(await lease.acquire('source-crm', 'b', TTL_MS)).toBeNull();
    await keeper.release();
  });

  it('returns null while another holder has the lease', async () => {
    const lease = new MemoryLease();
    await lease.acquire('source-crm', 'a', TTL_MS);
    expect(await LeaseKeeper.acquire(lease, { resource: 'source-crm', holderId: 'b', ttlMs: TTL_MS })).toBeNull();
  });

  it('aborts its signal and reports the loss when a renewal is refused', async () => {
    const lease = scriptedLease(async () => false);
    const onLost = jest.fn();
    const keeper = (await LeaseKeeper.acquire(lease, { resource: 'r', holderId: 'a', ttlMs: TTL_MS, onLost }))!;

    await jest.advanceTimersByTimeAsync(TTL_MS / 3);

    expect(keeper.held).toBe(false);
    expect(keeper.signal.reason).toMatchObject({ code: CoordinationErrorCode.LeaseLost });
    expect(onLost).toHaveBeenCalledTimes(1);
    expect(onLost).toHaveBeenCalledWith(keeper.signal.reason);
    await jest.advanceTimersByTimeAsync(TTL_MS * 2);
    expect(lease.renew).toHaveBeenCalledTimes(1);
  });

  it('rides out a failed renewal that a later one makes good', async () => {
    const outage = new CoordinationError(CoordinationErrorCode.Unavailable, 'Redis is unavailable');
    const lease = scriptedLease(async () => true);
    lease.renew.mockRejectedValueOnce(outage);
    const onRenewError = jest.fn();
    const onLost = jest.fn();
    const keeper = (await LeaseKeeper.acquire(lease, {
      resource: 'r',
      holderId: 'a',
      ttlMs: TTL_MS,
      onLost,
      onRenewError,
    }))!;

    await jest.advanceTimersByTimeAsync(TTL_MS * 2);

    expect(onRenewError).toHaveBeenCalledWith(outage);
    expect(onLost).not.toHaveBeenCalled();
    expect(keeper.held).toBe(true);
    await keeper.release();
  });

  it('gives the lease up before its ttl could run out when renewals keep failing', async () => {
    const outage = new CoordinationError(CoordinationErrorCode.Unavailable, 'Redis is unavailable');
    const lease = scriptedLease(async () => {
      throw outage;
    });
    const onLost = jest.fn();
    const keeper = (await LeaseKeeper.acquire(lease, { resource: 'r', holderId: 'a', ttlMs: TTL_MS, onLost }))!;

    await jest.advanceTimersByTimeAsync(TTL_MS * 0.75 - 1);
    expect(keeper.held).toBe(true);
    await jest.advanceTimersByTimeAsync(1);

    expect(keeper.held).toBe(false);
    expect(onLost).toHaveBeenCalledTimes(1);
    expect(keeper.signal.reason).toMatchObject({ code: CoordinationErrorCode.LeaseLost, cause: outage });
  });

  it('gives the lease up when a renewal hangs', async () => {
    const lease = scriptedLease(() => new Promise<boolean>(() => undefined));
    const keeper = (await LeaseKeeper.acquire(lease, { resource: 'r', holderId: 'a', ttlMs: TTL_MS }))!;

    await jest.advanceTimersByTimeAsync(TTL_MS * 0.75);

    expect(keeper.held).toBe(false);
    expect(lease.renew).toHaveBeenCalledTimes(1);
  });

  it('releases the lease, stops renewing and aborts its signal without reporting a loss', async () => {
    const lease = new MemoryLease();
    const renew = jest.spyOn(lease, 'renew');
    const onLost = jest.fn();
    const keeper = (await LeaseKeeper.acquire(lease, { resource: 'r', holderId: 'a', ttlMs: TTL_MS, onLost }))!;

    await keeper.release();
    await keeper.release();
    await jest.advanceTimersByTimeAsync(TTL_MS * 2);

    expect(keeper.signal.reason).toMatchObject({ code: CoordinationErrorCode.LeaseReleased });
    expect(renew).not.toHaveBeenCalled();
    expect(onLost).not.toHaveBeenCalled();
    expect(await lease.acquire('r', 'b', TTL_MS)).toEqual({ token: keeper.token + 1 });
  });
});
