import { Module, type DynamicModule } from '@nestjs/common';
import { PlatformModule, type Infrastructure } from '@tandem/service-kit';
import type { Logger } from 'pino';
import type { ReconcilerEnv } from './reconciler.env';
import { ReconcilerService } from './reconciler.service';

@Module({})
export class ReconcilerModule {
  /** The reconciler on its configuration; `shared` when it runs in one process with the other services. */
  static forRoot(config: ReconcilerEnv, logger: Logger, shared?: Infrastructure): DynamicModule {
    return {
      module: ReconcilerModule,
      imports: [PlatformModule.forRoot(reconcilerServiceName(config), config, logger, shared)],
      providers: [ReconcilerService],
    };
  }
}

/** The name the service logs and registers under. */
export function reconcilerServiceName(_config: ReconcilerEnv): string {
  return 'reconciler';
}
