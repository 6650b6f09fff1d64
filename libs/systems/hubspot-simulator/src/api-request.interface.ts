import type { ContactPropertyCatalog } from './contact-properties.util';
import type { ContactStore, StoredContact } from './contact-store.service';
import type { SearchIndex } from './search-index.service';
import type { BatchValidationMode } from './simulator-options.schema';

export interface ApiRequest {
  method: string;
  /** Path parameters of the route template, e.g. `id`. */
  params: Record<string, string>;
  query: URLSearchParams;
  /** Parsed JSON body; undefined when there was none. */
  body: unknown;
  /** The server's base URL, for paging links. */
  baseUrl: string;
  /** Real time the request was received (epoch ms). */
  receivedAt: number;
}

/** What the route handlers work on. */
export interface ContactsApiContext {
  store: ContactStore;
  catalog: ContactPropertyCatalog;
  searchIndex: SearchIndex;
  batchValidation: BatchValidationMode;
}

/** Finds an active contact by id or by a unique property; only `email` is unique besides the id. */
export function findByIdProperty(
  store: ContactStore,
  value: string,
  idProperty: string | undefined,
): StoredContact | undefined {
  if (idProperty === 'email') return store.findActiveByEmail(value);
  const contact = store.get(value);
  return contact && !contact.archived ? contact : undefined;
}

export function isSupportedIdProperty(idProperty: string | undefined): boolean {
  return idProperty === undefined || idProperty === 'email' || idProperty === 'hs_object_id';
}
