import type { RateLimiter, RateLimitPolicy } from '@tandem/coordination';
import type { z } from 'zod';
import { HubSpotApiError, HubSpotApiErrorCode } from './hubspot-api.error';
import {
  errorFromFetchFailure,
  errorFromResponse,
  parseErrorBody,
  rateLimitBackoffMs,
  rateLimitPolicyOf,
} from './hubspot-failure.util';
import {
  BatchResponseSchema,
  ContactListResponseSchema,
  ContactSearchResponseSchema,
  HubSpotContactSchema,
  type BatchError,
  type HubSpotContact,
} from './hubspot-response.schema';
import { hubSpotLimits, type HubSpotLimits, type HubSpotSettings } from './hubspot-settings.schema';

const CONTACTS_PATH = '/crm/v3/objects/contacts';
/** HubSpot's limit on inputs per batch call. */
export const BATCH_LIMIT = 100;
/** Inputs per batch read that asks for property history; whether HubSpot allows more is not certain. */
const HISTORY_BATCH_LIMIT = 50;
const LIST_PAGE_LIMIT = 100;
const DEFAULT_RATE_LIMIT_MARGIN_MS = 500;

/** Property values as HubSpot takes them: strings, or null to clear. */
export type HubSpotProperties = Record<string, string | null>;

export interface HubSpotClientOptions {
  baseUrl: string;
  accessToken: string;
  /** The portal id; its rate limits are shared by every replica under keys derived from it. */
  accountId: string;
  rateLimiter: RateLimiter;
  limits: HubSpotLimits;
  requestTimeoutMs: number;
  /** 429s retried (after backing off) before a call fails with RATE_LIMITED; default 3. */
  maxRateLimitRetries?: number;
  /**
   * Added to each limit's window; default 500 ms. Grants are counted when taken, HubSpot counts
   * requests when they arrive, and the time between varies (a new connection, a busy event loop):
   * without a margin, a slow first request and a fast later one can land in one window together.
   */
  rateLimitMarginMs?: number;
  fetch?: typeof fetch;
}

export interface ContactPage {
  results: HubSpotContact[];
  /** The cursor for the next page, or null on the last one. */
  after: string | null;
}

export interface BatchReadResult {
  results: HubSpotContact[];
  /** Requested ids (or idProperty values) HubSpot does not have. */
  missing: string[];
}

export interface BatchWriteResult {
  /** The contacts written, as HubSpot now holds them; not necessarily in input order. */
  results: HubSpotContact[];
  /** Per-input failures of a partially failed (207) batch. */
  errors: BatchError[];
}

export type SearchOperator = 'EQ' | 'NEQ' | 'LT' | 'LTE' | 'GT' | 'GTE' | 'HAS_PROPERTY' | 'NOT_HAS_PROPERTY' | 'IN';

export interface ContactSearchRequest {
  filterGroups: Array<{ filters: Array<{ propertyName: string; operator: SearchOperator; value?: string; values?: string[] }> }>;
  sorts?: Array<{ propertyName: string; direction: 'ASCENDING' | 'DESCENDING' }>;
  properties: string[];
  /** At most 200. */
  limit?: number;
  after?: string;
}

export interface ContactSearchPage extends ContactPage {
  total: number;
}

interface RequestSpec<S extends z.ZodType | null> {
  method: 'GET' | 'POST';
  path: string;
  query?: Record<string, string | undefined>;
  body?: unknown;
  schema: S;
  search?: boolean;
  /** Answer a 404 with null instead of throwing. */
  allowNotFound?: boolean;
  beforeSend?: BeforeSend | undefined;
}

/**
 * Called before each request of a call goes out (a 429 retry sends again), with the latest time
 * its answer can come (the request timeout): what the request does, HubSpot does by then.
 */
export type BeforeSend = (answeredBy: number) => Promise<void>;

/**
 * HubSpot CRM v3 contacts. Every call first takes a grant from the account's shared rate limiter
 * (search also from its own), so all replicas together stay under the account's limit. A 429 blocks
 * the shared key for every replica and is retried a bounded number of times; 5xx, timeouts
 * and connection failures are thrown at once as retryable, for a circuit breaker above to count.
 */
export class HubSpotClient {
  private readonly baseUrl: string;
  private readonly fetchFn: typeof fetch;
  private readonly maxRateLimitRetries: number;
  private readonly accountKey: string;
  private readonly searchKey: string;
  private readonly requestPolicy: RateLimitPolicy;
  private readonly searchPolicy: RateLimitPolicy;

  constructor(private readonly options: HubSpotClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.fetchFn = options.fetch ?? fetch;
    this.maxRateLimitRetries = options.maxRateLimitRetries ?? 3;
    this.accountKey = `hubspot:${options.accountId}`;
    this.searchKey = `hubspot:${options.accountId}:search`;
    const marginMs = options.rateLimitMarginMs ?? DEFAULT_RATE_LIMIT_MARGIN_MS;
    this.requestPolicy = { ...options.limits.requests, windowMs: options.limits.requests.windowMs + marginMs };
    this.searchPolicy = { ...options.limits.search, windowMs: options.limits.search.windowMs + marginMs };
  }

