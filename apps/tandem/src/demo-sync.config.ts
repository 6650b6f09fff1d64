import { SyncConfigSchema, type SyncConfig, type SyncConfigInput } from '@tandem/sync-config';

/** The simulated HubSpot account's credentials: a demo, not a secret. */
export const DEMO_HUBSPOT = { accessToken: 'demo-private-app-token', clientSecret: 'demo-app-client-secret', portalId: 33 } as const;

/** The demo CRM's own table, as a CRM would have it. */
export const DEMO_CRM_TABLE = 'CREATE TABLE IF NOT EXISTS contacts (id serial PRIMARY KEY, full_name text, email text, phone text)';

/**
 * The demo CRM's contacts (full_name) ↔ HubSpot contacts (firstname + lastname), linked by email.
 * Names resolve by latest edit; a phone edited on both sides waits for a person, so the demo shows
 * both resolved and pending conflicts.
 */
export function demoSync(hubspotBaseUrl: string): SyncConfig {
  return SyncConfigSchema.parse({
    id: 'demo-contacts',
    tenantId: 'demo',
    entityType: 'contact',
    matchOn: ['email'],
    systems: [
      {
        id: 'crm',
        kind: 'postgres',
        settings: { table: 'contacts' },
        mapping: [
          { kind: 'split', native: 'full_name', canonical: ['first_name', 'last_name'] },
          { kind: 'field', native: 'email', canonical: 'email', transforms: [{ type: 'trim' }, { type: 'lowercase' }] },
          { kind: 'field', native: 'phone', canonical: 'phone' },
        ],
      },
      {
        id: 'hubspot',
        kind: 'hubspot',
        // Webhooks carry changes at once; the search poll is the safety net for lost deliveries.
        settings: { baseUrl: hubspotBaseUrl, accountId: String(DEMO_HUBSPOT.portalId), pollIntervalMs: 10_000, searchLagMs: 2_000 },
        mapping: [
          { kind: 'field', native: 'firstname', canonical: 'first_name' },
          { kind: 'field', native: 'lastname', canonical: 'last_name' },
          { kind: 'field', native: 'email', canonical: 'email', transforms: [{ type: 'trim' }, { type: 'lowercase' }] },
          { kind: 'field', native: 'phone', canonical: 'phone' },
        ],
      },
    ],
    conflicts: { default: { strategy: 'latest_wins' }, fields: { phone: { strategy: 'manual' } } },
  } satisfies SyncConfigInput);
}
