import { z } from 'zod';
import { EnvelopeSchema } from './envelope.schema';
import {
  EntityIdSchema,
  EntityTypeSchema,
  FieldNameSchema,
  FieldValueSchema,
  IsoTimeSchema,
  SystemIdSchema,
} from './primitives.schema';

export const StrategyNameSchema = z.enum([
  'source_wins',
  'target_wins',
  'priority',
  'latest_wins',
  'prefer_non_empty',
  'concat',
  'manual',
]);
export type StrategyName = z.infer<typeof StrategyNameSchema>;

export const RiskSchema = z.enum(['cosmetic', 'medium', 'high']);
export type Risk = z.infer<typeof RiskSchema>;

/** One side of a conflict: what a system wanted and when it said so. */
export const ConflictSideSchema = z.object({
  system: SystemIdSchema,
  value: FieldValueSchema,
  deleted: z.boolean(),
  occurredAt: IsoTimeSchema,
  eventId: z.string().min(1),
});
export type ConflictSide = z.infer<typeof ConflictSideSchema>;

/**
 * Two systems changed the same field (or one deleted what another updated) without having seen each
 * other's change. Every conflict is recorded with both sides, whatever decided it.
 */
export const ConflictRecordSchema = EnvelopeSchema.extend({
  type: z.literal('conflict'),
  data: z.object({
    conflictId: z.string().min(1),
    entityType: EntityTypeSchema,
    entityId: EntityIdSchema,
    /** Null for a delete-versus-update conflict, which concerns the whole record. */
    field: FieldNameSchema.nullable(),
    kind: z.enum(['field', 'delete_update']),
    risk: RiskSchema,
    strategy: StrategyNameSchema,
    status: z.enum(['resolved', 'pending']),
    /** The value the entity held before, then the incoming one. */
    sides: z.tuple([ConflictSideSchema, ConflictSideSchema]),
    /** Null while pending. `winner` is a system id, or `merged` when the value combines both sides. */
    outcome: z
      .object({ winner: z.string().min(1), value: FieldValueSchema, deleted: z.boolean() })
      .nullable(),
    decidedBy: z.string().min(1).nullable(),
  }),
});
export type ConflictRecord = z.infer<typeof ConflictRecordSchema>;

/** A person's decision on a pending conflict. Travels on the changes topic so it is ordered per entity. */
export const ConflictDecisionSchema = EnvelopeSchema.extend({
  type: z.literal('conflict.decision'),
  data: z.object({
    conflictId: z.string().min(1),
    entityType: EntityTypeSchema,
    entityId: EntityIdSchema,
    choice: z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('side'), system: SystemIdSchema }),
      z.object({ kind: z.literal('value'), value: FieldValueSchema }),
    ]),
    decidedBy: z.string().min(1),
    decidedAt: IsoTimeSchema,
  }),
});
export type ConflictDecision = z.infer<typeof ConflictDecisionSchema>;
