import { createTempDatabase, uniqueSuffix, type TempDatabase } from '@tandem/testing';
import { CheckpointRepository } from './checkpoint.repository';
import { migrate } from './migrate.util';
import { createPgSqlClient, type PgSqlClient } from './pg-sql-client.driver';

describe('CheckpointRepository', () => {
  let db: TempDatabase;
  let client: PgSqlClient;
  let checkpoints: CheckpointRepository;
  let tenantId: string;

  beforeAll(async () => {
    db = await createTempDatabase('state_checkpoints');
    client = createPgSqlClient(db.url);
    await migrate(client);
    checkpoints = new CheckpointRepository(client);
  });

  afterAll(async () => {
    await client.close();
    await db.drop();
  });

  beforeEach(() => {
    tenantId = `t_${uniqueSuffix()}`;
  });

  it('has no checkpoint before the first save, then returns the saved one', async () => {
    expect(await checkpoints.get(tenantId, 'hubspot', 'contacts')).toBeNull();
    expect(await checkpoints.save(tenantId, 'hubspot', 'contacts', 'cursor-1', 3)).toBe(true);
    expect(await checkpoints.get(tenantId, 'hubspot', 'contacts')).toEqual({
      position: 'cursor-1',
      fencingToken: 3,
      updatedAt: expect.any(String),
    });
    expect(await checkpoints.get(tenantId, 'hubspot', 'companies')).toBeNull();
  });

  it('lets the same or a newer lease holder move the cursor', async () => {
    await checkpoints.save(tenantId, 'hubspot', 'contacts', 'cursor-1', 3);
    expect(await checkpoints.save(tenantId, 'hubspot', 'contacts', 'cursor-2', 3)).toBe(true);
    expect(await checkpoints.save(tenantId, 'hubspot', 'contacts', 'cursor-3', 4)).toBe(true);
    expect(await checkpoints.get(tenantId, 'hubspot', 'contacts')).toMatchObject({ position: 'cursor-3', fencingToken: 4 });
  });

  it('refuses a save from a holder with an older fencing token and keeps the cursor', async () => {
    await checkpoints.save(tenantId, 'hubspot', 'contacts', 'cursor-new', 7);
    expect(await checkpoints.save(tenantId, 'hubspot', 'contacts', 'cursor-stale', 6)).toBe(false);
    expect(await checkpoints.get(tenantId, 'hubspot', 'contacts')).toMatchObject({ position: 'cursor-new', fencingToken: 7 });
  });
});
