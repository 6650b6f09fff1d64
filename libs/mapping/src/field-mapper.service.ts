import type { FieldValue, FieldValues } from '@tandem/contracts';
import type { z } from 'zod';
import { FieldMappingSchema, RULE_LABELLED, type FieldMapping } from './field-mapping.schema';
import type { FieldError, MappedValues } from './mapping.error';
import { ruleSteps, type RuleStep } from './rule-step.util';

export type FieldMapperResult = { ok: true; mapper: FieldMapper } | { ok: false; errors: string[] };

/** Zod issues as one line each; rule-level problems already name their rule. */
function formatIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'custom' && issue.params?.[RULE_LABELLED] === true) return issue.message;
  const [index, ...rest] = issue.path;
  if (typeof index !== 'number') return `mapping: ${issue.message}`;
  const where = rest.length > 0 ? ` ${rest.join('.')}` : '';
  return `rule ${index + 1}${where}: ${issue.message}`;
}

function unique(names: Iterable<string>): string[] {
  return [...new Set(names)];
}

/**
 * Maps one system's records to canonical fields (inbound) and canonical fields to the system's (outbound).
 * Partial input gives partial output: a field is written only when every field it is computed from is
 * present, so a change event carrying only some fields maps to exactly the fields it determines.
 */
export class FieldMapper {
  /** Every system field the mapping reads or writes, in rule order. */
  readonly nativeFields: readonly string[];
  /** Every canonical field the mapping reads or writes, in rule order. */
  readonly canonicalFields: readonly string[];
  private readonly inbound: readonly RuleStep[];
  private readonly outbound: readonly RuleStep[];

  private constructor(mapping: FieldMapping) {
    const steps = mapping.map(ruleSteps);
    this.inbound = steps.flatMap((step) => (step.inbound ? [step.inbound] : []));
    this.outbound = steps.flatMap((step) => (step.outbound ? [step.outbound] : []));
    this.nativeFields = unique(
      steps.flatMap(({ inbound, outbound }) => [...(inbound?.reads ?? []), ...(outbound?.writes ?? [])]),
    );
    this.canonicalFields = unique(
      steps.flatMap(({ inbound, outbound }) => [...(inbound?.writes ?? []), ...(outbound?.reads ?? [])]),
    );
  }

  /** Validates a raw configuration (parsed JSON, or a literal in code) and builds its mapper. */
  static fromConfig(raw: unknown): FieldMapperResult {
    const parsed = FieldMappingSchema.safeParse(raw);
    if (!parsed.success) return { ok: false, errors: parsed.error.issues.map(formatIssue) };
    return { ok: true, mapper: new FieldMapper(parsed.data) };
  }

  /** System record (or part of one) → canonical fields, through the rules that map inbound. */
  toCanonical(native: FieldValues): MappedValues {
    return run(this.inbound, native, 'native');
  }

  /** Canonical fields → the system's fields, through the rules that map outbound. */
  toNative(canonical: FieldValues): MappedValues {
    return run(this.outbound, canonical, 'canonical');
  }

  /** Canonical fields whose value depends on any of these system fields. */
  canonicalFieldsAffectedBy(nativeFields: readonly string[]): string[] {
    return affected(this.inbound, nativeFields);
  }

  /** System fields whose value depends on any of these canonical fields. */
  nativeFieldsAffectedBy(canonicalFields: readonly string[]): string[] {
    return affected(this.outbound, canonicalFields);
  }
}

// Runs for every field of every change, command and result: plain loops, and the result built in
// place rather than from an array of entries.
function run(steps: readonly RuleStep[], input: FieldValues, side: 'native' | 'canonical'): MappedValues {
  const values: FieldValues = {};
  const errors: FieldError[] = [];
  for (const step of steps) {
    const { reads, writes } = step;
    // Own properties only: a field called "constructor" must not be read off the prototype.
    if (!reads.every((name) => Object.hasOwn(input, name))) continue;
    const outcome = step.run(reads.map((name) => input[name] ?? null));
    if (outcome.ok) {
      for (let index = 0; index < writes.length; index++) setField(values, writes[index]!, outcome.values[index] ?? null);
      continue;
    }
    const source = `${side} ${reads.map((name) => `'${name}'`).join(', ')}`;
    for (const field of writes) errors.push({ field, code: outcome.code, reason: `${source}: ${outcome.reason}` });
  }
  return { values, errors };
}

/** Defines the field as data, even one named "__proto__", which plain assignment would take as the prototype. */
function setField(values: FieldValues, field: string, value: FieldValue): void {
  if (field === '__proto__') Object.defineProperty(values, field, { value, enumerable: true, writable: true, configurable: true });
  else values[field] = value;
}

function affected(steps: readonly RuleStep[], changed: readonly string[]): string[] {
  const touched = new Set(changed);
  return unique(steps.filter((step) => step.reads.some((name) => touched.has(name))).flatMap((step) => step.writes));
}
