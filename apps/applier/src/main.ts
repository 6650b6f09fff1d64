import { Module } from '@nestjs/common';
import { parseEnv } from '@tandem/config';
import { bootstrapService, createLogger, PlatformModule, runMain } from '@tandem/service-kit';
import { ApplierEnvSchema } from './applier.env';
import { ApplierService } from './applier.service';

runMain('applier', async () => {
  const config = parseEnv('applier', ApplierEnvSchema);
  const logger = createLogger(`applier-${config.SYSTEM_ID}`, config.LOG_LEVEL);

  @Module({ imports: [PlatformModule.forRoot(`applier-${config.SYSTEM_ID}`, config, logger)], providers: [ApplierService] })
  class ApplierModule {}

  await bootstrapService({ service: `applier-${config.SYSTEM_ID}`, module: ApplierModule, port: config.HTTP_PORT, logger });
});
