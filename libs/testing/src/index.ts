export * from './eventually.util';
export * from './temp-database.util';
export * from './tcp-relay.util';
export * from './free-port.util';
export * from './pg-statements.util';
