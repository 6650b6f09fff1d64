import { CoordinationError, CoordinationErrorCode } from './coordination.error';
import type { Lease } from './lease.interface';

export interface LeaseKeeperOptions {
  resource: string;
  /** Unique to this keeper (e.g. instance name plus a random suffix). */
  holderId: string;
  ttlMs: number;
  /** Called once when the lease is lost; `signal` aborts at the same moment. */
  onLost?: (error: CoordinationError) => void;
  /** Called for each renewal that failed without yet losing the lease (e.g. Redis briefly down). */
  onRenewError?: (error: unknown) => void;
}

/**
 * Holds a lease for as long as its holder works: renews it every ttl/3 and, when it is taken over,
 * expires, or cannot be confirmed in time, aborts `signal` so the holder stops. The holder must
 * stop well before the lease could pass to someone else, so a renewal that keeps failing counts as
 * a loss once three quarters of the ttl have passed since the last confirmed renewal.
 */
export class LeaseKeeper {
  private readonly controller = new AbortController();
  private readonly renewEveryMs: number;
  private renewTimer: NodeJS.Timeout | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private lastRenewError: unknown;
  private released = false;

  private constructor(
    private readonly lease: Lease,
    private readonly options: LeaseKeeperOptions,
    readonly token: number,
    acquireSentAt: number,
  ) {
    this.renewEveryMs = Math.max(1, Math.floor(options.ttlMs / 3));
    this.confirmed(acquireSentAt);
    this.scheduleRenewal();
  }

  /** Acquires the lease and starts keeping it; `null` while someone else holds it. */
  static async acquire(lease: Lease, options: LeaseKeeperOptions): Promise<LeaseKeeper | null> {
    const sentAt = Date.now();
    const grant = await lease.acquire(options.resource, options.holderId, options.ttlMs);
    return grant ? new LeaseKeeper(lease, options, grant.token, sentAt) : null;
  }

  get resource(): string {
    return this.options.resource;
  }

  /** Aborts when the lease is no longer held, with a `CoordinationError` saying why. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get held(): boolean {
    return !this.controller.signal.aborted;
  }

  /** Stops renewing and frees the resource for the next holder. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    this.stopTimers();
    if (this.held) {
      this.controller.abort(new CoordinationError(CoordinationErrorCode.LeaseReleased, `released ${this.resource}`));
    }
    // Also after a loss: if the lease was only unconfirmed, this frees it sooner than the ttl would.
    await this.lease.release(this.resource, this.options.holderId, this.token);
  }

  private scheduleRenewal(): void {
    this.renewTimer = setTimeout(() => void this.renew(), this.renewEveryMs);
  }

  private async renew(): Promise<void> {
    const sentAt = Date.now();
    const { resource, holderId, ttlMs } = this.options;
    try {
      const renewed = await this.lease.renew(resource, holderId, this.token, ttlMs);
      if (!this.held) return;
      if (!renewed) {
        this.lose(new CoordinationError(CoordinationErrorCode.LeaseLost, `lease on ${resource} was lost`));
        return;
      }
      this.lastRenewError = undefined;
      this.confirmed(sentAt);
    } catch (error) {
      if (!this.held) return;
      this.lastRenewError = error;
      this.options.onRenewError?.(error);
    }
    this.scheduleRenewal();
  }

  /** The lease runs at least until `sentAt + ttl`; give up on it a quarter ttl before that. */
  private confirmed(sentAt: number): void {
    clearTimeout(this.deadlineTimer);
    const giveUpAt = sentAt + this.options.ttlMs - Math.ceil(this.options.ttlMs / 4);
    this.deadlineTimer = setTimeout(() => {
      this.lose(
        new CoordinationError(CoordinationErrorCode.LeaseLost, `could not renew lease on ${this.resource} in time`, {
          cause: this.lastRenewError,
        }),
      );
    }, Math.max(0, giveUpAt - Date.now()));
  }

  private lose(error: CoordinationError): void {
    if (!this.held) return;
    this.stopTimers();
    this.controller.abort(error);
    this.options.onLost?.(error);
  }

  private stopTimers(): void {
    clearTimeout(this.renewTimer);
    clearTimeout(this.deadlineTimer);
  }
}
