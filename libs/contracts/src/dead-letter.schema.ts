import { z } from 'zod';
import { IsoTimeSchema } from './primitives.schema';

/**
 * A message that could not be processed, kept with the reason. The original bytes are preserved so a
 * fixed consumer can redrive it.
 */
export const DeadLetterSchema = z.object({
  sourceTopic: z.string().min(1),
  partition: z.number().int().nonnegative(),
  offset: z.string(),
  key: z.string().nullable(),
  /** Stable machine-readable reason, e.g. `invalid_message`, `apply_rejected`. */
  code: z.string().min(1),
  reason: z.string(),
  /** The original message value as UTF-8 text. */
  payload: z.string(),
  failedAt: IsoTimeSchema,
  service: z.string().min(1),
});
export type DeadLetter = z.infer<typeof DeadLetterSchema>;
