import {
  type ContactProperties,
  type ContactPropertyCatalog,
  DEFAULT_READ_PROPERTIES,
  SYSTEM_CONTACT_PROPERTIES,
} from './contact-properties.util';
import type { StoredContact } from './contact-store.service';
import type { SimContact } from './sim-contact.interface';

/** The contact object of HubSpot's API responses. */
export interface ApiContact {
  id: string;
  properties: ContactProperties;
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
): ApiContact {
  const names = [...(requested ?? DEFAULT_READ_PROPERTIES), ...SYSTEM_CONTACT_PROPERTIES];
  const properties: ContactProperties = {};
  for (const name of names) {
    if (catalog.isReadable(name)) properties[name] = contact.properties[name] ?? null;
  }
  return {
    id: contact.id,
    properties,
    createdAt: new Date(contact.createdAtMs).toISOString(),
    updatedAt: new Date(contact.updatedAtMs).toISOString(),
    archived: contact.archived,
    ...(contact.archivedAtMs === null ? {} : { archivedAt: new Date(contact.archivedAtMs).toISOString() }),
  };
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

/** `properties=a,b` or `properties=a&properties=b`; null when absent. */
export function requestedProperties(query: URLSearchParams): string[] | null {
  const values = query.getAll('properties');
  if (values.length === 0) return null;
  return values.flatMap((value) => value.split(',')).map((name) => name.trim()).filter((name) => name !== '');
}

/** The inverse of `toSimContact`. */
export function fromSimContact(contact: SimContact): StoredContact {
  return {
    id: contact.id,
    properties: { ...contact.properties },
    createdAtMs: Date.parse(contact.createdAt),
    updatedAtMs: Date.parse(contact.updatedAt),
    archived: contact.archived,
    archivedAtMs: contact.archivedAt === undefined ? null : Date.parse(contact.archivedAt),
  };
}
