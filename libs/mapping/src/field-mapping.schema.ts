import { z } from 'zod';
import { FieldNameSchema } from '@tandem/contracts';
import { ruleSteps } from './rule-step.util';
import { chainTypeProblems, hasMalformedPlaceholder, inverseProblem, templateFields } from './transform.util';

const ScalarSchema = z.union([z.string(), z.number(), z.boolean(), z.null()], {
  error: 'must be a string, number, boolean or null',
});
const EnumValueSchema = z.union([z.string(), z.number(), z.boolean()], {
  error: 'must be a string, number or boolean',
});

/**
 * `both`: system ↔ canonical; `inbound`: system → canonical only; `outbound`: canonical → system only.
 * Two-way is the default because most fields are plain renames.
 */
const DirectionSchema = z.enum(['both', 'inbound', 'outbound']).default('both');

const EnumTransformSchema = z.strictObject({
  type: z.literal('enum'),
  /** System value → canonical value. */
  values: z
    .record(z.string(), EnumValueSchema)
    .refine((values) => Object.keys(values).length > 0, 'must map at least one value'),
  /** Canonical value for system values not listed; makes the enum one-way. */
  default: EnumValueSchema.optional(),
});
export type EnumTransform = z.infer<typeof EnumTransformSchema>;

/** Applied system → canonical in order; canonical → system applies the inverses in reverse order. */
export const TransformSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('trim') }),
  z.strictObject({ type: z.literal('lowercase') }),
  z.strictObject({ type: z.literal('uppercase') }),
  z.strictObject({ type: z.literal('toNumber') }),
  z.strictObject({ type: z.literal('toString') }),
  EnumTransformSchema,
]);
export type Transform = z.infer<typeof TransformSchema>;

const ConditionSchema = z.discriminatedUnion('op', [
  z.strictObject({ field: FieldNameSchema, op: z.enum(['empty', 'not_empty']) }),
  z.strictObject({ field: FieldNameSchema, op: z.enum(['eq', 'neq']), value: ScalarSchema }),
  z.strictObject({
    field: FieldNameSchema,
    op: z.enum(['gt', 'gte', 'lt', 'lte']),
    value: z.union([z.number(), z.string()], { error: 'must be a number or a string' }),
  }),
]);
export type Condition = z.infer<typeof ConditionSchema>;

const SeparatorSchema = z.string().min(1, 'must not be empty').default(' ');

const FieldListSchema = z
  .array(FieldNameSchema)
  .min(2, 'must list at least two fields')
  .refine((names) => new Set(names).size === names.length, 'must not list a field twice');

export const FieldMappingRuleSchema = z.discriminatedUnion('kind', [
  /** Rename, with optional transforms. */
  z.strictObject({
    kind: z.literal('field'),
    direction: DirectionSchema,
    canonical: FieldNameSchema,
    native: FieldNameSchema,
    transforms: z.array(TransformSchema).default([]),
  }),
  /** One system field ↔ several canonical fields, e.g. full_name ↔ first_name + last_name. */
  z.strictObject({
    kind: z.literal('split'),
    direction: DirectionSchema,
    native: FieldNameSchema,
    canonical: FieldListSchema,
    separator: SeparatorSchema,
  }),
  /** Several system fields ↔ one canonical field, e.g. firstname + lastname ↔ full_name. */
  z.strictObject({
    kind: z.literal('join'),
    direction: DirectionSchema,
    native: FieldListSchema,
    canonical: FieldNameSchema,
    separator: SeparatorSchema,
  }),
  /** Outbound only: `{{canonical_field}}` placeholders filled in, e.g. '{{first_name}} {{last_name}}'. */
  z.strictObject({
    kind: z.literal('formula'),
    direction: DirectionSchema,
    native: FieldNameSchema,
    template: z.string().min(1, 'must not be empty'),
  }),
  /** Outbound only: `then` when the canonical field meets `when`, otherwise `else`. */
  z.strictObject({
    kind: z.literal('condition'),
    direction: DirectionSchema,
    native: FieldNameSchema,
    when: ConditionSchema,
    then: ScalarSchema,
    else: ScalarSchema,
  }),
  /** Outbound only: always the same value. */
  z.strictObject({
    kind: z.literal('constant'),
    direction: DirectionSchema,
    native: FieldNameSchema,
    value: ScalarSchema,
  }),
]);
export type FieldMappingRule = z.infer<typeof FieldMappingRuleSchema>;

