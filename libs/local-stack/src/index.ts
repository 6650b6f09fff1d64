export { ServiceProcess, freePort } from './service-process';
export { ServiceStack, type StackSystem } from './service-stack';
export {
  CRM_TABLE,
  CUSTOMER_TABLE,
  createCrmCustomerDatabases,
  crmCustomerSync,
  startCrmCustomerStack,
  type CrmCustomerDatabases,
} from './fixtures/crm-customer.fixture';
