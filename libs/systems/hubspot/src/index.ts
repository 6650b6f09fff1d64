export {
  HubSpotSettingsSchema,
  HubSpotTierSchema,
  hubSpotLimits,
  type HubSpotLimits,
  type HubSpotSettings,
  type HubSpotSettingsInput,
  type HubSpotTier,
} from './hubspot-settings.schema';
export { HubSpotApiError, HubSpotApiErrorCode, isHubSpotApiError, type HubSpotApiErrorDetails } from './hubspot-api.error';
export type { HubSpotContact, BatchError } from './hubspot-response.schema';
export {
  HubSpotClient,
  type BatchReadResult,
  type BatchWriteResult,
  type ContactPage,
  type ContactSearchPage,
  type ContactSearchRequest,
  type HubSpotClientOptions,
  type HubSpotProperties,
  type SearchOperator,
} from './hubspot-client.service';
export {
  verifyWebhookSignature,
  webhookSignature,
  type WebhookSignatureFailure,
  type WebhookSignatureInput,
  type WebhookSignatureResult,
} from './webhook-signature.util';
export {
  ContactEventTypeSchema,
  parseWebhookEvents,
  type ContactEventType,
  type HubSpotWebhookEvent,
  type WebhookParseResult,
} from './webhook-event.schema';
export { contactModifiedAtMs, toContactRecord, type ContactRecord } from './contact-record.util';
export {
  ContactSearchCursorSchema,
  pollModifiedContacts,
  type ContactSearchCursor,
  type PollOptions,
  type PollResult,
} from './contact-poll.util';
export { listAllContacts, listArchivedContacts, type ContactListOptions, type ContactListPage } from './contact-list.util';
export {
  HubSpotApplier,
  HubSpotApplyFailureCode,
  type ArchiveAttempts,
  type HubSpotApplierClient,
  type HubSpotApplyInput,
  type HubSpotApplyOutcome,
} from './hubspot-applier.service';
