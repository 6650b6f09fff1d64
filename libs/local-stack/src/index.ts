export { inFlight, type CapturingDatabase } from './in-flight.util';
export { deleteKafkaNamespace } from './kafka-namespace.util';
export { KafkaReader, type PartitionOffsets } from './kafka-reader.util';
export { ServiceProcess } from './service-process';
export { ServiceStack, type StackSystem } from './service-stack';
export {
  CRM_TABLE,
  CUSTOMER_TABLE,
  createCrmCustomerDatabases,
  crmCustomerSync,
  startCrmCustomerStack,
  type CrmCustomerDatabases,
} from './fixtures/crm-customer.fixture';
export {
  HUBSPOT_ACCESS_TOKEN,
  HUBSPOT_CLIENT_SECRET,
  HUBSPOT_PORTAL_ID,
  createCrmHubSpotWorld,
  crmHubSpotSync,
  entityReadBackFromHubSpot,
  startCrmHubSpotStack,
  type CrmHubSpotWorld,
  type HubSpotSystemSettings,
} from './fixtures/crm-hubspot.fixture';
export {
  createThreeWayWorld,
  threeWayStack,
  threeWaySync,
  type ThreeWaySyncOptions,
  type ThreeWayWorld,
} from './fixtures/three-way.fixture';
