import { createTempDatabase, type TempDatabase } from '@tandem/testing';
import { ArchiveAttemptRepository } from './archive-attempt.repository';
import { migrate } from './migrate.util';
import { createPgSqlClient, type PgSqlClient } from './pg-sql-client.driver';

describe('ArchiveAttemptRepository', () => {
  let db: TempDatabase;
  let client: PgSqlClient;

  beforeAll(async () => {
    db = await createTempDatabase('state_archive_attempts');
    client = createPgSqlClient(db.url);
    await migrate(client);
  });

  afterAll(async () => {
    await client.close();
    await db.drop();
  });

  it('knows the commands remembered, per system, across instances, and forgets those older than a day', async () => {
    await new ArchiveAttemptRepository(client, 'hubspot').remember(['c1', 'c2', 'c1']);
    await new ArchiveAttemptRepository(client, 'other').remember(['c3']);
    // A new instance (an applier restarted) reads what the last one remembered.
    const restarted = new ArchiveAttemptRepository(client, 'hubspot');
    expect(await restarted.attempted(['c1', 'c3', 'c4'])).toEqual(new Set(['c1']));

    await client.query(`UPDATE tandem_archive_attempts SET attempted_at = now() - interval '25 hours' WHERE command_id = 'c2'`);
    await restarted.remember(['c5']);
    expect(await restarted.attempted(['c1', 'c2', 'c5'])).toEqual(new Set(['c1', 'c5']));
  });

  it('forgets the commands it is told to, for its own system only', async () => {
    const hubspot = new ArchiveAttemptRepository(client, 'hubspot');
    await hubspot.remember(['f1', 'f2']);
    await new ArchiveAttemptRepository(client, 'other').remember(['f1']);
    await hubspot.forget(['f1', 'f9']);
    expect(await hubspot.attempted(['f1', 'f2'])).toEqual(new Set(['f2']));
    expect(await new ArchiveAttemptRepository(client, 'other').attempted(['f1'])).toEqual(new Set(['f1']));
  });
});
