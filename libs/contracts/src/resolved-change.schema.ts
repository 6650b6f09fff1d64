import { z } from 'zod';
import { EnvelopeSchema } from './envelope.schema';
import { EntityIdSchema, EntityTypeSchema, FieldNameSchema, FieldValuesSchema } from './primitives.schema';

/**
 * The current canonical state of one entity after a change, published to a log-compacted topic keyed
 * by entity so that a new subscriber can rebuild every record. Deletes are soft: `deleted` is true.
 */
export const ResolvedChangeSchema = EnvelopeSchema.extend({
  type: z.literal('resolved'),
  data: z.object({
    entityType: EntityTypeSchema,
    entityId: EntityIdSchema,
    version: z.number().int().positive(),
    deleted: z.boolean(),
    record: FieldValuesSchema,
    changedFields: z.array(FieldNameSchema),
  }),
});
export type ResolvedChange = z.infer<typeof ResolvedChangeSchema>;
