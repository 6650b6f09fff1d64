import { createTempDatabase, uniqueSuffix, type TempDatabase } from '@tandem/testing';
import { randomUUID } from 'node:crypto';
import { CreateIntentRepository } from './create-intent.repository';
import { migrate } from './migrate.util';
import { createPgSqlClient, type PgSqlClient } from './pg-sql-client.driver';

describe('CreateIntentRepository', () => {
  let db: TempDatabase;
  let client: PgSqlClient;

  beforeAll(async () => {
    db = await createTempDatabase('state_create_intents');
    client = createPgSqlClient(db.url);
    await migrate(client);
  });

  afterAll(async () => {
    await client.close();
    await db.drop();
  });

  it('knows the entities a create is announced for, per tenant and system, until settled', async () => {
    const [tenant, otherTenant] = [`t${uniqueSuffix()}`, `t${uniqueSuffix()}`];
    const [first, second, third] = [randomUUID(), randomUUID(), randomUUID()];
    const hubspot = new CreateIntentRepository(client, 'hubspot');
    await hubspot.announce([
      { tenantId: tenant, entityId: first, commandId: 'c1' },
      { tenantId: tenant, entityId: first, commandId: 'c1' },
      { tenantId: tenant, entityId: second.toUpperCase(), commandId: 'c2' },
      { tenantId: otherTenant, entityId: third, commandId: 'c3' },
    ]);
    await new CreateIntentRepository(client, 'google').announce([{ tenantId: tenant, entityId: third, commandId: 'c4' }]);

    // Another instance (a connector) reads what the applier announced.
    const seen = new CreateIntentRepository(client, 'hubspot');
    expect(await seen.creating(tenant, [first, second, third])).toEqual(new Set([first, second]));
    await seen.settle(tenant, [first]);
    expect(await seen.creating(tenant, [first, second, third])).toEqual(new Set([second]));
    expect(await seen.creating(otherTenant, [third])).toEqual(new Set([third]));
  });

  it('forgets intents older than a day', async () => {
    const tenant = `t${uniqueSuffix()}`;
    const [old, recent] = [randomUUID(), randomUUID()];
    const intents = new CreateIntentRepository(client, 'hubspot');
    await intents.announce([{ tenantId: tenant, entityId: old, commandId: 'c1' }]);
    await client.query(`UPDATE tandem_create_intents SET announced_at = now() - interval '25 hours' WHERE tenant_id = $1`, [tenant]);
    expect(await intents.creating(tenant, [old])).toEqual(new Set());

    await intents.announce([{ tenantId: tenant, entityId: recent, commandId: 'c2' }]);
    const { rows } = await client.query<{ entity_id: string }>('SELECT entity_id::text FROM tandem_create_intents WHERE tenant_id = $1', [tenant]);
    expect(rows.map((row) => row.entity_id)).toEqual([recent]);
  });
});
