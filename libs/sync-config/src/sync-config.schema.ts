import { EntityTypeSchema, FieldNameSchema, SystemIdSchema, TenantIdSchema } from '@tandem/contracts';
import { FieldMappingSchema } from '@tandem/mapping';
import { z } from 'zod';

const RuleBase = z.object({
  /** `high` sends every conflict on the field to a person, whatever the strategy. */
  risk: z.enum(['medium', 'high']).default('medium'),
});

/**
 * How a conflict on a field is decided. "source" is the system whose change just arrived, "target"
 * the system whose value the entity holds now.
 */
export const ConflictRuleSchema = z.discriminatedUnion('strategy', [
  RuleBase.extend({ strategy: z.literal('source_wins') }),
  RuleBase.extend({ strategy: z.literal('target_wins') }),
  RuleBase.extend({ strategy: z.literal('latest_wins') }),
  /** The first system in `order` that is a side of the conflict wins ("HubSpot owns lifecycle stage"). */
  RuleBase.extend({ strategy: z.literal('priority'), order: z.array(SystemIdSchema).min(1) }),
  /** A non-empty value beats an empty one; between two non-empty values, `order` or else the latest. */
  RuleBase.extend({ strategy: z.literal('prefer_non_empty'), order: z.array(SystemIdSchema).min(1).optional() }),
  /** Both values kept, oldest first ("notes"). */
  RuleBase.extend({ strategy: z.literal('concat'), separator: z.string().default('\n') }),
  RuleBase.extend({ strategy: z.literal('manual') }),
]);
export type ConflictRule = z.infer<typeof ConflictRuleSchema>;

export const LinkedSystemSchema = z.object({
  id: SystemIdSchema,
  kind: z.enum(['postgres', 'hubspot', 'salesforce', 'google', 'mobile']),
  /**
   * `bidirectional`: read from and written to. `source_only`: its changes flow out, nothing is written
   * to it. `target_only`: written to, its own changes are ignored.
   */
  direction: z.enum(['bidirectional', 'source_only', 'target_only']).default('bidirectional'),
  mapping: FieldMappingSchema,
  /** Adapter settings (table name, account, ...), validated by the system's adapter. */
  settings: z.record(z.string(), z.unknown()).default({}),
});
export type LinkedSystem = z.infer<typeof LinkedSystemSchema>;

export const SyncConfigSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'must be lowercase letters, digits, "_" or "-"'),
    tenantId: TenantIdSchema,
    entityType: EntityTypeSchema,
    systems: z.array(LinkedSystemSchema).min(2, 'a sync links at least two systems'),
    /** Canonical fields whose normalized values identify the same record in two systems. */
    matchOn: z.array(FieldNameSchema).default(['email']),
    conflicts: z
      .object({
        default: ConflictRuleSchema.default({ strategy: 'latest_wins', risk: 'medium' }),
        fields: z.record(FieldNameSchema, ConflictRuleSchema).default({}),
        deleteVsUpdate: z.enum(['manual', 'delete_wins', 'update_wins']).default('manual'),
      })
      .prefault({}),
  })
  .superRefine((config, ctx) => {
    const ids = config.systems.map((system) => system.id);
    ids.forEach((id, index) => {
      if (ids.indexOf(id) !== index) {
        ctx.addIssue({ code: 'custom', path: ['systems', index, 'id'], message: `system "${id}" is linked twice` });
      }
    });
    const rules = [['default', config.conflicts.default] as const, ...Object.entries(config.conflicts.fields)];
    for (const [field, rule] of rules) {
      if (rule.strategy !== 'priority' && rule.strategy !== 'prefer_non_empty') continue;
      for (const system of rule.order ?? []) {
        if (!ids.includes(system)) {
          ctx.addIssue({
            code: 'custom',
            path: ['conflicts', field === 'default' ? 'default' : `fields.${field}`, 'order'],
            message: `names system "${system}", which this sync does not link`,
          });
        }
      }
    }
  });
export type SyncConfig = z.infer<typeof SyncConfigSchema>;
export type SyncConfigInput = z.input<typeof SyncConfigSchema>;
