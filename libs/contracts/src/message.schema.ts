import { z } from 'zod';
import { ApplyCommandSchema } from './apply-command.schema';
import { ApplyResultSchema } from './apply-result.schema';
import { ChangeEventSchema } from './change-event.schema';
import { ConflictDecisionSchema, ConflictRecordSchema } from './conflict.schema';
import { ResolvedChangeSchema } from './resolved-change.schema';

export const MessageSchema = z.discriminatedUnion('type', [
  ChangeEventSchema,
  ApplyCommandSchema,
  ApplyResultSchema,
  ResolvedChangeSchema,
  ConflictRecordSchema,
  ConflictDecisionSchema,
]);
export type Message = z.infer<typeof MessageSchema>;
export type MessageType = Message['type'];
export type MessageOf<T extends MessageType> = Extract<Message, { type: T }>;

/** What a producer supplies; the publisher stamps schemaVersion and observedAt. */
export type MessageDraft<T extends MessageType = MessageType> = T extends MessageType
  ? Omit<MessageOf<T>, 'schemaVersion' | 'observedAt'>
  : never;

export type ParseFailure = { ok: false; reason: string };
export type ParseSuccess<T> = { ok: true; message: T };

/**
 * Parses raw bytes from a topic into a message of one of the accepted types. Never throws: a bad
 * message is a value the consumer dead-letters, not an exception that blocks its partition.
 */
export function parseMessage<T extends MessageType>(
  raw: Buffer | string | null,
  accepted: readonly T[],
): ParseSuccess<MessageOf<T>> | ParseFailure {
  if (raw === null) return { ok: false, reason: 'empty message value' };
  let json: unknown;
  try {
    json = JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8'));
  } catch (error) {
    return { ok: false, reason: `not JSON: ${(error as Error).message}` };
  }
  const parsed = MessageSchema.safeParse(json);
  if (!parsed.success) return { ok: false, reason: describeIssues(parsed.error) };
  if (!(accepted as readonly string[]).includes(parsed.data.type)) {
    return { ok: false, reason: `unexpected message type "${parsed.data.type}" (accepted: ${accepted.join(', ')})` };
  }
  return { ok: true, message: parsed.data as MessageOf<T> };
}

/** One line naming every invalid path, for logs and dead letters. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}
