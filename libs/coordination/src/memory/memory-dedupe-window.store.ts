import { randomUUID } from 'node:crypto';
import { assertPositiveInteger } from '../coordination-arguments.util';
import type { DedupeWindow } from '../dedupe-window.interface';

interface Claim {
  claimant: string;
  expiresAt: number;
}

/** How often expired claims are swept, so memory stays bounded by the ids of one ttl. */
const SWEEP_EVERY_MS = 1_000;

export class MemoryDedupeWindow implements DedupeWindow {
  private readonly claims = new Map<string, Claim>();
  private lastSweepAt = Date.now();

  async claim(ids: string[], ttlMs: number, claimant: string = randomUUID()): Promise<boolean[]> {
    assertPositiveInteger(ttlMs, 'ttlMs');
    const now = Date.now();
    this.sweep(now);
    const seenInCall = new Set<string>();
    return ids.map((id) => {
      if (seenInCall.has(id)) return false;
      seenInCall.add(id);
      const existing = this.claims.get(id);
      if (existing && existing.expiresAt > now) return existing.claimant === claimant;
      this.claims.set(id, { claimant, expiresAt: now + ttlMs });
      return true;
    });
  }

  async forget(ids: string[], claimant?: string): Promise<void> {
    for (const id of ids) {
      if (claimant === undefined || this.claims.get(id)?.claimant === claimant) this.claims.delete(id);
    }
  }

  private sweep(now: number): void {
    if (now - this.lastSweepAt < SWEEP_EVERY_MS) return;
    this.lastSweepAt = now;
    for (const [id, claim] of this.claims) {
      if (claim.expiresAt <= now) this.claims.delete(id);
    }
  }
}
