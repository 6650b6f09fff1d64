import { Module, type DynamicModule } from '@nestjs/common';
import { PlatformModule, type Infrastructure } from '@tandem/service-kit';
import type { Logger } from 'pino';
import type { ApplierEnv } from './applier.env';
import { ApplierService } from './applier.service';

@Module({})
export class ApplierModule {
  /** The applier on its configuration; `shared` when it runs in one process with the other services. */
  static forRoot(config: ApplierEnv, logger: Logger, shared?: Infrastructure): DynamicModule {
    return {
      module: ApplierModule,
      imports: [PlatformModule.forRoot(applierServiceName(config), config, logger, shared)],
      providers: [ApplierService],
    };
  }
}

/** The name the service logs and registers under. */
export function applierServiceName(config: ApplierEnv): string {
  return `applier-${config.SYSTEM_ID}`;
}
