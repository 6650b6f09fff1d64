import { createHmac, timingSafeEqual } from 'node:crypto';

export interface WebhookSignatureInput {
  /** The request's method, e.g. POST. */
  method: string;
  /** The full URI HubSpot called, scheme, host, path and query included. */
  uri: string;
  /** The body exactly as received, before any JSON parsing. */
  rawBody: string | Buffer;
  /** The `X-HubSpot-Signature-v3` header. */
  signature: string | null | undefined;
  /** The `X-HubSpot-Request-Timestamp` header (epoch ms). */
  timestamp: string | number | null | undefined;
  clientSecret: string;
  nowMs: number;
  /** Older deliveries are refused (replay protection), and so are ones this far in the future. */
  maxAgeMs?: number;
}

export type WebhookSignatureFailure =
  | 'missing_signature'
  | 'missing_timestamp'
  | 'invalid_timestamp'
  | 'stale_timestamp'
  | 'future_timestamp'
  | 'bad_signature';

export type WebhookSignatureResult = { ok: true } | { ok: false; reason: WebhookSignatureFailure };

const DEFAULT_MAX_AGE_MS = 5 * 60_000;

/**
 * Checks a v3 signature: base64 HMAC-SHA256, keyed with the app's client secret, of
 * method + URI + raw body + timestamp, compared in constant time.
 */
export function verifyWebhookSignature({
  method,
  uri,
  rawBody,
  signature,
  timestamp,
  clientSecret,
  nowMs,
  maxAgeMs = DEFAULT_MAX_AGE_MS,
}: WebhookSignatureInput): WebhookSignatureResult {
  if (!signature) return { ok: false, reason: 'missing_signature' };
  if (timestamp === null || timestamp === undefined || timestamp === '') return { ok: false, reason: 'missing_timestamp' };
  const timestampText = String(timestamp).trim();
  if (!/^\d{1,16}$/.test(timestampText)) return { ok: false, reason: 'invalid_timestamp' };
  const timestampMs = Number(timestampText);
  if (nowMs - timestampMs > maxAgeMs) return { ok: false, reason: 'stale_timestamp' };
  if (timestampMs - nowMs > maxAgeMs) return { ok: false, reason: 'future_timestamp' };

  const expected = webhookSignature({ method, uri, rawBody, timestamp: timestampText, clientSecret });
  const given = Buffer.from(signature.trim(), 'base64');
  const wanted = Buffer.from(expected, 'base64');
  // timingSafeEqual needs equal lengths; a length mismatch reveals nothing about the secret.
  if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) return { ok: false, reason: 'bad_signature' };
  return { ok: true };
}

/** The v3 signature HubSpot sends for a request. */
export function webhookSignature({
  method,
  uri,
  rawBody,
  timestamp,
  clientSecret,
}: {
  method: string;
  uri: string;
  rawBody: string | Buffer;
  timestamp: string | number;
  clientSecret: string;
}): string {
  return createHmac('sha256', clientSecret)
    .update(method.toUpperCase(), 'utf8')
    .update(decodeSignedUri(uri), 'utf8')
    .update(typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : rawBody)
    .update(String(timestamp), 'utf8')
    .digest('base64');
}

/** HubSpot signs the URI with these characters decoded, so a URI received encoded must be too. */
const SIGNED_URI_DECODING: ReadonlyArray<[RegExp, string]> = [
  [/%3A/gi, ':'],
  [/%2F/gi, '/'],
  [/%3F/gi, '?'],
  [/%40/gi, '@'],
  [/%21/gi, '!'],
  [/%24/gi, '$'],
  [/%27/gi, "'"],
  [/%28/gi, '('],
  [/%29/gi, ')'],
  [/%2A/gi, '*'],
  [/%2C/gi, ','],
  [/%3B/gi, ';'],
];

function decodeSignedUri(uri: string): string {
  return SIGNED_URI_DECODING.reduce((decoded, [pattern, character]) => decoded.replace(pattern, character), uri);
}
