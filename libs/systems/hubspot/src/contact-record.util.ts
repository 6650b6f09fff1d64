import { HubSpotApiError, HubSpotApiErrorCode } from './hubspot-api.error';
import type { HubSpotContact } from './hubspot-response.schema';

/** A contact as a connector publishes it: its id, its properties and HubSpot's own change position. */
export interface ContactRecord {
  recordId: string;
  properties: Record<string, string | null>;
  /** lastmodifieddate in epoch ms: HubSpot's clock, bumped by every property update. */
  modifiedAtMs: number;
  archived: boolean;
}

/**
 * When the contact last changed, from `lastmodifieddate` (ISO-8601, or epoch ms as search filters
 * write it), else `updatedAt`; null when neither is readable.
 */
export function contactModifiedAtMs(contact: HubSpotContact): number | null {
  return parseHubSpotTime(contact.properties['lastmodifieddate']) ?? parseHubSpotTime(contact.updatedAt);
}

export function parseHubSpotTime(value: string | null | undefined): number | null {
  if (value === null || value === undefined || value === '') return null;
  if (/^\d+$/.test(value)) return Number(value);
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}

export function toContactRecord(contact: HubSpotContact): ContactRecord {
  const modifiedAtMs = contactModifiedAtMs(contact);
  if (modifiedAtMs === null) {
    throw new HubSpotApiError(
      HubSpotApiErrorCode.MalformedResponse,
      `contact ${contact.id} has no readable lastmodifieddate or updatedAt`,
    );
  }
  return { recordId: contact.id, properties: contact.properties, modifiedAtMs, archived: contact.archived ?? false };
}
