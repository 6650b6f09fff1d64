/**
 * Remembers ids for a while so that a duplicate (a webhook delivered twice, an event seen from two
 * paths) is processed once. A claim is a promise to process: a caller whose processing fails must
 * `forget` its claim, or the id stays claimed until the ttl ends.
 */
export interface DedupeWindow {
  /**
   * Claims each id for `ttlMs`, atomically per id; `true` means "first time seen, go ahead". An id
   * repeated within one call is claimed once. `claimant` names the delivery doing the work (e.g. a
   * message's topic, partition and offset): the same claimant claiming again — a retry after a lost
   * reply, or a redelivery after a crash — gets `true` again, so a half-done claim never hides work.
   * Without a claimant every call is a different claimant.
   */
  claim(ids: string[], ttlMs: number, claimant?: string): Promise<boolean[]>;
  /** Releases claims so the ids can be claimed again; with `claimant`, only that claimant's claims. */
  forget(ids: string[], claimant?: string): Promise<void>;
}
