export * from './env.util';
