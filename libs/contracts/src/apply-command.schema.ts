import { z } from 'zod';
import { EnvelopeSchema } from './envelope.schema';
import { EntityIdSchema, EntityTypeSchema, FieldValuesSchema, SystemIdSchema } from './primitives.schema';

/** Write these values to one target system. The envelope's eventId is the command id. */
export const ApplyCommandSchema = EnvelopeSchema.extend({
  type: z.literal('apply.command'),
  data: z.object({
    target: SystemIdSchema,
    entityType: EntityTypeSchema,
    entityId: EntityIdSchema,
    /** The target's record id, or null when the record does not exist there yet. */
    recordId: z.string().min(1).max(255).nullable(),
    operation: z.enum(['upsert', 'delete']),
    /** The entity's canonical version this command brings the target to; appliers skip older ones. */
    version: z.number().int().positive(),
    /** Values in the target's own field names, after mapping. */
    fields: FieldValuesSchema,
  }),
});
export type ApplyCommand = z.infer<typeof ApplyCommandSchema>;
