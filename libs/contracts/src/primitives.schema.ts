import { z } from 'zod';

/** Identifies a linked system within a tenant, e.g. `crm`, `customer_db`, `hubspot`. */
export const SystemIdSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,62}$/, 'must be lowercase letters, digits, "_" or "-", starting with a letter');
export type SystemId = z.infer<typeof SystemIdSchema>;

export const TenantIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'must be lowercase letters, digits, "_" or "-"');
export type TenantId = z.infer<typeof TenantIdSchema>;

export const EntityTypeSchema = z.enum(['contact', 'company', 'deal']);
export type EntityType = z.infer<typeof EntityTypeSchema>;

/** Canonical field values are JSON scalars; `null` means empty. */
export const FieldValueSchema = z.union([z.string(), z.number(), z.boolean(), z.null()]);
export type FieldValue = z.infer<typeof FieldValueSchema>;

export const FieldNameSchema = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'must be an identifier');

export const FieldValuesSchema = z.record(FieldNameSchema, FieldValueSchema);
export type FieldValues = z.infer<typeof FieldValuesSchema>;

export const EntityIdSchema = z.uuid();

/**
 * A position in the source's own change order, as a non-negative decimal integer string so that
 * 64-bit sequences survive JSON. Compared numerically per record; never a wall-clock "last run".
 */
export const SequenceSchema = z.string().regex(/^\d{1,30}$/, 'must be a non-negative decimal integer');

export const IsoTimeSchema = z.iso.datetime({ offset: true });
