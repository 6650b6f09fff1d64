import { z } from 'zod';
import type { ContactProperties } from './contact-properties.util';
import type { StoredContact } from './contact-store.service';

const SEARCH_MAX_LIMIT = 200;
/** No query pages past this many results. */
export const SEARCH_MAX_RESULTS = 10_000;
const MAX_FILTER_GROUPS = 5;
const MAX_FILTERS_PER_GROUP = 6;
const MAX_FILTERS = 18;
const DATE_PROPERTIES = new Set(['createdate', 'lastmodifieddate', 'date_of_birth']);

const scalar = z.union([z.string(), z.number(), z.boolean()]).transform(String);

const FilterSchema = z.object({
  propertyName: z.string().min(1),
  operator: z.enum([
    'EQ',
    'NEQ',
    'LT',
    'LTE',
    'GT',
    'GTE',
    'BETWEEN',
    'IN',
    'NOT_IN',
    'HAS_PROPERTY',
    'NOT_HAS_PROPERTY',
    'CONTAINS_TOKEN',
    'NOT_CONTAINS_TOKEN',
  ]),
  value: scalar.optional(),
  highValue: scalar.optional(),
  values: z.array(scalar).optional(),
});

export const SearchRequestSchema = z.object({
  query: z.string().optional(),
  filterGroups: z
    .array(z.object({ filters: z.array(FilterSchema).max(MAX_FILTERS_PER_GROUP) }))
    .max(MAX_FILTER_GROUPS)
    .default([]),
  sorts: z
    .array(
      z.union([
        z.object({ propertyName: z.string().min(1), direction: z.enum(['ASCENDING', 'DESCENDING']).default('ASCENDING') }),
        // A bare property name sorts ascending, as HubSpot accepts.
        z.string().min(1).transform((propertyName) => ({ propertyName, direction: 'ASCENDING' as const })),
      ]),
    )
    .max(1, 'only one sort is supported')
    .default([]),
  properties: z.array(z.string()).optional(),
  limit: z.number().int().min(1).max(SEARCH_MAX_LIMIT).default(10),
  after: z
    .union([z.string().regex(/^\d+$/, 'after must be a non-negative integer'), z.number().int().nonnegative()])
    .transform(Number)
    .default(0),
});

export type SearchRequest = z.infer<typeof SearchRequestSchema>;
type Filter = z.infer<typeof FilterSchema>;

/** Problems z.object limits cannot express, as messages; empty when the request is usable. */
export function searchRequestProblems(request: SearchRequest): string[] {
  const problems: string[] = [];
  const filterCount = request.filterGroups.reduce((sum, group) => sum + group.filters.length, 0);
  if (filterCount > MAX_FILTERS) problems.push(`at most ${MAX_FILTERS} filters are allowed, got ${filterCount}`);
  request.filterGroups.forEach((group, groupIndex) =>
    group.filters.forEach((filter, filterIndex) => {
      const where = `filterGroups[${groupIndex}].filters[${filterIndex}] (${filter.operator})`;
      if (['IN', 'NOT_IN'].includes(filter.operator) && !filter.values) problems.push(`${where} needs values`);
      else if (filter.operator === 'BETWEEN' && (filter.value === undefined || filter.highValue === undefined)) {
        problems.push(`${where} needs value and highValue`);
      } else if (
        !['IN', 'NOT_IN', 'HAS_PROPERTY', 'NOT_HAS_PROPERTY'].includes(filter.operator) &&
        filter.value === undefined
      ) {
        problems.push(`${where} needs a value`);
      }
    }),
  );
  return problems;
}

/** Filter groups are ORed, the filters of a group ANDed; no groups matches everything. */
export function matchesSearch(contact: StoredContact, request: SearchRequest): boolean {
  if (request.query && !matchesQuery(contact.properties, request.query)) return false;
  if (request.filterGroups.length === 0) return true;
  return request.filterGroups.some((group) => group.filters.every((filter) => matchesFilter(contact.properties, filter)));
}