/** Rules are numbered from 1 in messages, as a person reading the configuration counts them. */
function ruleLabel(index: number, rule: FieldMappingRule): string {
  const native = typeof rule.native === 'string' ? [rule.native] : rule.native;
  return `rule ${index + 1} (native ${native.map((name) => `'${name}'`).join(' + ')})`;
}

function ruleProblems(rule: FieldMappingRule): string[] {
  switch (rule.kind) {
    case 'field': {
      const problems = chainTypeProblems(rule.transforms);
      if (rule.direction === 'inbound') return problems;
      for (const transform of rule.transforms) {
        const problem = inverseProblem(transform);
        if (problem === undefined) continue;
        problems.push(
          rule.direction === 'both'
            ? `${problem}; declare direction 'inbound'`
            : `${problem}, which an outbound rule needs`,
        );
      }
      return problems;
    }
    case 'split':
    case 'join':
      return [];
    case 'formula': {
      const problems: string[] = [];
      if (hasMalformedPlaceholder(rule.template)) {
        problems.push(`template has a placeholder that is not {{field_name}}`);
      } else if (templateFields(rule.template).length === 0) {
        problems.push(`template has no {{field}} placeholder; use a constant rule`);
      }
      return rule.direction === 'outbound' ? problems : [oneWayProblem(rule.kind), ...problems];
    }
    case 'condition':
    case 'constant':
      return rule.direction === 'outbound' ? [] : [oneWayProblem(rule.kind)];
  }
}

function oneWayProblem(kind: string): string {
  return `a ${kind} rule only writes to the system; declare direction 'outbound'`;
}

/**
 * Two rules writing one field would make the result depend on rule order, so each written field has
 * exactly one writer per direction.
 */
function duplicateWriterProblems(rules: readonly FieldMappingRule[]): { index: number; message: string }[] {
  const problems: { index: number; message: string }[] = [];
  const writers = { inbound: new Map<string, number>(), outbound: new Map<string, number>() };
  rules.forEach((rule, index) => {
    const steps = ruleSteps(rule);
    for (const direction of ['inbound', 'outbound'] as const) {
      const side = direction === 'inbound' ? 'canonical' : 'native';
      for (const field of steps[direction]?.writes ?? []) {
        const earlier = writers[direction].get(field);
        if (earlier === undefined) {
          writers[direction].set(field, index);
        } else {
          const problem =
            `${side} field '${field}' is already written ${direction} by rule ${earlier + 1}; ` +
            `each ${side} field may have only one ${direction} rule`;
          problems.push({ index, message: `${ruleLabel(index, rule)}: ${problem}` });
        }
      }
    }
  });
  return problems;
}

/** Marks issues whose message already names the rule, so formatting does not label them twice. */
export const RULE_LABELLED = 'ruleLabelled';

/**
 * A system's field mapping: how its records map to the canonical model and back. Parsing checks the
 * shape and that every rule can run in the directions it declares.
 */
export const FieldMappingSchema = z.array(FieldMappingRuleSchema).superRefine((rules, ctx) => {
  const problems = [
    ...rules.flatMap((rule, index) =>
      ruleProblems(rule).map((problem) => ({ index, message: `${ruleLabel(index, rule)}: ${problem}` })),
    ),
    ...duplicateWriterProblems(rules),
  ];
  for (const { index, message } of problems) {
    ctx.addIssue({ code: 'custom', path: [index], message, params: { [RULE_LABELLED]: true } });
  }
});
export type FieldMapping = z.infer<typeof FieldMappingSchema>;
/** What a mapping author writes: directions, transforms and separators may be left to their defaults. */
export type FieldMappingInput = z.input<typeof FieldMappingSchema>;
