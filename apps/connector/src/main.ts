import { Module } from '@nestjs/common';
import { parseEnv } from '@tandem/config';
import { bootstrapService, createLogger, PlatformModule, runMain } from '@tandem/service-kit';
import { ConnectorEnvSchema } from './connector.env';
import { ConnectorService } from './connector.service';

runMain('connector', async () => {
  const config = parseEnv('connector', ConnectorEnvSchema);
  const logger = createLogger(`connector-${config.SYSTEM_ID}`, config.LOG_LEVEL);

  @Module({ imports: [PlatformModule.forRoot(`connector-${config.SYSTEM_ID}`, config, logger)], providers: [ConnectorService] })
  class ConnectorModule {}

  await bootstrapService({ service: `connector-${config.SYSTEM_ID}`, module: ConnectorModule, port: config.HTTP_PORT, logger });
});
