/** A contact as the simulator's test-facing methods return it (every property it has). */
export interface SimContact {
  id: string;
  properties: Record<string, string | null>;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
  archivedAt?: string;
}

/** Who made a change: a person in HubSpot's UI, or an API client. Webhook events carry it. */
export type ChangeSource = 'CRM' | 'INTEGRATION';
