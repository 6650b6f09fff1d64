export * from './env.util';
export { SERVICE_NODE_FLAGS } from './node-flags';
