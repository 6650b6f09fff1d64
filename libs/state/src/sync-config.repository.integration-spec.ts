import { createTempDatabase, uniqueSuffix, type TempDatabase } from '@tandem/testing';
import { z } from 'zod';
import { migrate } from './migrate.util';
import { createPgSqlClient, type PgSqlClient } from './pg-sql-client.driver';
import { isStateError, StateErrorCode } from './state.error';
import { SyncConfigRepository } from './sync-config.repository';

// A stand-in for the real sync config schema: enough shape to fail on, and a default to fill in.
const TestConfigSchema = z.object({
  id: z.string().min(1),
  tenantId: z.string().min(1),
  entityType: z.enum(['contact', 'company', 'deal']),
  systems: z.array(z.string()).min(2, 'a sync links at least two systems'),
  matchOn: z.array(z.string()).default(['email']),
});
type TestConfig = z.infer<typeof TestConfigSchema>;

describe('SyncConfigRepository', () => {
  let db: TempDatabase;
  let client: PgSqlClient;
  let configs: SyncConfigRepository<TestConfig>;
  let tenantId: string;

  beforeAll(async () => {
    db = await createTempDatabase('state_syncconfig');
    client = createPgSqlClient(db.url);
    await migrate(client);
    configs = new SyncConfigRepository(client, (raw) => TestConfigSchema.parse(raw));
  });

  afterAll(async () => {
    await client.close();
    await db.drop();
  });

  beforeEach(() => {
    tenantId = `t_${uniqueSuffix()}`;
  });

  // `list` spans all tenants, so no test may leave a broken config behind for the next one.
  afterEach(() => client.query('DELETE FROM tandem_sync_configs WHERE tenant_id = $1', [tenantId]));

  const contactSync = (): TestConfig => ({
    id: `${tenantId}-contacts`,
    tenantId,
    entityType: 'contact',
    systems: ['crm', 'hubspot'],
    matchOn: ['email'],
  });

  it('saves a validated config (defaults filled in) and finds it by id and by tenant and entity type', async () => {
    const withoutDefault = { id: contactSync().id, tenantId, entityType: 'contact', systems: ['crm', 'hubspot'] };
    const saved = await configs.save(withoutDefault as TestConfig);
    expect(saved).toEqual(contactSync());
    expect(await configs.get(saved.id)).toEqual(contactSync());
    expect(await configs.forEntity(tenantId, 'contact')).toEqual(contactSync());
    expect(await configs.forEntity(tenantId, 'deal')).toBeNull();
    expect(await configs.get('no-such-config')).toBeNull();
    expect((await configs.list()).map((config) => config.id)).toContain(saved.id);
  });

  it('replaces a config saved again under the same id', async () => {
    await configs.save(contactSync());
    await configs.save({ ...contactSync(), systems: ['crm', 'hubspot', 'salesforce'] });
    expect((await configs.get(contactSync().id))?.systems).toEqual(['crm', 'hubspot', 'salesforce']);
  });

  it('refuses to write an invalid config, naming it and every problem, and stores nothing', async () => {
    const invalid = { ...contactSync(), systems: ['crm'], entityType: 'ticket' } as unknown as TestConfig;
    const error = await configs.save(invalid).catch((caught: unknown) => caught);
    expect(isStateError(error, StateErrorCode.InvalidSyncConfig)).toBe(true);
    const message = (error as Error).message;
    expect(message).toContain(contactSync().id);
    expect(message).toContain('systems: a sync links at least two systems');
    expect(message).toContain('entityType');
    expect(await configs.get(contactSync().id)).toBeNull();
  });

  it('refuses a second config for the same tenant and entity type', async () => {
    await configs.save(contactSync());
    const error = await configs.save({ ...contactSync(), id: `${tenantId}-other` }).catch((caught: unknown) => caught);
    expect(isStateError(error, StateErrorCode.SyncConfigConflict)).toBe(true);
    expect(await configs.get(`${tenantId}-other`)).toBeNull();
  });

  it('fails to load a stored config that no longer validates, naming the config and the problem', async () => {
    const saved = await configs.save(contactSync());
    await client.query(`UPDATE tandem_sync_configs SET config = config - 'systems' WHERE id = $1`, [saved.id]);

    for (const load of [() => configs.get(saved.id), () => configs.forEntity(tenantId, 'contact')]) {
      const error = await load().catch((caught: unknown) => caught);
      expect(isStateError(error, StateErrorCode.InvalidSyncConfig)).toBe(true);
      expect((error as Error).message).toMatch(new RegExp(`sync config ${saved.id} is invalid: systems: `));
    }
  });

  it('lists every config, and names every broken one when any fails', async () => {
    const contacts = await configs.save(contactSync());
    const deals = await configs.save({ ...contactSync(), id: `${tenantId}-deals`, entityType: 'deal' });
    expect((await configs.list()).map((config) => config.id)).toEqual(expect.arrayContaining([contacts.id, deals.id]));

    await client.query(`UPDATE tandem_sync_configs SET config = jsonb_set(config, '{systems}', '[]') WHERE tenant_id = $1`, [
      tenantId,
    ]);
    const error = await configs.list().catch((caught: unknown) => caught);
    expect(isStateError(error, StateErrorCode.InvalidSyncConfig)).toBe(true);
    expect((error as Error).message).toContain(contacts.id);
    expect((error as Error).message).toContain(deals.id);
  });
});
