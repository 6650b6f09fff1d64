import { randomUUID } from 'node:crypto';
import { createTempDatabase, uniqueSuffix, type TempDatabase } from '@tandem/testing';
import { migrate } from './migrate.util';
import { createPgSqlClient, type PgSqlClient } from './pg-sql-client.driver';
import { SyncLogRepository } from './sync-log.repository';

describe('SyncLogRepository', () => {
  let db: TempDatabase;
  let client: PgSqlClient;
  let log: SyncLogRepository;

  beforeAll(async () => {
    db = await createTempDatabase('state_sync_log');
    client = createPgSqlClient(db.url);
    await migrate(client);
    log = new SyncLogRepository(client);
  });

  afterAll(async () => {
    await client.close();
    await db.drop();
  });

  it('appends a batch in order and reads one entity newest first, up to the limit', async () => {
    const tenantId = `t_${uniqueSuffix()}`;
    const [ada, grace] = [randomUUID(), randomUUID()];
    await log.append([
      { tenantId, entityId: ada, systemId: 'crm', action: 'change.received', detail: { fields: ['email'] } },
      { tenantId, entityId: grace, systemId: 'crm', action: 'change.received', detail: { reason: 'split\u001ehere, "quoted" \\ ' } },
      { tenantId, entityId: ada, systemId: 'hubspot', action: 'apply.sent', detail: { version: 2 } },
      { tenantId, entityId: null, systemId: null, action: 'batch.done', detail: { size: 3 } },
    ]);

    const entries = await log.forEntity(tenantId, ada, 10);
    expect(entries.map((e) => [e.systemId, e.action, e.detail])).toEqual([
      ['hubspot', 'apply.sent', { version: 2 }],
      ['crm', 'change.received', { fields: ['email'] }],
    ]);
    expect(entries[0]).toMatchObject({ tenantId, entityId: ada, id: expect.any(Number), at: expect.any(String) });
    expect((await log.forEntity(tenantId, ada, 1)).map((e) => e.action)).toEqual(['apply.sent']);
    expect((await log.forEntity(tenantId, grace, 10)).map((e) => e.detail)).toEqual([{ reason: 'split\u001ehere, "quoted" \\ ' }]);
    expect(await log.forEntity(`o_${uniqueSuffix()}`, ada, 10)).toEqual([]);
  });

  it('accepts an empty batch', async () => {
    await expect(log.append([])).resolves.toBeUndefined();
  });
});
