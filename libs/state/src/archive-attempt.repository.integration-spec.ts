import { createTempDatabase, type TempDatabase } from '@tandem/testing';
import { ArchiveAttemptRepository } from './archive-attempt.repository';
import { migrate } from './migrate.util';
import { createPgSqlClient, type PgSqlClient } from './pg-sql-client.driver';

/** A time with whole milliseconds, as the applier gives them. */
const T = Date.parse('2026-12-07T10:00:00.123Z');

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
    await new ArchiveAttemptRepository(client, 'hubspot').remember(['c1', 'c2', 'c1'], T);
    await new ArchiveAttemptRepository(client, 'other').remember(['c3'], T);
    // A new instance (an applier restarted) reads what the last one remembered.
    const restarted = new ArchiveAttemptRepository(client, 'hubspot');
    expect(await restarted.attempted(['c1', 'c3', 'c4'])).toEqual(new Map([['c1', T]]));

    await client.query(`UPDATE tandem_archive_attempts SET attempted_at = now() - interval '25 hours' WHERE command_id = 'c2'`);
    await restarted.remember(['c5'], T);
    expect([...(await restarted.attempted(['c1', 'c2', 'c5'])).keys()].sort()).toEqual(['c1', 'c5']);
  });

  it('keeps the latest time an attempt of each command can have archived by', async () => {
    const hubspot = new ArchiveAttemptRepository(client, 'hubspot');
    await hubspot.remember(['t1', 't2'], T);
    // A retry sends again later; a late-running earlier send must not pull the time back.
    await hubspot.remember(['t1'], T + 60_000);
    await hubspot.remember(['t2'], T - 60_000);
    expect(await hubspot.attempted(['t1', 't2'])).toEqual(
      new Map([
        ['t1', T + 60_000],
        ['t2', T],
      ]),
    );
  });

  it('forgets the commands it is told to, for its own system only', async () => {
    const hubspot = new ArchiveAttemptRepository(client, 'hubspot');
    await hubspot.remember(['f1', 'f2'], T);
    await new ArchiveAttemptRepository(client, 'other').remember(['f1'], T);
    await hubspot.forget(['f1', 'f9']);
    expect([...(await hubspot.attempted(['f1', 'f2'])).keys()]).toEqual(['f2']);
    expect([...(await new ArchiveAttemptRepository(client, 'other').attempted(['f1'])).keys()]).toEqual(['f1']);
  });
});
