import { parseEnv } from '@tandem/config';
import { ApplierEnvSchema, ApplierModule, applierServiceName } from '@tandem/applier-service';
import { bootstrapService, createLogger, runMain } from '@tandem/service-kit';

runMain('applier', async () => {
  const config = parseEnv('applier', ApplierEnvSchema);
  const service = applierServiceName(config);
  const logger = createLogger(service, config.LOG_LEVEL);
  await bootstrapService({ service, module: ApplierModule.forRoot(config, logger), port: config.HTTP_PORT, logger });
});
