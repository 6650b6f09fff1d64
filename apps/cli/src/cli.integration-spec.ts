import { ConflictLogRepository, createPgSqlClient, migrate } from '@tandem/state';
import { createTempDatabase, TEST_KAFKA_BROKERS, type TempDatabase } from '@tandem/testing';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../..');
const fixture = (name: string) => join(__dirname, '__fixtures__', name);

describe('tandem command line', () => {
  let db: TempDatabase;
  const tandem = (...args: string[]) =>
    spawnSync(process.execPath, ['-r', '@swc-node/register', join(ROOT, 'apps/cli/src/main.ts'), ...args], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, DATABASE_URL: db.url, KAFKA_BROKERS: TEST_KAFKA_BROKERS.join(','), TOPIC_PREFIX: 'cli-test' },
    });

  beforeAll(async () => {
    db = await createTempDatabase('cli');
  });

  afterAll(async () => {
    await db.drop();
  });

  it('stores a valid sync configuration and lists it', () => {
    const applied = tandem('sync', 'apply', fixture('contacts.sync.json'));
    expect(applied.stderr).toBe('');
    expect(applied.stdout).toContain('saved sync contacts: contacts of tenant acme between crm, customer');
    expect(tandem('sync', 'list').stdout).toContain('contacts\tacme\tcontact\tcrm(postgres, bidirectional) customer(postgres, bidirectional)');
  });

  it('refuses an invalid one, naming every problem, and stores nothing', () => {
    const refused = tandem('sync', 'apply', fixture('invalid.sync.json'));
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('a sync links at least two systems');
    expect(refused.stderr).toContain('names system "hubspot", which this sync does not link');
    expect(refused.stderr).toMatch(/formula/);
  });

  it('shows the conflict log with both sides, and refuses a decision on a conflict that is not pending', async () => {
    const client = createPgSqlClient(db.url);
    await migrate(client);
    const side = (system: string, value: string) => ({ system, value, deleted: false, occurredAt: '2026-01-01T00:00:00.000Z', eventId: `${system}:1` });
    await new ConflictLogRepository(client).record([
      {
        conflictId: 'crm:1:phone',
        tenantId: 'acme',
        occurredAt: '2026-01-01T00:00:00.000Z',
        entityType: 'contact',
        entityId: '3f1b2c4d-5e6f-4a1b-8c2d-9e0f1a2b3c4d',
        field: 'phone',
        kind: 'field',
        risk: 'medium',
        strategy: 'latest_wins',
        status: 'resolved',
        sides: [side('crm', '111'), side('customer', '222')],
        outcome: { winner: 'customer', value: '222', deleted: false },
        decidedBy: 'rule:latest_wins',
      },
    ]);
    await client.close();
    const listed = tandem('conflicts', 'list', '--tenant', 'acme');
    expect(listed.stdout).toContain('crm:1:phone\tresolved\t3f1b2c4d-5e6f-4a1b-8c2d-9e0f1a2b3c4d\tphone\tcrm="111" vs customer="222"\t→ customer: "222"\trule:latest_wins');
    const refused = tandem('conflicts', 'resolve', 'crm:1:phone', '--side', 'crm', '--by', 'lena');
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('conflict crm:1:phone was already decided');
  });

  it('explains its usage and a missing setting', () => {
    const usage = tandem('nonsense');
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain('unknown command "nonsense"');
    const noDatabase = spawnSync(process.execPath, ['-r', '@swc-node/register', join(ROOT, 'apps/cli/src/main.ts'), 'sync', 'list'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, DATABASE_URL: '' },
    });
    expect(noDatabase.status).toBe(2);
    expect(noDatabase.stderr).toContain('DATABASE_URL');
  });
});
