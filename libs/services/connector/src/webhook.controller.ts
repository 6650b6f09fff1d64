import { Controller, HttpCode, NotFoundException, Post, Req, Res } from '@nestjs/common';
import { ServicePlatform } from '@tandem/service-kit';
import type { ConnectorEnv } from './connector.env';
import { ConnectorService } from './connector.service';

/** The parts of the HTTP request a webhook check needs (the raw body: the signature covers its bytes). */
interface IncomingWebhook {
  method: string;
  originalUrl: string;
  protocol: string;
  headers: Record<string, string | string[] | undefined>;
  rawBody?: Buffer;
}

interface WebhookResponse {
  status(code: number): unknown;
}

@Controller('webhooks')
export class WebhookController {
  constructor(
    private readonly connector: ConnectorService,
    private readonly platform: ServicePlatform<ConnectorEnv>,
  ) {}

  @Post('hubspot')
  @HttpCode(200)
  async hubspot(@Req() request: IncomingWebhook, @Res({ passthrough: true }) response: WebhookResponse): Promise<Record<string, unknown>> {
    const receiver = this.connector.webhookReceiver();
    if (!receiver) throw new NotFoundException(`connector ${this.platform.config.SYSTEM_ID} does not read a HubSpot system`);
    const answer = await receiver.receive({
      method: request.method,
      uri: this.calledUri(request),
      rawBody: request.rawBody ?? Buffer.alloc(0),
      signature: header(request, 'x-hubspot-signature-v3'),
      timestamp: header(request, 'x-hubspot-request-timestamp'),
    });
    response.status(answer.status);
    return answer.body;
  }

  /** The URI HubSpot called: the registered public URL when a proxy rewrites it, else what reached us. */
  private calledUri(request: IncomingWebhook): string {
    const configured = this.platform.config.WEBHOOK_PUBLIC_URL;
    if (configured) return configured;
    return `${request.protocol}://${header(request, 'host') ?? '127.0.0.1'}${request.originalUrl}`;
  }
}

function header(request: IncomingWebhook, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
