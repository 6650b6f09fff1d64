export { ConnectorEnvSchema, type ConnectorEnv } from './connector.env';
export { ConnectorModule, connectorServiceName } from './connector.module';
