import { createHmac } from 'node:crypto';

/** HubSpot's v3 signature: base64(HMAC-SHA256(client secret, method + full URI + raw body + timestamp)). */
export function signWebhookV3(input: {
  clientSecret: string;
  method: string;
  uri: string;
  body: string;
  timestamp: number;
}): string {
  return createHmac('sha256', input.clientSecret)
    .update(`${input.method}${input.uri}${input.body}${input.timestamp}`, 'utf8')
    .digest('base64');
}
