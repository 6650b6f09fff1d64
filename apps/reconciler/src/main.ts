import { parseEnv } from '@tandem/config';
import { bootstrapService, createLogger, PlatformModule, runMain } from '@tandem/service-kit';
import { Module } from '@nestjs/common';
import { ReconcilerEnvSchema } from './reconciler.env';
import { ReconcilerService } from './reconciler.service';

runMain('reconciler', async () => {
  const config = parseEnv('reconciler', ReconcilerEnvSchema);
  const logger = createLogger('reconciler', config.LOG_LEVEL);

  @Module({ imports: [PlatformModule.forRoot('reconciler', config, logger)], providers: [ReconcilerService] })
  class ReconcilerModule {}

  await bootstrapService({ service: 'reconciler', module: ReconcilerModule, port: config.HTTP_PORT, logger });
});