  /** A client for a linked system's parsed settings; secrets come from the service's own configuration. */
  static fromSettings(
    settings: HubSpotSettings,
    secrets: { accessToken: string; rateLimiter: RateLimiter; fetch?: typeof fetch },
  ): HubSpotClient {
    return new HubSpotClient({
      baseUrl: settings.baseUrl,
      accountId: settings.accountId,
      requestTimeoutMs: settings.requestTimeoutMs,
      limits: hubSpotLimits(settings),
      ...secrets,
    });
  }

  get accountId(): string {
    return this.options.accountId;
  }

  async listContacts({
    after,
    limit = LIST_PAGE_LIMIT,
    properties,
    archived = false,
  }: {
    after?: string | null;
    limit?: number;
    properties: readonly string[];
    archived?: boolean;
  }): Promise<ContactPage> {
    const page = await this.request({
      method: 'GET',
      path: CONTACTS_PATH,
      query: {
        limit: String(Math.min(limit, LIST_PAGE_LIMIT)),
        after: after ?? undefined,
        properties: propertyList(properties),
        archived: String(archived),
      },
      schema: ContactListResponseSchema,
    });
    return { results: page.results, after: page.paging?.next?.after ?? null };
  }

  /** The contact, or null when HubSpot does not have it (or it is archived and `archived` is not set). */
  async getContact(
    id: string,
    { properties, archived = false }: { properties: readonly string[]; archived?: boolean },
  ): Promise<HubSpotContact | null> {
    return this.request({
      method: 'GET',
      path: `${CONTACTS_PATH}/${encodeURIComponent(id)}`,
      query: { properties: propertyList(properties), archived: String(archived) },
      schema: HubSpotContactSchema,
      allowNotFound: true,
    });
  }

  /**
   * Reads contacts by id (or by `idProperty`, e.g. email), 100 per call, or 50 with the history of
   * `propertiesWithHistory` (HubSpot reads fewer objects per request then); unknown ones are listed in `missing`.
   */
  async batchRead(
    ids: readonly string[],
    properties: readonly string[],
    { archived = false, idProperty, propertiesWithHistory = [] }: { archived?: boolean; idProperty?: string; propertiesWithHistory?: readonly string[] } = {},
  ): Promise<BatchReadResult> {
    const results: HubSpotContact[] = [];
    for (const chunk of chunks(ids, propertiesWithHistory.length > 0 ? HISTORY_BATCH_LIMIT : BATCH_LIMIT)) {
      const response = await this.request({
        method: 'POST',
        path: `${CONTACTS_PATH}/batch/read`,
        query: { archived: String(archived) },
        body: {
          inputs: chunk.map((id) => ({ id })),
          properties: idProperty && !properties.includes(idProperty) ? [...properties, idProperty] : properties,
          ...(idProperty ? { idProperty } : {}),
          ...(propertiesWithHistory.length > 0 ? { propertiesWithHistory } : {}),
        },
        schema: BatchResponseSchema,
        // All of them unknown may come back as a 404 rather than a 207.
        allowNotFound: true,
      });
      results.push(...(response?.results ?? []));
    }
    // Found ones are matched on their id (or idProperty value, case-insensitively: emails are).
    const found = new Set(results.map((contact) => readKey(contact, idProperty)));
    return { results, missing: ids.filter((id) => !found.has(id.toLowerCase())) };
  }

  batchCreate(inputs: ReadonlyArray<{ properties: HubSpotProperties }>): Promise<BatchWriteResult> {
    return this.batchWrite('create', inputs);
  }

  batchUpdate(inputs: ReadonlyArray<{ id: string; properties: HubSpotProperties }>): Promise<BatchWriteResult> {
    return this.batchWrite('update', inputs);
  }

  /** Creates or updates by email: a retry of the same input never makes a second contact. */
  batchUpsert(inputs: ReadonlyArray<{ email: string; properties: HubSpotProperties }>): Promise<BatchWriteResult> {
    return this.batchWrite(
      'upsert',
      inputs.map(({ email, properties }) => ({ id: email, idProperty: 'email', properties })),
    );
  }

  /**
   * Archives (soft-deletes) contacts, 100 per call; unknown or already archived ids are fine.
   * `beforeSend` lets a caller note, before each request, when its archives are done by.
   */
  async batchArchive(ids: readonly string[], beforeSend?: BeforeSend): Promise<void> {
    for (const chunk of chunks(ids, BATCH_LIMIT)) {
      await this.request({
        method: 'POST',
        path: `${CONTACTS_PATH}/batch/archive`,
        body: { inputs: chunk.map((id) => ({ id })) },
        schema: null,
        beforeSend,
      });
    }
  }

