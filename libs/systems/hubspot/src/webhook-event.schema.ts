import { z } from 'zod';

export const ContactEventTypeSchema = z.enum([
  'contact.creation',
  'contact.deletion',
  'contact.propertyChange',
  'contact.merge',
  'contact.restore',
  'contact.privacyDeletion',
]);
export type ContactEventType = z.infer<typeof ContactEventTypeSchema>;

/** Object ids may exceed what a double holds exactly in the future; keep them as strings. */
const IdSchema = z.union([z.string().regex(/^\d+$/, 'must be a numeric id'), z.number().int().nonnegative()]).transform(String);
const EpochMsSchema = z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/).transform(Number)]);

const RawEventSchema = z
  .object({
    eventId: IdSchema,
    subscriptionId: IdSchema.optional(),
    portalId: IdSchema,
    appId: IdSchema.optional(),
    occurredAt: EpochMsSchema,
    subscriptionType: z.string().optional(),
    eventType: z.string().optional(),
    attemptNumber: z.number().int().nonnegative().default(0),
    objectId: IdSchema,
    propertyName: z.string().optional(),
    propertyValue: z.string().nullable().optional(),
    changeSource: z.string().optional(),
    primaryObjectId: IdSchema.optional(),
    mergedObjectIds: z.array(IdSchema).optional(),
    newObjectId: IdSchema.optional(),
  })
  .refine((event) => event.subscriptionType !== undefined || event.eventType !== undefined, {
    message: 'needs subscriptionType or eventType',
  });

/** One webhook event, with ids as strings and the type field's two spellings folded into `type`. */
export interface HubSpotWebhookEvent {
  /** Not guaranteed unique by HubSpot: deduplicate on content, not on this alone. */
  eventId: string;
  subscriptionId: string | null;
  portalId: string;
  appId: string | null;
  type: ContactEventType;
  occurredAtMs: number;
  attemptNumber: number;
  objectId: string;
  propertyName: string | null;
  propertyValue: string | null;
  changeSource: string | null;
  /** contact.merge only. */
  merge: { primaryObjectId: string; mergedObjectIds: string[]; newObjectId: string | null } | null;
}

export type WebhookParseResult =
  | { ok: true; events: HubSpotWebhookEvent[]; ignoredEventTypes: string[] }
  | { ok: false; error: string };

/**
 * Reads a delivery (a JSON array of events). Events of types other than contacts' are left out and
 * named in `ignoredEventTypes` rather than failing the delivery, which HubSpot would retry for a day.
 */
export function parseWebhookEvents(body: unknown): WebhookParseResult {
  if (!Array.isArray(body)) return { ok: false, error: `a webhook delivery must be a JSON array of events, got ${describe(body)}` };
  const events: HubSpotWebhookEvent[] = [];
  const ignored = new Set<string>();
  const problems: string[] = [];
  body.forEach((item: unknown, index) => {
    const parsed = RawEventSchema.safeParse(item);
    if (!parsed.success) {
      problems.push(...parsed.error.issues.map((issue) => `event ${index}${issue.path.map((key) => `.${String(key)}`).join('')}: ${issue.message}`));
      return;
    }
    const raw = parsed.data;
    const typeName = raw.subscriptionType ?? raw.eventType ?? '';
    const type = ContactEventTypeSchema.safeParse(typeName);
    if (!type.success) {
      ignored.add(typeName);
      return;
    }
    let merge: HubSpotWebhookEvent['merge'] = null;
    if (type.data === 'contact.merge') {
      const { primaryObjectId, mergedObjectIds, newObjectId } = raw;
      if (primaryObjectId === undefined || mergedObjectIds === undefined) {
        problems.push(`event ${index}: contact.merge needs primaryObjectId and mergedObjectIds`);
        return;
      }
      merge = { primaryObjectId, mergedObjectIds, newObjectId: newObjectId ?? null };
    }
    if (type.data === 'contact.propertyChange' && raw.propertyName === undefined) {
      problems.push(`event ${index}: contact.propertyChange needs propertyName`);
      return;
    }
    events.push({
      eventId: raw.eventId,
      subscriptionId: raw.subscriptionId ?? null,
      portalId: raw.portalId,
      appId: raw.appId ?? null,
      type: type.data,
      occurredAtMs: raw.occurredAt,
      attemptNumber: raw.attemptNumber,
      objectId: raw.objectId,
      propertyName: raw.propertyName ?? null,
      propertyValue: raw.propertyValue ?? null,
      changeSource: raw.changeSource ?? null,
      merge,
    });
  });
  if (problems.length > 0) return { ok: false, error: `invalid webhook delivery: ${problems.join('; ')}` };
  return { ok: true, events, ignoredEventTypes: [...ignored] };
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'an array' : typeof value;
}
