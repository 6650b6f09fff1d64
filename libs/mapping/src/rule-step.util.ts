import type { FieldValue } from '@tandem/contracts';
import type { FieldMappingRule } from './field-mapping.schema';
import {
  applyTransforms,
  conditionHolds,
  invertTransforms,
  joinValues,
  renderTemplate,
  splitValue,
  templateFields,
  type ValueOutcome,
  type ValuesOutcome,
} from './transform.util';

/** One rule in one direction: the fields it reads, the fields it writes, and how. */
export interface RuleStep {
  reads: readonly string[];
  writes: readonly string[];
  /** Gets the values of `reads`, in order; yields the values of `writes`, in order. */
  run(inputs: readonly FieldValue[]): ValuesOutcome;
}

export interface RuleSteps {
  /** System → canonical; reads native fields, writes canonical ones. */
  inbound: RuleStep | undefined;
  /** Canonical → system; reads canonical fields, writes native ones. */
  outbound: RuleStep | undefined;
}

const single = (outcome: ValueOutcome): ValuesOutcome =>
  outcome.ok ? { ok: true, values: [outcome.value] } : outcome;

function twoWay(rule: FieldMappingRule, inbound: RuleStep, outbound: RuleStep): RuleSteps {
  return {
    inbound: rule.direction === 'outbound' ? undefined : inbound,
    outbound: rule.direction === 'inbound' ? undefined : outbound,
  };
}

/** Formulas, conditions and constants only write to the system; validation requires them to say so. */
function outboundOnly(rule: FieldMappingRule, outbound: RuleStep): RuleSteps {
  return { inbound: undefined, outbound: rule.direction === 'inbound' ? undefined : outbound };
}

export function ruleSteps(rule: FieldMappingRule): RuleSteps {
  switch (rule.kind) {
    case 'field': {
      const { native, canonical, transforms } = rule;
      return twoWay(
        rule,
        { reads: [native], writes: [canonical], run: ([value]) => single(applyTransforms(transforms, value ?? null)) },
        { reads: [canonical], writes: [native], run: ([value]) => single(invertTransforms(transforms, value ?? null)) },
      );
    }
    case 'split': {
      const { native, canonical, separator } = rule;
      return twoWay(
        rule,
        { reads: [native], writes: canonical, run: ([value]) => splitValue(value ?? null, separator, canonical.length) },
        { reads: canonical, writes: [native], run: (values) => single(joinValues(values, separator)) },
      );
    }
    case 'join': {
      const { native, canonical, separator } = rule;
      return twoWay(
        rule,
        { reads: native, writes: [canonical], run: (values) => single(joinValues(values, separator)) },
        { reads: [canonical], writes: native, run: ([value]) => splitValue(value ?? null, separator, native.length) },
      );
    }
    case 'formula': {
      const reads = templateFields(rule.template);
      return outboundOnly(rule, {
        reads,
        writes: [rule.native],
        run: (values) => {
          const byName = new Map(reads.map((name, index) => [name, values[index] ?? null]));
          return single({ ok: true, value: renderTemplate(rule.template, (name) => byName.get(name) ?? null) });
        },
      });
    }
    case 'condition':
      return outboundOnly(rule, {
        reads: [rule.when.field],
        writes: [rule.native],
        run: ([value]) => ({ ok: true, values: [conditionHolds(rule.when, value ?? null) ? rule.then : rule.else] }),
      });
    case 'constant':
      return outboundOnly(rule, { reads: [], writes: [rule.native], run: () => ({ ok: true, values: [rule.value] }) });
  }
}
