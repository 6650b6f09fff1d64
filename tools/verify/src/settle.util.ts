import type { HubSpotSimulator } from '@tandem/hubspot-simulator';
import { inFlight, type KafkaReader, type ServiceStack } from '@tandem/local-stack';
import type { Pool } from 'pg';

export interface SettleInput {
  stack: ServiceStack;
  crm: Pool;
  customer: Pool;
  hubspot: HubSpotSimulator;
  kafka: KafkaReader;
  tenantId: string;
  timeoutMs: number;
  /** How long nothing may flow before the system counts as settled. */
  quietMs: number;
  say: (message: string) => void;
}

/**
 * Waits until no change flows: no webhook pending, nothing in flight (see `inFlight`), the inboxes
 * empty, and nothing new in the sync log for `quietMs`.
 * Rejects when that does not happen within `timeoutMs`.
 */
export async function settle(input: SettleInput): Promise<void> {
  const { stack, crm, customer, hubspot, kafka, tenantId, timeoutMs, quietMs, say } = input;
  const deadline = Date.now() + timeoutMs;
  let quietSince: number | null = null;
  let lastLogId = -1;
  let lastReport = 0;
  let backlog = '';
  while (Date.now() < deadline) {
    try {
      const parts: string[] = [];
      const webhooks = hubspot.webhookStats().pending;
      if (webhooks > 0) parts.push(`${webhooks} webhook events pending`);
      parts.push(...(await inFlight(stack, kafka, [{ name: 'crm', query: (text) => crm.query(text) }, { name: 'customer', query: (text) => customer.query(text) }])));
      const inbox = Number((await stack.db.query<{ n: string }>(`SELECT count(*) AS n FROM tandem_source_inbox WHERE tenant_id = $1`, [tenantId])).rows[0]!.n);
      if (inbox > 0) parts.push(`${inbox} in inboxes`);
      const logId = Number((await stack.db.query<{ id: string | null }>(`SELECT max(id) AS id FROM tandem_sync_log`)).rows[0]!.id ?? 0);
      if (logId !== lastLogId) parts.push('sync log growing');
      lastLogId = logId;
      backlog = parts.join(', ');
      if (parts.length === 0) {
        quietSince ??= Date.now();
        if (Date.now() - quietSince >= quietMs) return;
      } else {
        quietSince = null;
      }
    } catch (error) {
      quietSince = null;
      backlog = `cannot read the pipeline's progress: ${error instanceof Error ? error.message : String(error)}`;
      await kafka.close();
    }
    if (Date.now() - lastReport > 5_000 && backlog) {
      lastReport = Date.now();
      say(`  settling: ${backlog}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`the system did not settle within ${timeoutMs / 1000} s: ${backlog || 'still changing'}`);
}
