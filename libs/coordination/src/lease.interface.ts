export interface LeaseGrant {
  /**
   * Fencing token: strictly greater than every token handed out before for this resource, so a
   * downstream writer can refuse writes carrying an older token from a holder that lost the lease.
   */
  token: number;
}

/**
 * One holder at a time for a named resource (e.g. "the connector reading source crm").
 * A lease ends when its holder releases it or stops renewing it before `ttlMs` runs out; a holder
 * must stop working before then, which `LeaseKeeper` arranges.
 */
export interface Lease {
  /**
   * Takes the resource if nobody holds it. If `holderId` already holds it (e.g. a retry after a lost
   * reply) the current grant is returned and its ttl restarted; otherwise `null` while another holds it.
   * `holderId` must identify one holder: two workers sharing an id would both believe they hold it.
   */
  acquire(resource: string, holderId: string, ttlMs: number): Promise<LeaseGrant | null>;
  /** Extends the lease to `ttlMs` from now; false when this holder and token no longer hold it. */
  renew(resource: string, holderId: string, token: number, ttlMs: number): Promise<boolean>;
  /** Frees the resource if, and only if, this holder with this token still holds it. */
  release(resource: string, holderId: string, token: number): Promise<void>;
  /**
   * Makes every later grant's token greater than `token`. For a store that lost its counters (a Redis
   * restarted without persistence hands out 1 again): a holder whose fenced writes are refused as
   * older than a token already used raises the fence past it, releases, and takes the lease again.
   */
  raiseFence(resource: string, token: number): Promise<void>;
}
