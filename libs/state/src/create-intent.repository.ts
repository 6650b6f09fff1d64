import type { SqlClient } from './sql-client.interface';

/** How long an intent no answer settled is kept: redeliveries come within minutes, not days. */
const KEPT = '1 day';

/** A create an applier is about to send: the command, for an entity of a tenant. */
export interface CreateIntent {
  tenantId: string;
  entityId: string;
  commandId: string;
}

/**
 * The creates an applier sends to a system whose connector cannot tell Tandem's writes from anyone's
 * (an API), announced before they are sent. A new record there carrying the key of an entity Tandem
 * is creating a record for is that create, seen before the applier could link it, or after the
 * applier died in between: that system's connector links it to the entity rather than starting an
 * entity of its own, which every other system would then get a second copy of. An intent is settled
 * when the record is linked, by the applier's answer or by the connector, and forgotten after a day.
 */
export class CreateIntentRepository {
  constructor(
    private readonly client: SqlClient,
    private readonly systemId: string,
  ) {}

  /** Announces these creates, before they are sent; forgets intents older than a day. */
  async announce(intents: CreateIntent[]): Promise<void> {
    if (intents.length === 0) return;
    await this.client.query(
      `INSERT INTO tandem_create_intents (tenant_id, system_id, entity_id, command_id)
       SELECT i.tenant_id, $1, i.entity_id, i.command_id FROM unnest($2::text[], $3::uuid[], $4::text[]) AS i(tenant_id, entity_id, command_id)
       ON CONFLICT DO NOTHING`,
      [this.systemId, intents.map((intent) => intent.tenantId), intents.map((intent) => intent.entityId), intents.map((intent) => intent.commandId)],
    );
    await this.client.query(`DELETE FROM tandem_create_intents WHERE system_id = $1 AND announced_at < now() - interval '${KEPT}'`, [this.systemId]);
  }

  /** Of these entities (ids in lower case), those a create is announced for and not settled. */
  async creating(tenantId: string, entityIds: string[]): Promise<Set<string>> {
    if (entityIds.length === 0) return new Set();
    const { rows } = await this.client.query<{ entity_id: string }>(
      `SELECT DISTINCT entity_id::text FROM tandem_create_intents
       WHERE tenant_id = $1 AND system_id = $2 AND entity_id = ANY($3::uuid[]) AND announced_at >= now() - interval '${KEPT}'`,
      [tenantId, this.systemId, entityIds],
    );
    return new Set(rows.map((row) => row.entity_id.toLowerCase()));
  }

  /** Settles every create announced for these entities: each has its record linked there now. */
  async settle(tenantId: string, entityIds: string[]): Promise<void> {
    if (entityIds.length === 0) return;
    await this.client.query(`DELETE FROM tandem_create_intents WHERE tenant_id = $1 AND system_id = $2 AND entity_id = ANY($3::uuid[])`, [
      tenantId,
      this.systemId,
      entityIds,
    ]);
  }
}
