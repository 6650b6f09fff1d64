import { z } from 'zod';

/** Ids are numeric strings; accept numbers too and keep them as strings. */
const IdSchema = z.union([z.string().min(1), z.number().int().nonnegative()]).transform(String);

export const HubSpotContactSchema = z.object({
  id: IdSchema,
  /** Every property value is a string or null. */
  properties: z.record(z.string(), z.string().nullable()),
  createdAt: z.string().optional(),
  updatedAt: z.string().optional(),
  archived: z.boolean().optional(),
  archivedAt: z.string().optional(),
  /** Only when asked for: each property's past values, newest first. */
  propertiesWithHistory: z.record(z.string(), z.array(z.object({ value: z.string().nullable(), timestamp: z.string() }))).optional(),
  /** Only in batch upsert results: whether the contact was created. */
  new: z.boolean().optional(),
});
export type HubSpotContact = z.infer<typeof HubSpotContactSchema>;

const PagingSchema = z.object({
  next: z.object({ after: z.union([z.string(), z.number()]).transform(String), link: z.string().optional() }).optional(),
});

export const ContactListResponseSchema = z.object({
  results: z.array(HubSpotContactSchema),
  paging: PagingSchema.optional(),
});

export const ContactSearchResponseSchema = z.object({
  total: z.number().int().nonnegative(),
  results: z.array(HubSpotContactSchema),
  paging: PagingSchema.optional(),
});

/** One input's failure in a batch response; HubSpot names the inputs in `context` (ids, emails, ...). */
export const BatchErrorSchema = z.object({
  status: z.string().optional(),
  category: z.string().optional(),
  subCategory: z.unknown().optional(),
  message: z.string().default(''),
  context: z.record(z.string(), z.array(z.union([z.string(), z.number()]).transform(String))).optional(),
  errors: z.array(z.object({ message: z.string().optional(), in: z.string().optional(), code: z.string().optional() })).optional(),
});
export type BatchError = z.infer<typeof BatchErrorSchema>;

export const BatchResponseSchema = z.object({
  status: z.string(),
  results: z.array(HubSpotContactSchema),
  errors: z.array(BatchErrorSchema).optional(),
  numErrors: z.number().optional(),
});

/** The error body of a failed call; every field optional so that any JSON error still classifies. */
export const ErrorBodySchema = z.object({
  status: z.string().optional(),
  message: z.string().optional(),
  category: z.string().optional(),
  errorType: z.string().optional(),
  policyName: z.string().optional(),
  correlationId: z.string().optional(),
  context: z.record(z.string(), z.array(z.union([z.string(), z.number()]).transform(String))).optional(),
  errors: z.array(z.object({ message: z.string().optional(), in: z.string().optional(), code: z.string().optional() })).optional(),
});
export type ErrorBody = z.infer<typeof ErrorBodySchema>;
