import { z } from 'zod';
import { IsoTimeSchema, SystemIdSchema, TenantIdSchema } from './primitives.schema';

/** Bumped whenever a message shape changes incompatibly; consumers reject versions they do not know. */
export const SCHEMA_VERSION = 1 as const;

/** Fields every message carries, stamped by the publisher. Trace ids travel in Kafka headers. */
export const EnvelopeSchema = z.object({
  schemaVersion: z.literal(SCHEMA_VERSION),
  /** Idempotency key: the same logical event always carries the same id. */
  eventId: z.string().min(1).max(200),
  tenantId: TenantIdSchema,
  /** When the change happened in the system it came from. */
  occurredAt: IsoTimeSchema,
  /** When Tandem first saw it. */
  observedAt: IsoTimeSchema,
  /** The system (or Tandem service) the message originates from. */
  origin: SystemIdSchema,
});
export type Envelope = z.infer<typeof EnvelopeSchema>;
