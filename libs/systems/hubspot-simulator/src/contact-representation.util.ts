import {
  type ContactProperties,
  type ContactPropertyCatalog,
  DEFAULT_READ_PROPERTIES,
  SYSTEM_CONTACT_PROPERTIES,
} from './contact-properties.util';
import type { PropertyVersion, StoredContact } from './contact-store.service';
import type { SimContact } from './sim-contact.interface';

/** One past value of a property as `propertiesWithHistory` shows it. */
export interface ApiPropertyVersion {
  value: string | null;
  timestamp: string;
  sourceType: string;
}

/** The contact object of HubSpot's API responses. */
export interface ApiContact {
  id: string;
  properties: ContactProperties;
  propertiesWithHistory?: Record<string, ApiPropertyVersion[]>;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
  archivedAt?: string;
}

/**
 * Which properties a response shows: the requested ones (unknown names are ignored, known but unset ones
 * are null), or the default set; hs_object_id, createdate and lastmodifieddate always.
 */
export function renderContact(
  contact: StoredContact,
  catalog: ContactPropertyCatalog,
  requested: readonly string[] | null,
  withHistory: readonly string[] = [],
): ApiContact {
  const names = [...(requested ?? DEFAULT_READ_PROPERTIES), ...SYSTEM_CONTACT_PROPERTIES];
  const properties: ContactProperties = {};
  for (const name of names) {
    if (catalog.isReadable(name)) properties[name] = contact.properties[name] ?? null;
  }
  // Names the contact has no history for are left out, as HubSpot does.
  const histories = withHistory.flatMap((name) => {
    const versions = contact.history[name];
    return versions ? [[name, versions.map(renderVersion)] as const] : [];
  });
  return {
    id: contact.id,
    properties,
    ...(withHistory.length === 0 ? {} : { propertiesWithHistory: Object.fromEntries(histories) }),
    createdAt: new Date(contact.createdAtMs).toISOString(),
    updatedAt: new Date(contact.updatedAtMs).toISOString(),
    archived: contact.archived,
    ...(contact.archivedAtMs === null ? {} : { archivedAt: new Date(contact.archivedAtMs).toISOString() }),
  };
}

function renderVersion(version: PropertyVersion): ApiPropertyVersion {
  return { value: version.value, timestamp: new Date(version.timestampMs).toISOString(), sourceType: version.source === 'CRM' ? 'CRM_UI' : 'INTEGRATION' };
}

export function toSimContact(contact: StoredContact): SimContact {
  return {
    id: contact.id,
    properties: { ...contact.properties },
    createdAt: new Date(contact.createdAtMs).toISOString(),
    updatedAt: new Date(contact.updatedAtMs).toISOString(),
    archived: contact.archived,
    ...(contact.archivedAtMs === null ? {} : { archivedAt: new Date(contact.archivedAtMs).toISOString() }),
  };
}

/** `properties=a,b` or `properties=a&properties=b` (or another list parameter); null when absent. */
export function requestedProperties(query: URLSearchParams, parameter = 'properties'): string[] | null {
  const values = query.getAll(parameter);
  if (values.length === 0) return null;
  return values.flatMap((value) => value.split(',')).map((name) => name.trim()).filter((name) => name !== '');
}

/** The inverse of `toSimContact`; each property's history starts with the value it has, as of the contact's last update. */
export function fromSimContact(contact: SimContact): StoredContact {
  const updatedAtMs = Date.parse(contact.updatedAt);
  const written = Object.entries(contact.properties).filter(([name]) => !(SYSTEM_CONTACT_PROPERTIES as readonly string[]).includes(name));
  return {
    id: contact.id,
    properties: { ...contact.properties },
    history: Object.fromEntries(written.map(([name, value]) => [name, [{ value, timestampMs: updatedAtMs, source: 'CRM' as const }]])),
    createdAtMs: Date.parse(contact.createdAt),
    updatedAtMs,
    archived: contact.archived,
    archivedAtMs: contact.archivedAt === undefined ? null : Date.parse(contact.archivedAt),
  };
}
