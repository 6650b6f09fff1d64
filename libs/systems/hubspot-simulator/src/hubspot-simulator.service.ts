import { z } from 'zod';
import { ApiRoutes } from './api-routes.util';
import { ApiServer } from './api-server.service';
import { CallLedger } from './call-ledger.service';
import { ContactPropertyCatalog } from './contact-properties.util';
import { fromSimContact, toSimContact } from './contact-representation.util';
import { type ContactChange, ContactStore, type StoredContact, type WriteResult } from './contact-store.service';
import { HubSpotSimulatorError, HubSpotSimulatorErrorCode } from './hubspot-simulator.error';
import { AccountRateLimits } from './rate-limit.service';
import { SearchIndex } from './search-index.service';
import { SeededRandom } from './seeded-random.util';
import type { SimContact } from './sim-contact.interface';
import { type ActiveFaults, NO_FAULTS, type SimulatorFaults } from './simulator-faults.interface';
import {
  type HubSpotSimulatorOptions,
  type ResolvedSimulatorOptions,
  resolveSimulatorOptions,
} from './simulator-options.schema';
import { WebhookDispatcher, type WebhookStats } from './webhook-dispatcher.service';
import { SUBSCRIPTION_IDS, type WebhookEventDraft, type WebhookSubscriptionType } from './webhook-event.interface';

const FaultsSchema = z.object({
  latencyMs: z.number().int().nonnegative().optional(),
  serverErrorRate: z.number().min(0).max(1).optional(),
  timeoutRate: z.number().min(0).max(1).optional(),
  outage: z.union([z.literal(false), z.enum(['refuse', 'unavailable'])]).optional(),
  rateLimitStorm: z.boolean().optional(),
});

/**
 * A local stand-in for one HubSpot account's CRM v3 contacts API, with webhooks, rate limits and faults.
 * The methods named like UI actions are a person editing in HubSpot: never counted, never rate limited,
 * and notified to webhooks with changeSource 'CRM'.
 */
export class HubSpotSimulator {
  private readonly catalog: ContactPropertyCatalog;
  private readonly store: ContactStore;
  private readonly searchIndex: SearchIndex;
  private readonly ledger = new CallLedger();
  private readonly dispatcher: WebhookDispatcher;
  private readonly server: ApiServer;
  private faults: ActiveFaults = { ...NO_FAULTS };
  private nextEventId = 3_816_279_340;

  private constructor(readonly options: ResolvedSimulatorOptions) {
    this.catalog = new ContactPropertyCatalog(options.extraProperties);
    this.searchIndex = new SearchIndex(options.searchIndexDelayMs);
    this.store = new ContactStore(this.catalog, options.clock, (change) => this.onChange(change));
    // Separate streams, so turning on a fault does not change which events get duplicated.
    this.dispatcher = new WebhookDispatcher(options.webhooks, options.clientSecret, new SeededRandom(options.seed));
    this.server = new ApiServer({
      routes: new ApiRoutes({
        store: this.store,
        catalog: this.catalog,
        searchIndex: this.searchIndex,
        batchValidation: options.batchValidation,
      }),
      limits: new AccountRateLimits(options),
      ledger: this.ledger,
      host: options.host,
      accessToken: options.accessToken,
      random: new SeededRandom(options.seed + 1),
    });
  }

  static async start(options: HubSpotSimulatorOptions = {}): Promise<HubSpotSimulator> {
    const simulator = new HubSpotSimulator(resolveSimulatorOptions(options));
    await simulator.server.listen(simulator.options.port);
    return simulator;
  }

  /** Base URL; the API is under /crm/v3/. */
  get url(): string {
    return this.server.baseUrl;
  }

  createContact(properties: Record<string, string | null>): SimContact {
    return toSimContact(this.expectWritten(this.store.create(properties, 'CRM'), 'create a contact'));
  }

  updateContact(id: string, properties: Record<string, string | null>): SimContact {
    return toSimContact(this.expectWritten(this.store.update(id, properties, 'CRM'), `update contact ${id}`));
  }

  archiveContact(id: string): void {
    if (!this.store.archive(id, 'CRM')) {
      throw new HubSpotSimulatorError(HubSpotSimulatorErrorCode.ContactNotFound, `no active contact with id ${id}`);
    }
  }

  restoreContact(id: string): SimContact {
    return toSimContact(this.expectWritten(this.store.restore(id, 'CRM'), `restore contact ${id}`));
  }

  /** The primary keeps its id and values, takes the merged contact's values it lacks; the merged one is archived. */
  mergeContacts(primaryId: string, mergedId: string): SimContact {
    return toSimContact(
      this.expectWritten(this.store.merge(primaryId, mergedId, 'CRM'), `merge ${mergedId} into ${primaryId}`),
    );
  }

  /** Active contacts only, unless `archived` is true (then archived contacts too). */
  getContact(id: string, options: { archived?: boolean } = {}): SimContact | undefined {
    const contact = this.store.get(id);
    if (!contact || (contact.archived && !options.archived)) return undefined;
    return toSimContact(contact);
  }

  /** Active contacts by default; with `archived: true` the archived ones. */
  contacts(options: { archived?: boolean } = {}): SimContact[] {
    return this.store.list(options.archived ?? false).map(toSimContact);
  }

