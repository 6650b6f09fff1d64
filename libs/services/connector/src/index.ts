export { CONNECTOR_KIND_REQUIREMENTS, ConnectorEnvSchema, type ConnectorEnv } from './connector.env';
export { ConnectorModule, connectorServiceName } from './connector.module';
