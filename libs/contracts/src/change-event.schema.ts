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
    /**
     * Where in the source's order the change was made, when it was learnt of only after later states
     * of the record had been reported (a webhook that arrived late): earlier than `sequence`, which
     * keeps each record's changes in the order they are published. Absent: made at `sequence`.
     */
    madeAt: SequenceSchema.optional(),
    /** True for rows read by the initial snapshot rather than observed as they changed. */
    snapshot: z.boolean(),
    /**
     * True when the source never reports Tandem's own writes (capture that skips the applier's
     * transactions): the change is certainly the system's own. Absent: it may report one of Tandem's.
     */
    notFromTandem: z.literal(true).optional(),
    /**
     * True for a delete of a record no entity was ever linked to (made and deleted there before Tandem
     * saw it alive), matched to the entity by its last values' match key: the system's own delete of
     * its copy of that entity, while the entity may have another record there.
     */
    matchedByKey: z.literal(true).optional(),
  }),
});
export type ChangeEvent = z.infer<typeof ChangeEventSchema>;
