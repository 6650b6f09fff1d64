export { HubSpotSimulator } from './hubspot-simulator.service';
export type {
  BatchValidationMode,
  HubSpotSimulatorOptions,
  HubSpotSimulatorWebhookOptions,
  ResolvedSimulatorOptions,
  RollingLimit,
} from './simulator-options.schema';
export type { SimulatorFaults } from './simulator-faults.interface';
export type { ChangeSource, SimContact } from './sim-contact.interface';
export type { WebhookStats } from './webhook-dispatcher.service';
export type { WebhookEvent, WebhookSubscriptionType } from './webhook-event.interface';
export { HubSpotSimulatorError, HubSpotSimulatorErrorCode } from './hubspot-simulator.error';
