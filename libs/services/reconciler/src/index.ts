export { ReconcilerEnvSchema, type ReconcilerEnv } from './reconciler.env';
export { ReconcilerModule, reconcilerServiceName } from './reconciler.module';
