import type { ChangeSource } from './sim-contact.interface';

export type WebhookSubscriptionType =
  | 'contact.creation'
  | 'contact.deletion'
  | 'contact.propertyChange'
  | 'contact.restore'
  | 'contact.merge';

/** One element of a delivery's JSON array, as HubSpot sends it. */
export interface WebhookEvent {
  eventId: number;
  subscriptionId: number;
  portalId: number;
  appId: number;
  occurredAt: number;
  subscriptionType: WebhookSubscriptionType;
  attemptNumber: number;
  objectId: number;
  changeSource: ChangeSource;
  propertyName?: string;
  propertyValue?: string;
  primaryObjectId?: number;
  mergedObjectIds?: number[];
  newObjectId?: number;
}

/** An event before delivery stamps its attempt number. */
export type WebhookEventDraft = Omit<WebhookEvent, 'attemptNumber'>;

/** Each subscription of the simulated app has its own id, as in HubSpot. */
export const SUBSCRIPTION_IDS: Record<WebhookSubscriptionType, number> = {
  'contact.creation': 25,
  'contact.deletion': 26,
  'contact.propertyChange': 27,
  'contact.restore': 28,
  'contact.merge': 29,
};
