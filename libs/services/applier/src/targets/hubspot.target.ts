import type { RateLimiter } from '@tandem/coordination';
import { HubSpotApplier, HubSpotClient, isHubSpotApiError, type HubSpotSettings } from '@tandem/hubspot-system';
import { CoalescingApplyTarget } from '@tandem/pipeline';
import { ArchiveAttemptRepository, type SqlClient } from '@tandem/state';
import type { TargetConnection } from './target-connection.interface';

/** HubSpot's batch endpoints take 100 inputs; partitions' commands wait this long to share a call. */
const BATCH_INPUTS = 100;
const LINGER_MS = 100;

/** HubSpot contacts, written through batch endpoints under the account's shared rate limit. */
export function openHubSpotTarget(systemId: string, settings: HubSpotSettings, accessToken: string, rateLimiter: RateLimiter, db: SqlClient): TargetConnection {
  const applier = new HubSpotApplier(HubSpotClient.fromSettings(settings, { accessToken, rateLimiter }), new ArchiveAttemptRepository(db, systemId));
  return {
    target: new CoalescingApplyTarget(applier, { maxCommands: BATCH_INPUTS, lingerMs: LINGER_MS }),
    sharesCalls: true,
    keepsBookkeeping: false,
    probe: () => applier.probe(),
    isTransient: (error) => !isHubSpotApiError(error) || error.retryable,
    // Readiness must not spend the account's API calls; outages are the breaker's to find.
    check: async () => undefined,
    close: async () => undefined,
  };
}
