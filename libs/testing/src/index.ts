export * from './eventually.util';
export * from './temp-database.util';
