import { z } from 'zod';
import { EnvelopeSchema } from './envelope.schema';
import {
  EntityIdSchema,
  EntityTypeSchema,
  FieldNameSchema,
  FieldValueSchema,
  SequenceSchema,
} from './primitives.schema';

export const FieldChangeSchema = z.object({
  /** Absent when the source does not report prior values (webhooks, polling). */
  before: FieldValueSchema.optional(),
  after: FieldValueSchema,
});
export type FieldChange = z.infer<typeof FieldChangeSchema>;

/** One record changed in one system, already mapped to canonical field names by its connector. */
export const ChangeEventSchema = EnvelopeSchema.extend({
  type: z.literal('change'),
  data: z.object({
    entityType: EntityTypeSchema,
    entityId: EntityIdSchema,
    /** The record's id in the origin system. */
    recordId: z.string().min(1).max(255),
    operation: z.enum(['create', 'update', 'delete']),
    fields: z.record(FieldNameSchema, FieldChangeSchema),
    /** The source's own change position for this record: later changes have larger sequences. */
    sequence: SequenceSchema,
    /** True for rows read by the initial snapshot rather than observed as they changed. */
    snapshot: z.boolean(),
  }),
});
export type ChangeEvent = z.infer<typeof ChangeEventSchema>;
