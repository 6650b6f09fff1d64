import type { ApiAnswer } from './api-answer.util';
import type { ApiRequest, ContactsApiContext } from './api-request.interface';
import { BatchApi } from './batch-api.service';
import { ContactsApi } from './contacts-api.service';
import { SearchApi } from './search-api.service';

export const API_PREFIX = '/crm/v3/';
const CONTACTS = '/crm/v3/objects/contacts';

export interface ApiRoute {
  /** 'METHOD /path-template', the key calls are counted under. */
  key: string;
  /** Search has its own rate limit and no rate-limit headers. */
  isSearch: boolean;
  handle: (request: ApiRequest) => ApiAnswer;
}

interface RouteDefinition {
  method: string;
  template: string;
  handle: (request: ApiRequest) => ApiAnswer;
}

export type RouteMatch = { route: ApiRoute; params: Record<string, string> };

/** The contacts endpoints, matched by method and path template; literal paths win over `{id}`. */
export class ApiRoutes {
  private readonly definitions: RouteDefinition[];

  constructor(context: ContactsApiContext) {
    const contacts = new ContactsApi(context);
    const batch = new BatchApi(context);
    const search = new SearchApi(context);
    this.definitions = [
      { method: 'GET', template: CONTACTS, handle: (request) => contacts.list(request) },
      { method: 'POST', template: CONTACTS, handle: (request) => contacts.create(request) },
      { method: 'POST', template: `${CONTACTS}/search`, handle: (request) => search.search(request) },
      { method: 'POST', template: `${CONTACTS}/batch/read`, handle: (request) => batch.read(request) },
      { method: 'POST', template: `${CONTACTS}/batch/create`, handle: (request) => batch.create(request) },
      { method: 'POST', template: `${CONTACTS}/batch/update`, handle: (request) => batch.update(request) },
      { method: 'POST', template: `${CONTACTS}/batch/upsert`, handle: (request) => batch.upsert(request) },
      { method: 'POST', template: `${CONTACTS}/batch/archive`, handle: (request) => batch.archive(request) },
      { method: 'GET', template: `${CONTACTS}/{id}`, handle: (request) => contacts.read(request) },
      { method: 'PATCH', template: `${CONTACTS}/{id}`, handle: (request) => contacts.update(request) },
      { method: 'DELETE', template: `${CONTACTS}/{id}`, handle: (request) => contacts.archive(request) },
    ];
  }

  match(method: string, path: string): RouteMatch | null {
    const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
    for (const definition of this.definitions) {
      if (definition.method !== method) continue;
      const params = matchTemplate(definition.template, trimmed);
      if (params) {
        const key = `${definition.method} ${definition.template}`;
        return { route: { key, isSearch: definition.template.endsWith('/search'), handle: definition.handle }, params };
      }
    }
    return null;
  }
}

function matchTemplate(template: string, path: string): Record<string, string> | null {
  const expected = template.split('/');
  const actual = path.split('/');
  if (expected.length !== actual.length) return null;
  const params: Record<string, string> = {};
  for (const [index, part] of expected.entries()) {
    const value = actual[index] ?? '';
    if (part.startsWith('{') && part.endsWith('}')) {
      const decoded = safeDecode(value);
      if (decoded === null || decoded === '') return null;
      params[part.slice(1, -1)] = decoded;
    } else if (part !== value) return null;
  }
  return params;
}

function safeDecode(value: string): string | null {
  try {
    return decodeURIComponent(value);
  } catch {
    return null;
  }
}