  /**
   * Loads contacts saved from `contacts()` (with `archived: true` for the archived ones), for example
   * across a restart: ids, values and times as saved, no webhook events, visible to search at once.
   */
  importContacts(contacts: readonly SimContact[]): void {
    const invalid = contacts.find((contact) => !/^\d+$/.test(contact.id) || Number.isNaN(Date.parse(contact.updatedAt)));
    if (invalid) {
      throw new HubSpotSimulatorError(HubSpotSimulatorErrorCode.InvalidOptions, `cannot import contact ${JSON.stringify(invalid.id)}: ids are numeric and times ISO-8601`);
    }
    const stored = contacts.map(fromSimContact);
    if (!this.store.restoreSaved(stored)) {
      throw new HubSpotSimulatorError(HubSpotSimulatorErrorCode.InvalidOptions, 'cannot import contacts: an id is already taken');
    }
    const now = Date.now();
    for (const contact of stored) this.searchIndex.record(contact, now - this.options.searchIndexDelayMs);
  }

  setWebhookTarget(url: string | null): void {
    this.dispatcher.setTarget(url);
  }

  webhookStats(): WebhookStats {
    return this.dispatcher.stats();
  }

  /** Resolves when no event is waiting or being delivered; rejects after `timeoutMs`. */
  flushWebhooks(timeoutMs = 30_000): Promise<void> {
    return this.dispatcher.flush(timeoutMs);
  }

  /** Keys given replace the current value; keys left out keep theirs (`clearFaults` resets everything). */
  async setFaults(faults: SimulatorFaults): Promise<void> {
    const parsed = FaultsSchema.safeParse(faults);
    if (!parsed.success) {
      throw new HubSpotSimulatorError(
        HubSpotSimulatorErrorCode.InvalidOptions,
        `invalid faults: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`,
        { cause: parsed.error },
      );
    }
    const next: ActiveFaults = { ...this.faults };
    for (const [key, value] of Object.entries(parsed.data)) {
      if (value !== undefined) Object.assign(next, { [key]: value });
    }
    this.faults = next;
    await this.server.setFaults(next);
  }

  clearFaults(): Promise<void> {
    this.faults = { ...NO_FAULTS };
    return this.server.setFaults(this.faults);
  }

  currentFaults(): ActiveFaults {
    return { ...this.faults };
  }

  /** Calls received per 'METHOD /path-template', including ones answered 429 or 5xx. */
  calls(): Record<string, number> {
    return this.ledger.calls();
  }

  callCount(key?: string): number {
    return this.ledger.callCount(key);
  }

  /** 429s answered because a limit was exceeded (storm answers not included). */
  rateLimited(): number {
    return this.ledger.rateLimited();
  }

  /** The peak number of non-search calls received within any window of `windowMs` since `resetCalls`. */
  maxRequestsInWindow(windowMs = 10_000): number {
    return this.ledger.maxInWindow(windowMs);
  }

  resetCalls(): void {
    this.ledger.reset();
  }

  async close(): Promise<void> {
    this.dispatcher.close();
    await this.server.close();
  }

  private expectWritten(result: WriteResult, action: string): StoredContact {
    if (result.ok) return result.contact;
    const { failure } = result;
    switch (failure.kind) {
      case 'invalid':
        throw new HubSpotSimulatorError(
          HubSpotSimulatorErrorCode.InvalidProperty,
          `cannot ${action}: ${failure.errors.map((error) => error.message).join('; ')}`,
        );
      case 'conflict':
        throw new HubSpotSimulatorError(
          HubSpotSimulatorErrorCode.DuplicateEmail,
          `cannot ${action}: contact ${failure.existingId} already has the email ${failure.email}`,
        );
      case 'not_found':
        throw new HubSpotSimulatorError(
          HubSpotSimulatorErrorCode.ContactNotFound,
          `cannot ${action}: no such contact ${failure.id}`,
        );
      default: {
        const unknownFailure: never = failure;
        throw new Error(`unhandled write failure ${JSON.stringify(unknownFailure)}`);
      }
    }
  }

  private onChange(change: ContactChange): void {
    const now = Date.now();
    this.searchIndex.record(change.contact, now);
    if (change.type === 'merge') this.searchIndex.record(change.merged, now);
    this.dispatcher.enqueue(this.eventsFor(change));
  }

  private eventsFor(change: ContactChange): WebhookEventDraft[] {
    const event = (type: WebhookSubscriptionType, extra: Partial<WebhookEventDraft> = {}): WebhookEventDraft => {
      this.nextEventId += 1;
      return {
        eventId: this.nextEventId,
        subscriptionId: SUBSCRIPTION_IDS[type],
        portalId: this.options.portalId,
        appId: this.options.appId,
        occurredAt: change.contact.updatedAtMs,
        subscriptionType: type,
        objectId: Number(change.contact.id),
        changeSource: change.source,
        ...extra,
      };
    };
    switch (change.type) {
      case 'creation':
        return [event('contact.creation')];
      case 'propertyChange':
        return change.changes.map(({ name, value }) =>
          // HubSpot sends a cleared value as an empty string.
          event('contact.propertyChange', { propertyName: name, propertyValue: value ?? '' }),
        );
      case 'deletion':
        return [event('contact.deletion')];
      case 'restore':
        return [event('contact.restore')];
      case 'merge':
        return [
          event('contact.merge', {
            primaryObjectId: Number(change.contact.id),
            mergedObjectIds: [Number(change.merged.id)],
            newObjectId: Number(change.contact.id),
          }),
        ];
      default: {
        const unknownChange: never = change;
        throw new Error(`unhandled contact change ${JSON.stringify(unknownChange)}`);
      }
    }
  }
}
