import type { FieldValue } from '@tandem/contracts';
import type { Condition, EnumTransform, Transform } from './field-mapping.schema';
import { FieldErrorCode } from './mapping.error';

export type ValueOutcome =
  | { ok: true; value: FieldValue }
  | { ok: false; code: FieldErrorCode; reason: string };

export type ValuesOutcome =
  | { ok: true; values: FieldValue[] }
  | { ok: false; code: FieldErrorCode; reason: string };

const ok = (value: FieldValue): ValueOutcome => ({ ok: true, value });
const fail = (code: FieldErrorCode, reason: string) => ({ ok: false, code, reason }) as const;

/** A short, quoted rendering of a value for error messages; long values are cut. */
export function describeValue(value: FieldValue): string {
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

function toNumber(value: FieldValue): ValueOutcome {
  let parsed: number;
  if (typeof value === 'number') {
    parsed = value;
  } else if (typeof value === 'string') {
    const text = value.trim();
    // A blank string in a numeric field means "no value", not zero.
    if (text === '') return ok(null);
    parsed = DECIMAL.test(text) ? Number(text) : Number.NaN;
  } else {
    return fail(FieldErrorCode.WrongType, `${describeValue(value)} is neither a number nor a string`);
  }
  if (!Number.isFinite(parsed)) return fail(FieldErrorCode.NotANumber, `${describeValue(value)} is not a number`);
  // -0 would not survive the trip back through a string, so it is read as 0.
  return ok(parsed === 0 ? 0 : parsed);
}

function toText(value: FieldValue): ValueOutcome {
  if (typeof value !== 'number') return fail(FieldErrorCode.WrongType, `${describeValue(value)} is not a number`);
  return ok(String(value));
}

function mapCase(value: FieldValue, convert: (text: string) => string): ValueOutcome {
  if (typeof value !== 'string') return fail(FieldErrorCode.WrongType, `${describeValue(value)} is not a string`);
  return ok(convert(value));
}

function enumForward(transform: EnumTransform, value: FieldValue): ValueOutcome {
  if (typeof value !== 'string') return fail(FieldErrorCode.WrongType, `${describeValue(value)} is not a string`);
  if (Object.hasOwn(transform.values, value)) return ok(transform.values[value] ?? null);
  if (transform.default !== undefined) return ok(transform.default);
  return fail(FieldErrorCode.UnmappedValue, `${describeValue(value)} is not one of the enum's values`);
}

function enumInverse(transform: EnumTransform, value: FieldValue): ValueOutcome {
  const entry = Object.entries(transform.values).find(([, canonical]) => canonical === value);
  if (entry) return ok(entry[0]);
  return fail(FieldErrorCode.UnmappedValue, `${describeValue(value)} is not one of the enum's values`);
}

function applyOne(transform: Transform, value: FieldValue): ValueOutcome {
  switch (transform.type) {
    case 'trim':
      return mapCase(value, (text) => text.trim());
    case 'lowercase':
      return mapCase(value, (text) => text.toLowerCase());
    case 'uppercase':
      return mapCase(value, (text) => text.toUpperCase());
    case 'toNumber':
      return toNumber(value);
    case 'toString':
      return toText(value);
    case 'enum':
      return enumForward(transform, value);
  }
}

function invertOne(transform: Transform, value: FieldValue): ValueOutcome {
  switch (transform.type) {
    // Normalizations: the canonical value is already the normalized one, so it goes out as is.
    case 'trim':
    case 'lowercase':
    case 'uppercase':
      return ok(value);
    case 'toNumber':
      return toText(value);
    case 'toString':
      return toNumber(value);
    case 'enum':
      return enumInverse(transform, value);
  }
}

// null means "empty" everywhere, so every transform and its inverse pass it through.
function chain(steps: readonly Transform[], value: FieldValue, step: typeof applyOne): ValueOutcome {
  let current: ValueOutcome = ok(value);
  for (const transform of steps) {
    if (!current.ok || current.value === null) return current;
    current = step(transform, current.value);
  }
  return current;
}

/** System value → canonical value: the transforms in order. */
export function applyTransforms(transforms: readonly Transform[], value: FieldValue): ValueOutcome {
  return chain(transforms, value, applyOne);
}

/** Canonical value → system value: the inverses in reverse order. */
export function invertTransforms(transforms: readonly Transform[], value: FieldValue): ValueOutcome {
  return chain([...transforms].reverse(), value, invertOne);
}

type ValueKind = 'string' | 'number' | 'any';

function enumOutputKind(transform: EnumTransform): ValueKind {
  const outputs = Object.values(transform.values);
  if (transform.default !== undefined) outputs.push(transform.default);
  if (outputs.every((value) => typeof value === 'string')) return 'string';
  if (outputs.every((value) => typeof value === 'number')) return 'number';
  return 'any';
}

const KIND_IN: Record<Transform['type'], ValueKind> = {
  trim: 'string',
  lowercase: 'string',
  uppercase: 'string',
  toNumber: 'any',
  toString: 'number',
  enum: 'string',
};

function kindOut(transform: Transform): ValueKind {
  switch (transform.type) {
    case 'toNumber':
      return 'number';
    case 'enum':
      return enumOutputKind(transform);
    default:
      return 'string';
  }
}

/** Transforms whose input can never be what the transform before them yields, e.g. trim after toNumber. */
export function chainTypeProblems(transforms: readonly Transform[]): string[] {
  const problems: string[] = [];
  transforms.forEach((transform, index) => {
    const previous = transforms[index - 1];
    if (!previous) return;
    const expected = KIND_IN[transform.type];
    const given = kindOut(previous);
    if (expected !== 'any' && given !== 'any' && expected !== given) {
      problems.push(
        `transform ${index + 1} ('${transform.type}') expects a ${expected} but '${previous.type}' before it yields a ${given}`,
      );
    }
  });
  return problems;
}

const quote = (value: FieldValue): string => (typeof value === 'string' ? `'${value}'` : String(value));

function listOf(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

/** Why a transform cannot be undone, or undefined when it can. */
export function inverseProblem(transform: Transform): string | undefined {
  if (transform.type !== 'enum') return undefined;
  if (transform.default !== undefined) {
    return `enum default ${quote(transform.default)} stands for every unlisted value, so it has no inverse`;
  }
  const byCanonical = new Map<string, string[]>();
  for (const [native, canonical] of Object.entries(transform.values)) {
    // Keyed by type too, so that 1 and '1' stay distinct canonical values.
    const key = `${typeof canonical}:${String(canonical)}`;
    byCanonical.set(key, [...(byCanonical.get(key) ?? []), native]);
  }
  for (const natives of byCanonical.values()) {
    const first = natives[0];
    if (natives.length > 1 && first !== undefined) {
      const canonical = transform.values[first] ?? null;
      return `enum maps ${listOf(natives.map(quote))} to ${quote(canonical)}, so it has no inverse`;
    }
  }
  return undefined;
}

function tokens(text: string, separator: string): string[] {
  return text
    .split(separator)
    .map((token) => token.trim())
    .filter((token) => token !== '');
}

/**
 * One value → `parts` values: the first parts-1 tokens one each, the remaining tokens (re-joined) in the
 * last part; missing parts are null. "Mary Ann Smith" → "Mary", "Ann Smith".
 */
export function splitValue(value: FieldValue, separator: string, parts: number): ValuesOutcome {
  if (value === null) return { ok: true, values: Array<FieldValue>(parts).fill(null) };
  if (typeof value !== 'string') return fail(FieldErrorCode.WrongType, `${describeValue(value)} is not a string`);
  const all = tokens(value, separator);
  const head: FieldValue[] = all.slice(0, parts - 1);
  while (head.length < parts - 1) head.push(null);
  const rest = all.slice(parts - 1);
  return { ok: true, values: [...head, rest.length > 0 ? rest.join(separator) : null] };
}

/**
 * Several values → one: their tokens joined by the separator, empty parts skipped, null when nothing is
 * left. Re-tokenizing the parts makes split(join(x)) reach a fixed point after one round.
 */
export function joinValues(values: readonly FieldValue[], separator: string): ValueOutcome {
  const texts: string[] = [];
  for (const value of values) {
    if (value === null) continue;
    if (typeof value !== 'string') return fail(FieldErrorCode.WrongType, `${describeValue(value)} is not a string`);
    texts.push(...tokens(value, separator));
  }
  return ok(texts.length > 0 ? texts.join(separator) : null);
}

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/** The field names a template refers to, in order of first use. */
export function templateFields(template: string): string[] {
  return [...new Set([...template.matchAll(PLACEHOLDER)].map((match) => match[1] ?? ''))];
}

/** Text left over that looks like a placeholder but is not a valid one, e.g. `{{first name}}`. */
export function hasMalformedPlaceholder(template: string): boolean {
  const rest = template.replace(PLACEHOLDER, '');
  return rest.includes('{{') || rest.includes('}}');
}

/** Fills `{{field}}` placeholders (null as empty); the trimmed result, or null when blank. */
export function renderTemplate(template: string, read: (field: string) => FieldValue): FieldValue {
  const text = template.replace(PLACEHOLDER, (_match, field: string) => {
    const value = read(field);
    return value === null ? '' : String(value);
  });
  const trimmed = text.trim();
  return trimmed === '' ? null : trimmed;
}

function isEmpty(value: FieldValue): boolean {
  return value === null || (typeof value === 'string' && value.trim() === '');
}

function compare<T extends string | number>(op: 'gt' | 'gte' | 'lt' | 'lte', value: T, limit: T): boolean {
  switch (op) {
    case 'gt':
      return value > limit;
    case 'gte':
      return value >= limit;
    case 'lt':
      return value < limit;
    case 'lte':
      return value <= limit;
  }
}

/** Ordering compares only like with like; a value of another type (or null) never matches. */
export function conditionHolds(condition: Condition, value: FieldValue): boolean {
  switch (condition.op) {
    case 'empty':
      return isEmpty(value);
    case 'not_empty':
      return !isEmpty(value);
    case 'eq':
      return value === condition.value;
    case 'neq':
      return value !== condition.value;
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const limit = condition.value;
      if (typeof value === 'number' && typeof limit === 'number') return compare(condition.op, value, limit);
      if (typeof value === 'string' && typeof limit === 'string') return compare(condition.op, value, limit);
      return false;
    }
  }
}
