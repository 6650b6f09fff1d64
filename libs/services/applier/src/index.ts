export { APPLIER_KIND_REQUIREMENTS, ApplierEnvSchema, type ApplierEnv } from './applier.env';
export { ApplierModule, applierServiceName } from './applier.module';
