import { parseEnv } from '@tandem/config';
import { ReconcilerEnvSchema, ReconcilerModule, reconcilerServiceName } from '@tandem/reconciler-service';
import { bootstrapService, createLogger, runMain } from '@tandem/service-kit';

runMain('reconciler', async () => {
  const config = parseEnv('reconciler', ReconcilerEnvSchema);
  const service = reconcilerServiceName(config);
  const logger = createLogger(service, config.LOG_LEVEL);
  await bootstrapService({ service, module: ReconcilerModule.forRoot(config, logger), port: config.HTTP_PORT, logger });
});