  async searchContacts(request: ContactSearchRequest): Promise<ContactSearchPage> {
    const page = await this.request({
      method: 'POST',
      path: `${CONTACTS_PATH}/search`,
      body: request,
      schema: ContactSearchResponseSchema,
      search: true,
    });
    return { total: page.total, results: page.results, after: page.paging?.next?.after ?? null };
  }

  /** The cheapest call that proves HubSpot answers this token: a one-contact page. */
  async probe(): Promise<void> {
    await this.listContacts({ limit: 1, properties: [] });
  }

  private async batchWrite(kind: 'create' | 'update' | 'upsert', inputs: readonly unknown[]): Promise<BatchWriteResult> {
    const merged: BatchWriteResult = { results: [], errors: [] };
    for (const chunk of chunks(inputs, BATCH_LIMIT)) {
      const response = await this.request({
        method: 'POST',
        path: `${CONTACTS_PATH}/batch/${kind}`,
        body: { inputs: chunk },
        schema: BatchResponseSchema,
      });
      merged.results.push(...response.results);
      merged.errors.push(...(response.errors ?? []));
    }
    return merged;
  }

  private request<S extends z.ZodType>(spec: RequestSpec<S> & { allowNotFound: true }): Promise<z.infer<S> | null>;
  private request<S extends z.ZodType>(spec: RequestSpec<S>): Promise<z.infer<S>>;
  private request(spec: RequestSpec<null>): Promise<void>;
  private async request(spec: RequestSpec<z.ZodType | null>): Promise<unknown> {
    const doing = `${spec.method} ${spec.path}`;
    for (let attempt = 0; ; attempt += 1) {
      await this.acquire(spec.search === true);
      await spec.beforeSend?.(Date.now() + this.options.requestTimeoutMs);
      const { status, retryAfter, text } = await this.send(spec, doing);
      if (status >= 200 && status < 300) return spec.schema === null ? undefined : parseBody(spec.schema, text, doing, status);
      if (status === 404 && spec.allowNotFound) return null;
      const body = parseErrorBody(text);
      if (status === 429 && rateLimitPolicyOf(body) !== 'DAILY') {
        // Every replica holds off (for Retry-After, else a whole window), not only this one.
        const key = spec.search ? this.searchKey : this.accountKey;
        const policy = spec.search ? this.searchPolicy : this.requestPolicy;
        await this.options.rateLimiter.penalize(key, rateLimitBackoffMs(retryAfter, policy.windowMs));
        if (attempt < this.maxRateLimitRetries) continue;
      }
      const error = errorFromResponse(status, body, doing);
      if (error.code === HubSpotApiErrorCode.DailyLimit) {
        throw new HubSpotApiError(
          error.code,
          `${error.message} (the account's daily allowance of ${this.options.limits.daily} requests; resets at midnight in the account's time zone)`,
          { status, category: error.category, correlationId: error.correlationId, cause: error },
        );
      }
      throw error;
    }
  }

  private async acquire(search: boolean): Promise<void> {
    const { rateLimiter } = this.options;
    if (search) await rateLimiter.acquire(this.searchKey, this.searchPolicy);
    await rateLimiter.acquire(this.accountKey, this.requestPolicy);
  }

  private async send(spec: RequestSpec<z.ZodType | null>, doing: string): Promise<{ status: number; retryAfter: string | null; text: string }> {
    const url = new URL(this.baseUrl + spec.path);
    for (const [name, value] of Object.entries(spec.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, value);
    }
    const headers: Record<string, string> = { authorization: `Bearer ${this.options.accessToken}`, accept: 'application/json' };
    if (spec.body !== undefined) headers['content-type'] = 'application/json';
    try {
      // The timeout covers reading the body too.
      const response = await this.fetchFn(url, {
        method: spec.method,
        headers,
        ...(spec.body === undefined ? {} : { body: JSON.stringify(spec.body) }),
        signal: AbortSignal.timeout(this.options.requestTimeoutMs),
      });
      return { status: response.status, retryAfter: response.headers.get('retry-after'), text: await response.text() };
    } catch (error) {
      throw errorFromFetchFailure(error, doing, this.options.requestTimeoutMs);
    }
  }
}

function parseBody<S extends z.ZodType>(schema: S, text: string, doing: string, status: number): z.infer<S> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new HubSpotApiError(HubSpotApiErrorCode.MalformedResponse, `${doing}: the ${status} answer is not JSON`, { status, cause: error });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.slice(0, 5).map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`);
    throw new HubSpotApiError(
      HubSpotApiErrorCode.MalformedResponse,
      `${doing}: unexpected ${status} answer: ${problems.join('; ')}`,
      { status, cause: parsed.error },
    );
  }
  return parsed.data;
}

/** Left out when empty: HubSpot then returns its default properties. */
function propertyList(properties: readonly string[]): string | undefined {
  return properties.length === 0 ? undefined : properties.join(',');
}

function readKey(contact: HubSpotContact, idProperty: string | undefined): string {
  return (idProperty ? (contact.properties[idProperty] ?? '') : contact.id).toLowerCase();
}

export function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += size) result.push(items.slice(start, start + size));
  return result;
}
