import type { ApiPropertyVersion } from './contact-representation.util';
import type { HubSpotSimulator } from './hubspot-simulator.service';

/** The response shapes of the contract, as the specs read them. */
export interface ContactBody {
  id: string;
  properties: Record<string, string | null>;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
  archivedAt?: string;
  propertiesWithHistory?: Record<string, ApiPropertyVersion[]>;
  new?: boolean;
}

export interface ErrorBody {
  status: 'error';
  message: string;
  category?: string;
  correlationId: string;
  errorType?: string;
  policyName?: string;
  context?: Record<string, string[]>;
  errors?: Array<{ message: string; in?: string; code?: string }>;
}

export interface BatchErrorBody {
  status: 'error';
  category: string;
  message: string;
  context: Record<string, string[]>;
  errors: Array<{ message: string; in?: string }>;
}

export interface BatchBody {
  status: 'COMPLETE';
  results: ContactBody[];
  startedAt: string;
  completedAt: string;
  numErrors?: number;
  errors?: BatchErrorBody[];
}

export interface PageBody {
  results: ContactBody[];
  paging?: { next: { after: string; link?: string } };
}

export interface SearchBody extends PageBody {
  total: number;
}

export interface ApiResponse<T> {
  status: number;
  headers: Headers;
  body: T;
}

/** Plain fetch calls against a simulator, as any HTTP client would make them. */
export function apiClient(simulator: HubSpotSimulator, token: string | null = simulator.options.accessToken) {
  return async function call<T>(method: string, path: string, body?: unknown): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (token !== null) headers.Authorization = `Bearer ${token}`;
    const response = await fetch(`${simulator.url}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: (text === '' ? undefined : JSON.parse(text)) as T };
  };
}

export type ApiCall = ReturnType<typeof apiClient>;

export const CONTACTS_PATH = '/crm/v3/objects/contacts';
