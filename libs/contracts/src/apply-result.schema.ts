import { z } from 'zod';
import { EnvelopeSchema } from './envelope.schema';
import { EntityIdSchema, EntityTypeSchema, FieldValuesSchema, SequenceSchema, SystemIdSchema } from './primitives.schema';

export const ApplyErrorSchema = z.object({
  code: z.string().min(1),
  message: z.string(),
  retryable: z.boolean(),
});
export type ApplyError = z.infer<typeof ApplyErrorSchema>;

/**
 * The failure code every applier reports when the record to write no longer exists in its system:
 * the reconciler then forgets the record id there, and the record's deletion arrives as a change.
 */
export const RECORD_MISSING = 'record_missing';

/**
 * The failure code of a create that found a record the entity's match key already names in the
 * system, not linked to the entity: the applier leaves it as it is, and the system's connector
 * reports it, linking it to the entity and bringing its values to the reconciler.
 */
export const RECORD_EXISTS = 'record_exists';

/** What an applier did with one command; the reconciler records from it what each system holds. */
export const ApplyResultSchema = EnvelopeSchema.extend({
  type: z.literal('apply.result'),
  data: z.object({
    commandId: z.string().min(1),
    target: SystemIdSchema,
    entityType: EntityTypeSchema,
    entityId: EntityIdSchema,
    recordId: z.string().min(1).max(255).nullable(),
    version: z.number().int().positive(),
    /** `stale`: the target already had this version or a newer one, so nothing was written. */
    outcome: z.enum(['applied', 'stale', 'failed']),
    /** What the target holds now for the written fields, in its own field names. */
    fields: FieldValuesSchema,
    /**
     * The target's own change position when the write committed (the sequence its connector reports
     * changes with), or null where the target has none. A change the target reports from before this
     * position was made before, and overwritten by, this write.
     */
    position: SequenceSchema.nullable(),
    error: ApplyErrorSchema.nullable(),
  }),
});
export type ApplyResult = z.infer<typeof ApplyResultSchema>;
