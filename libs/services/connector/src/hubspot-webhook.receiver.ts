import type { DedupeWindow } from '@tandem/coordination';
import { parseWebhookEvents, verifyWebhookSignature, type HubSpotWebhookEvent } from '@tandem/hubspot-system';
import type { InboxChangeSource } from '@tandem/pipeline';
import type { SourceNotice } from '@tandem/state';
import type { Logger } from 'pino';

export interface WebhookRequest {
  method: string;
  /** The URI HubSpot called, as the signature covers it. */
  uri: string;
  rawBody: Buffer;
  signature: string | undefined;
  timestamp: string | undefined;
}

export interface WebhookAnswer {
  status: number;
  body: Record<string, unknown>;
}

export interface HubSpotWebhookReceiverOptions {
  inbox: InboxChangeSource;
  clientSecret: string;
  accountId: string;
  /** Drops repeated deliveries before they cost a fetch; correctness does not depend on it. */
  dedupe: DedupeWindow | null;
  logger: Logger;
  /** HubSpot retries a delivery for a day. */
  dedupeTtlMs?: number;
}

/**
 * Takes HubSpot's webhook deliveries: checks the v3 signature and its age, stores each event as a
 * notice in the inbox, and answers; the connector fetches and publishes later, so the answer comes
 * in milliseconds. Nothing is acknowledged before it is stored: a failure answers 500 and HubSpot
 * delivers again.
 */
export class HubSpotWebhookReceiver {
  constructor(private readonly options: HubSpotWebhookReceiverOptions) {}

  async receive(request: WebhookRequest, nowMs = Date.now()): Promise<WebhookAnswer> {
    const { logger, accountId } = this.options;
    const verdict = verifyWebhookSignature({
      method: request.method,
      uri: request.uri,
      rawBody: request.rawBody,
      signature: request.signature,
      timestamp: request.timestamp,
      clientSecret: this.options.clientSecret,
      nowMs,
    });
    if (!verdict.ok) {
      logger.warn({ reason: verdict.reason, uri: request.uri }, 'webhook delivery refused');
      return { status: 401, body: { error: verdict.reason } };
    }
    let body: unknown;
    try {
      body = JSON.parse(request.rawBody.toString('utf8'));
    } catch {
      return { status: 400, body: { error: 'the body is not JSON' } };
    }
    const parsed = parseWebhookEvents(body);
    if (!parsed.ok) return { status: 400, body: { error: parsed.error } };
    const events = parsed.events.filter((event) => event.portalId === accountId);
    const otherAccounts = parsed.events.length - events.length;
    if (otherAccounts > 0) logger.warn({ otherAccounts, accountId }, 'webhook events for another HubSpot account ignored');

    const keys = events.map(deliveryKey);
    const fresh = await this.claim(keys);
    const accepted = events.filter((_, index) => fresh[index]);
    try {
      await this.options.inbox.enqueue(accepted.flatMap(toNotices));
    } catch (error) {
      await this.options.dedupe?.forget(keys.filter((_, index) => fresh[index])).catch(() => undefined);
      logger.error({ error: error instanceof Error ? error.message : String(error) }, 'webhook events could not be stored; HubSpot will deliver again');
      return { status: 500, body: { error: 'not stored; deliver again' } };
    }
    return { status: 200, body: { accepted: accepted.length, duplicates: events.length - accepted.length, ignored: parsed.ignoredEventTypes } };
  }

  /** Without the window (Redis down) every event is taken: the inbox drops repeats anyway. */
  private async claim(keys: string[]): Promise<boolean[]> {
    const { dedupe, dedupeTtlMs = 24 * 3_600_000, logger } = this.options;
    if (!dedupe || keys.length === 0) return keys.map(() => true);
    try {
      return await dedupe.claim(keys, dedupeTtlMs);
    } catch (error) {
      logger.warn({ error: error instanceof Error ? error.message : String(error) }, 'webhook dedupe window unavailable; taking every event');
      return keys.map(() => true);
    }
  }
}

/** HubSpot's eventId is not unique, so an event is known by what it says. */
function deliveryKey(event: HubSpotWebhookEvent): string {
  return ['hubspot-webhook', event.portalId, event.type, event.objectId, event.occurredAtMs, event.propertyName ?? '', event.propertyValue ?? ''].join('|');
}

function toNotices(event: HubSpotWebhookEvent): SourceNotice[] {
  const notice = (recordId: string, kind: 'changed' | 'deleted'): SourceNotice => ({ recordId, kind, modifiedAtMs: event.occurredAtMs, values: null });
  switch (event.type) {
    case 'contact.propertyChange':
      // The value as of the event: the fetch may already see a later write over it.
      return [{ ...notice(event.objectId, 'changed'), values: event.propertyName ? { [event.propertyName]: event.propertyValue } : null }];
    case 'contact.creation':
    case 'contact.restore':
      return [notice(event.objectId, 'changed')];
    case 'contact.deletion':
    case 'contact.privacyDeletion':
      return [notice(event.objectId, 'deleted')];
    case 'contact.merge': {
      const survivor = event.merge?.newObjectId ?? event.merge?.primaryObjectId ?? event.objectId;
      const merged = (event.merge?.mergedObjectIds ?? []).filter((id) => id !== survivor);
      return [notice(survivor, 'changed'), ...merged.map((id) => notice(id, 'deleted'))];
    }
  }
}
