export { createLogger, contextLogger, NestPinoLogger } from './logger.util';
export { HealthService, type HealthCheck, type HealthReport } from './health.service';
export { bootstrapService, runMain, type ServiceBootstrap } from './bootstrap.util';
export { PlatformEnvSchema, topicsConfig, type PlatformEnv } from './platform-env.schema';
export { PlatformModule, ServicePlatform, type Infrastructure } from './platform.module';
export { missingForKind, type KindRequirements } from './kind-requirements.util';
