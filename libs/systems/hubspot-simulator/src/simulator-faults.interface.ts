export interface SimulatorFaults {
  /** Added to every API response. */
  latencyMs?: number;
  /** 0..1 chance of a 500/502/503 with an error body (nothing is applied). */
  serverErrorRate?: number;
  /**
   * 0..1 chance a request is processed (writes apply) but never answered: the connection is dropped after
   * 30 s, so the client must time out.
   */
  timeoutRate?: number;
  /** refuse: the listener closes (connections refused) and reopens on the same port; unavailable: every call 503. */
  outage?: false | 'refuse' | 'unavailable';
  /** Every API call answers 429 TEN_SECONDLY_ROLLING. */
  rateLimitStorm?: boolean;
}

export type ActiveFaults = Required<SimulatorFaults>;

export const NO_FAULTS: ActiveFaults = {
  latencyMs: 0,
  serverErrorRate: 0,
  timeoutRate: 0,
  outage: false,
  rateLimitStorm: false,
};
