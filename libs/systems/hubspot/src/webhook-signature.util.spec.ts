import { createHmac } from 'node:crypto';
import { verifyWebhookSignature, webhookSignature } from './webhook-signature.util';

const secret = 'client-secret';
const uri = 'https://tandem.example.com/webhooks/hubspot?tenant=acme';
const body = '[{"eventId":1,"subscriptionType":"contact.creation","objectId":7,"portalId":33,"occurredAt":1}]';
const now = 1_700_000_000_000;

/** Computed independently of the code under test. */
function sign(method: string, signedUri: string, rawBody: string, timestamp: number): string {
  return createHmac('sha256', secret).update(`${method}${signedUri}${rawBody}${timestamp}`).digest('base64');
}

function check(overrides: Partial<Parameters<typeof verifyWebhookSignature>[0]> = {}) {
  return verifyWebhookSignature({
    method: 'POST',
    uri,
    rawBody: body,
    signature: sign('POST', uri, body, now - 1_000),
    timestamp: String(now - 1_000),
    clientSecret: secret,
    nowMs: now,
    ...overrides,
  });
}

describe('verifyWebhookSignature', () => {
  it('accepts a v3 signature over method, URI, raw body and timestamp', () => {
    expect(check()).toEqual({ ok: true });
    expect(check({ rawBody: Buffer.from(body), timestamp: now - 1_000 })).toEqual({ ok: true });
  });

  it('refuses a changed body, URI, method or secret', () => {
    expect(check({ rawBody: body.replace('"objectId":7', '"objectId":8') })).toEqual({ ok: false, reason: 'bad_signature' });
    expect(check({ uri: uri.replace('acme', 'other') })).toEqual({ ok: false, reason: 'bad_signature' });
    expect(check({ method: 'PUT' })).toEqual({ ok: false, reason: 'bad_signature' });
    expect(check({ clientSecret: 'other-secret' })).toEqual({ ok: false, reason: 'bad_signature' });
    expect(check({ signature: 'not base64 at all' })).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('refuses missing headers and unreadable timestamps', () => {
    expect(check({ signature: undefined })).toEqual({ ok: false, reason: 'missing_signature' });
    expect(check({ signature: '' })).toEqual({ ok: false, reason: 'missing_signature' });
    expect(check({ timestamp: null })).toEqual({ ok: false, reason: 'missing_timestamp' });
    expect(check({ timestamp: 'yesterday' })).toEqual({ ok: false, reason: 'invalid_timestamp' });
  });

  it('refuses timestamps older than five minutes and far in the future, even when correctly signed', () => {
    const old = now - 5 * 60_000 - 1;
    expect(check({ timestamp: String(old), signature: sign('POST', uri, body, old) })).toEqual({ ok: false, reason: 'stale_timestamp' });
    const edge = now - 5 * 60_000;
    expect(check({ timestamp: String(edge), signature: sign('POST', uri, body, edge) })).toEqual({ ok: true });
    const future = now + 5 * 60_000 + 1;
    expect(check({ timestamp: String(future), signature: sign('POST', uri, body, future) })).toEqual({ ok: false, reason: 'future_timestamp' });
    expect(check({ timestamp: String(old), signature: sign('POST', uri, body, old), maxAgeMs: 10 * 60_000 })).toEqual({ ok: true });
  });

  it('checks a URI received percent-encoded against the decoded form HubSpot signs', () => {
    const decoded = 'https://tandem.example.com/webhooks/hubspot?since=2024-01-01T00:00:00Z';
    const encoded = 'https://tandem.example.com/webhooks/hubspot?since=2024-01-01T00%3A00%3A00Z';
    expect(check({ uri: encoded, signature: sign('POST', decoded, body, now - 1_000) })).toEqual({ ok: true });
    expect(webhookSignature({ method: 'post', uri: decoded, rawBody: body, timestamp: 5, clientSecret: secret })).toBe(sign('POST', decoded, body, 5));
  });
});
