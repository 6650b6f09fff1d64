import { assertPositiveInteger } from '../coordination-arguments.util';
import type { Lease, LeaseGrant } from '../lease.interface';

interface HeldEntry {
  holderId: string;
  token: number;
  expiresAt: number;
}

/** In-process leases for the embedded single-process mode; same semantics as the Redis leases. */
export class MemoryLease implements Lease {
  private readonly held = new Map<string, HeldEntry>();
  /** Kept after a lease ends so tokens keep increasing for the resource. */
  private readonly lastTokens = new Map<string, number>();

  async acquire(resource: string, holderId: string, ttlMs: number): Promise<LeaseGrant | null> {
    assertPositiveInteger(ttlMs, 'ttlMs');
    const current = this.current(resource);
    if (current) {
      if (current.holderId !== holderId) return null;
      current.expiresAt = Date.now() + ttlMs;
      return { token: current.token };
    }
    const token = (this.lastTokens.get(resource) ?? 0) + 1;
    this.lastTokens.set(resource, token);
    this.held.set(resource, { holderId, token, expiresAt: Date.now() + ttlMs });
    return { token };
  }

  async renew(resource: string, holderId: string, token: number, ttlMs: number): Promise<boolean> {
    assertPositiveInteger(ttlMs, 'ttlMs');
    const current = this.current(resource);
    if (!current || current.holderId !== holderId || current.token !== token) return false;
    current.expiresAt = Date.now() + ttlMs;
    return true;
  }

  async release(resource: string, holderId: string, token: number): Promise<void> {
    const current = this.current(resource);
    if (current && current.holderId === holderId && current.token === token) this.held.delete(resource);
  }

  async raiseFence(resource: string, token: number): Promise<void> {
    assertPositiveInteger(token, 'token');
    this.lastTokens.set(resource, Math.max(this.lastTokens.get(resource) ?? 0, token));
  }

  private current(resource: string): HeldEntry | undefined {
    const entry = this.held.get(resource);
    if (entry && entry.expiresAt <= Date.now()) {
      this.held.delete(resource);
      return undefined;
    }
    return entry;
  }
}
