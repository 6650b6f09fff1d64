import { type ClientRequest, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { HubSpotSimulatorError, HubSpotSimulatorErrorCode } from './hubspot-simulator.error';
import type { SeededRandom } from './seeded-random.util';
import type { ResolvedWebhookOptions } from './simulator-options.schema';
import type { WebhookEvent, WebhookEventDraft } from './webhook-event.interface';
import { signWebhookV3 } from './webhook-signature.util';

export interface WebhookStats {
  /** Events produced by changes (duplicates not included). */
  events: number;
  /** Extra copies scheduled by `duplicateRate`. */
  duplicates: number;
  /** Deliveries (one JSON array each), however many attempts they took. */
  deliveries: number;
  /** HTTP requests made. */
  attempts: number;
  /** Attempts that failed: connection error, non-2xx, or slower than the response timeout. */
  failedAttempts: number;
  /** Events given up after the last retry, or discarded because no target was set. */
  dropped: number;
  /** Events not yet delivered or dropped. */
  pending: number;
}

interface QueuedEvent {
  event: WebhookEventDraft;
  isCopy: boolean;
}

/**
 * Delivers events like HubSpot: gathered for a short window into JSON arrays of fewer than 100, signed
 * with v3, at least once (optionally duplicated and reordered), retried with backoff on failure.
 */
export class WebhookDispatcher {
  private target: string | null;
  private waiting: QueuedEvent[] = [];
  /** Events in deliveries that have not finished (sending, or waiting to retry). */
  private inFlight = 0;
  private windowTimer: NodeJS.Timeout | null = null;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly requests = new Set<ClientRequest>();
  private readonly sleepers = new Set<() => void>();
  private idleWaiters: Array<() => void> = [];
  private closed = false;
  private readonly counters = { events: 0, duplicates: 0, deliveries: 0, attempts: 0, failedAttempts: 0, dropped: 0 };

  constructor(
    private readonly options: ResolvedWebhookOptions,
    private readonly clientSecret: string,
    private readonly random: SeededRandom,
  ) {
    this.target = options.targetUrl === null ? null : new URL(options.targetUrl).href;
  }

  setTarget(url: string | null): void {
    this.target = url === null ? null : new URL(url).href;
  }

  /** No target means no subscription: the events are not produced at all. */
  enqueue(events: WebhookEventDraft[]): void {
    if (this.target === null || this.closed || events.length === 0) return;
    this.counters.events += events.length;
    this.waiting.push(...events.map((event) => ({ event, isCopy: false })));
    this.scheduleWindow();
  }

  stats(): WebhookStats {
    return { ...this.counters, pending: this.pending() };
  }

  flush(timeoutMs: number): Promise<void> {
    if (this.pending() === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onIdle = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((waiter) => waiter !== onIdle);
        reject(
          new HubSpotSimulatorError(
            HubSpotSimulatorErrorCode.WebhookFlushTimeout,
            `webhook events still pending after ${timeoutMs} ms: ${JSON.stringify(this.stats())}`,
          ),
        );
      }, timeoutMs);
      this.idleWaiters.push(onIdle);
    });
  }

  close(): void {
    this.closed = true;
    if (this.windowTimer) clearTimeout(this.windowTimer);
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const request of this.requests) request.destroy();
    for (const wake of this.sleepers) wake();
    this.waiting = [];
    this.inFlight = 0;
    this.notifyIfIdle();
  }

  private pending(): number {
    return this.waiting.length + this.inFlight;
  }

  private scheduleWindow(): void {
    if (this.windowTimer || this.closed) return;
    this.windowTimer = setTimeout(() => {
      this.windowTimer = null;
      this.cutWindow();
    }, this.options.batchWindowMs);
  }

  private cutWindow(): void {
    const batch = this.waiting;
    this.waiting = [];
    for (const queued of batch) {
      // The copy goes out with a later delivery, as a separate request would.
      if (!queued.isCopy && this.random.chance(this.options.duplicateRate)) {
        this.counters.duplicates += 1;
        this.waiting.push({ event: queued.event, isCopy: true });
      }
    }
    if (this.waiting.length > 0) this.scheduleWindow();
    if (this.options.reorder) this.random.shuffle(batch);
    for (let start = 0; start < batch.length; start += this.options.maxBatchSize) {
      const chunk = batch.slice(start, start + this.options.maxBatchSize).map((queued) => queued.event);
      this.inFlight += chunk.length;
      const delay = this.options.reorder ? this.random.below(this.options.batchWindowMs + 1) : 0;
      this.later(delay, () => void this.deliver(chunk));
    }
  }

  private async deliver(chunk: WebhookEventDraft[]): Promise<void> {
    this.counters.deliveries += 1;
    const delays = this.options.retryDelaysMs;
    let delivered = false;
    for (let attempt = 0; attempt <= delays.length && !this.closed && !delivered; attempt += 1) {
      if (attempt > 0) await this.sleep(delays[attempt - 1] ?? 0);
      const target = this.target;
      if (target === null || this.closed) break;
      const events: WebhookEvent[] = chunk.map((event) => ({ ...event, attemptNumber: attempt }));
      this.counters.attempts += 1;
      delivered = await this.post(target, JSON.stringify(events));
      if (!delivered) this.counters.failedAttempts += 1;
    }
    if (this.closed) return;
    if (!delivered) this.counters.dropped += chunk.length;
    this.inFlight -= chunk.length;
    this.notifyIfIdle();
  }

  private post(target: string, body: string): Promise<boolean> {
    const timestamp = Date.now();
    const signature = signWebhookV3({ clientSecret: this.clientSecret, method: 'POST', uri: target, body, timestamp });
    const url = new URL(target);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve) => {
      let settled = false;
      const finish = (ok: boolean): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.timers.delete(timer);
        this.requests.delete(request);
        resolve(ok);
      };
      const request = send(
        url,
        {
          method: 'POST',
          agent: false,
          headers: {
            'Content-Type': 'application/json',
            'Content-Length': Buffer.byteLength(body),
            'User-Agent': 'HubSpot Webhooks (simulator)',
            'X-HubSpot-Signature-v3': signature,
            'X-HubSpot-Request-Timestamp': String(timestamp),
          },
        },
        (response) => {
          const ok = response.statusCode !== undefined && response.statusCode >= 200 && response.statusCode < 300;
          response.on('error', () => finish(false));
          response.on('end', () => finish(ok));
          response.resume();
        },
      );
      // A receiver slower than the timeout fails the attempt, even if it answers later.
      const timer = setTimeout(() => {
        request.destroy();
        finish(false);
      }, this.options.responseTimeoutMs);
      this.timers.add(timer);
      this.requests.add(request);
      request.on('error', () => finish(false));
      request.end(body);
    });
  }

  private later(delayMs: number, run: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.closed) run();
    }, delayMs);
    this.timers.add(timer);
  }

  /** Ends early when the dispatcher closes, so no delivery loop is left waiting. */
  private sleep(delayMs: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.timers.delete(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, delayMs);
      this.timers.add(timer);
      this.sleepers.add(wake);
    });
  }

  private notifyIfIdle(): void {
    if (this.pending() !== 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const waiter of waiters) waiter();
  }
}
