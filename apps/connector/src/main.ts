import { parseEnv } from '@tandem/config';
import { ConnectorEnvSchema, ConnectorModule, connectorServiceName } from '@tandem/connector-service';
import { bootstrapService, createLogger, runMain } from '@tandem/service-kit';

runMain('connector', async () => {
  const config = parseEnv('connector', ConnectorEnvSchema);
  const service = connectorServiceName(config);
  const logger = createLogger(service, config.LOG_LEVEL);
  await bootstrapService({ service, module: ConnectorModule.forRoot(config, logger), port: config.HTTP_PORT, logger });
});