/** Sorted by the requested property (missing values last), ties by id, so paging is stable. */
export function compareForSearch(request: SearchRequest): (a: StoredContact, b: StoredContact) => number {
  const sort = request.sorts[0];
  const byId = (a: StoredContact, b: StoredContact): number => Number(a.id) - Number(b.id);
  if (!sort) return byId;
  const sign = sort.direction === 'DESCENDING' ? -1 : 1;
  return (a, b) => {
    const left = a.properties[sort.propertyName] ?? null;
    const right = b.properties[sort.propertyName] ?? null;
    if (left === null || right === null) {
      if (left === right) return byId(a, b);
      return left === null ? 1 : -1;
    }
    return sign * compareValues(sort.propertyName, left, right) || byId(a, b);
  };
}

function matchesQuery(properties: ContactProperties, query: string): boolean {
  const needle = query.trim().toLowerCase();
  return ['email', 'firstname', 'lastname', 'phone', 'company', 'website'].some((name) =>
    (properties[name] ?? '').toLowerCase().includes(needle),
  );
}

function matchesFilter(properties: ContactProperties, filter: Filter): boolean {
  const raw = properties[filter.propertyName] ?? null;
  const has = raw !== null && raw !== '';
  const compare = (other: string): number => compareValues(filter.propertyName, raw ?? '', other);
  const value = filter.value ?? '';
  switch (filter.operator) {
    case 'HAS_PROPERTY':
      return has;
    case 'NOT_HAS_PROPERTY':
      return !has;
    case 'EQ':
      return has && compare(value) === 0;
    case 'NEQ':
      return !has || compare(value) !== 0;
    case 'LT':
      return has && compare(value) < 0;
    case 'LTE':
      return has && compare(value) <= 0;
    case 'GT':
      return has && compare(value) > 0;
    case 'GTE':
      return has && compare(value) >= 0;
    case 'BETWEEN':
      return has && compare(value) >= 0 && compare(filter.highValue ?? '') <= 0;
    case 'IN':
      return has && (filter.values ?? []).some((candidate) => compare(candidate) === 0);
    case 'NOT_IN':
      return !has || (filter.values ?? []).every((candidate) => compare(candidate) !== 0);
    case 'CONTAINS_TOKEN':
      return has && containsToken(raw ?? '', value);
    case 'NOT_CONTAINS_TOKEN':
      return !has || !containsToken(raw ?? '', value);
    default: {
      const unknownOperator: never = filter.operator;
      throw new Error(`unhandled search operator ${String(unknownOperator)}`);
    }
  }
}

/**
 * Dates compare as epoch ms (filter values may be epoch ms or ISO), numbers numerically, anything else
 * as case-insensitive text.
 */
function compareValues(propertyName: string, left: string, right: string): number {
  if (DATE_PROPERTIES.has(propertyName)) {
    const l = toEpochMs(left);
    const r = toEpochMs(right);
    if (l !== null && r !== null) return Math.sign(l - r);
  }
  const ln = Number(left);
  const rn = Number(right);
  if (left.trim() !== '' && right.trim() !== '' && Number.isFinite(ln) && Number.isFinite(rn)) return Math.sign(ln - rn);
  const l = left.toLowerCase();
  const r = right.toLowerCase();
  return l < r ? -1 : l > r ? 1 : 0;
}

function toEpochMs(value: string): number | null {
  if (/^-?\d+$/.test(value.trim())) return Number(value);
  const parsed = Date.parse(value);
  return Number.isNaN(parsed) ? null : parsed;
}

/** Tokens are words; a trailing or leading '*' matches part of a word. */
function containsToken(value: string, token: string): boolean {
  const pattern = token.toLowerCase().replace(/^\*|\*$/g, '');
  const words = value.toLowerCase().split(/[\s@.,;:_\-/]+/);
  if (token.startsWith('*') || token.endsWith('*')) return value.toLowerCase().includes(pattern);
  return words.includes(pattern) || value.toLowerCase() === pattern;
}
