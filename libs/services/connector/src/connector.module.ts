import { Module, type DynamicModule } from '@nestjs/common';
import { PlatformModule, type Infrastructure } from '@tandem/service-kit';
import type { Logger } from 'pino';
import type { ConnectorEnv } from './connector.env';
import { ConnectorService } from './connector.service';
import { WebhookController } from './webhook.controller';

@Module({})
export class ConnectorModule {
  /** The connector on its configuration; `shared` when it runs in one process with the other services. */
  static forRoot(config: ConnectorEnv, logger: Logger, shared?: Infrastructure): DynamicModule {
    return {
      module: ConnectorModule,
      imports: [PlatformModule.forRoot(connectorServiceName(config), config, logger, shared)],
      controllers: [WebhookController],
      providers: [ConnectorService],
    };
  }
}

/** The name the service logs and registers under. */
export function connectorServiceName(config: ConnectorEnv): string {
  return `connector-${config.SYSTEM_ID}`;
}
