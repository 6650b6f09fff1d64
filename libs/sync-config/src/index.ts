export * from './sync-config.schema';
