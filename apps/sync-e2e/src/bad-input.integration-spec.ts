import { DeadLetterSchema, type DeadLetter } from '@tandem/contracts';
import { KafkaBroker, topicNames } from '@tandem/messaging';
import { RecordErrorRepository, SyncConfigRepository } from '@tandem/state';
import { SyncConfigSchema } from '@tandem/sync-config';
import { eventually, TEST_KAFKA_BROKERS, uniqueSuffix } from '@tandem/testing';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { Client } from 'pg';
import { createCrmCustomerDatabases, crmCustomerSync, startCrmCustomerStack, type CrmCustomerDatabases, type ServiceStack } from '@tandem/local-stack';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

describe('bad input gets a clear error and a dead letter, and the rest flows', () => {
  let dbs: CrmCustomerDatabases;
  let crm: Client;
  let customer: Client;
  let stack: ServiceStack;
  let broker: KafkaBroker;
  const deadLetters: DeadLetter[] = [];

  beforeAll(async () => {
    dbs = await createCrmCustomerDatabases();
    ({ crm, customer } = dbs);
    // The customer database refuses phone numbers longer than 20 characters.
    await customer.query(`ALTER TABLE contacts ADD CONSTRAINT phone_length CHECK (length(phone) <= 20)`);
    stack = await startCrmCustomerStack(dbs);
    broker = new KafkaBroker({ clientId: 'dead-letter-reader', brokers: TEST_KAFKA_BROKERS, logger: quiet });
    const reader = broker.consumer({ groupId: `dl-${uniqueSuffix()}`, topics: [topicNames(stack.prefix).deadLetters] });
    await reader.start(async (batch) => {
      for (const record of batch.records) deadLetters.push(DeadLetterSchema.parse(JSON.parse(record.value!.toString())));
    });
  });

  afterAll(async () => {
    await broker?.close();
    await stack?.stop();
    await dbs?.close();
  });

  it('dead-letters malformed messages with the reason and keeps the partition flowing', async () => {
    const producer = await broker.producer();
    const changes = topicNames(stack.prefix).changes;
    await producer.send([
      {
        topic: changes,
        records: [
          { key: 'acme:x', value: '{not json' },
          { key: 'acme:x', value: JSON.stringify({ schemaVersion: 1, type: 'change', eventId: 'e1', tenantId: 'acme' }) },
        ],
      },
    ]);
    await crm.query(`INSERT INTO contacts (full_name, email, phone) VALUES ('After Garbage', 'after@example.com', '1')`);
    await eventually(async () => expect((await customer.query(`SELECT 1 FROM contacts WHERE email_address = 'after@example.com'`)).rowCount).toBe(1));
    await eventually(() => expect(deadLetters.filter((letter) => letter.code === 'invalid_message')).toHaveLength(2));
    const reasons = deadLetters.map((letter) => letter.reason).join('\n');
    expect(reasons).toContain('not JSON');
    expect(reasons).toMatch(/occurredAt|data/);
    expect(deadLetters.find((letter) => letter.payload === '{not json')).toMatchObject({ sourceTopic: changes, service: 'reconciler' });
  });

  it('records a value the target rejects in the error log and a dead letter, while other records apply', async () => {
    await crm.query(`INSERT INTO contacts (full_name, email, phone) VALUES ('Long Phone', 'long@example.com', $1), ('Fine Phone', 'fine@example.com', '12345')`, ['1'.repeat(30)]);
    await eventually(async () => expect((await customer.query(`SELECT phone FROM contacts WHERE email_address = 'fine@example.com'`)).rows).toEqual([{ phone: '12345' }]));
    const rejected = await eventually(() => {
      const letter = deadLetters.find((candidate) => candidate.service === 'applier-customer');
      expect(letter).toBeDefined();
      return letter!;
    });
    expect(rejected.code).toBe('check_violation');
    expect(rejected.reason).toContain('phone_length');
    const errors = await eventually(async () => {
      const found = await new RecordErrorRepository(stack.db).list({ tenantId: 'acme', systemId: 'customer', limit: 10 });
      expect(found).toHaveLength(1);
      return found;
    });
    expect(errors[0]).toMatchObject({ code: 'check_violation' });
    expect((await customer.query(`SELECT 1 FROM contacts WHERE email_address = 'long@example.com'`)).rowCount).toBe(0);
  });

  it('refuses an invalid sync configuration, naming what is wrong', async () => {
    const invalid = { ...crmCustomerSync(), systems: [{ ...crmCustomerSync().systems[0]!, id: 'Not Valid' }] };
    const saving = new SyncConfigRepository(stack.db, (raw) => SyncConfigSchema.parse(raw)).save(invalid);
    const error = await saving.then(() => null, (rejection: unknown) => rejection as Error);
    expect(error?.message).toContain('contacts');
    expect(error?.message).toMatch(/systems\.0\.id: must be lowercase letters/);
    expect(error?.message).toContain('a sync links at least two systems');
  });

  it('stops a service with bad settings at start, naming every bad variable', () => {
    const root = resolve(__dirname, '../../..');
    const run = spawnSync(process.execPath, ['-r', '@swc-node/register', resolve(root, 'apps/applier/src/main.ts')], {
      cwd: root,
      env: { ...process.env, KAFKA_BROKERS: 'not a broker list', DATABASE_URL: 'mysql://db', SYSTEM_ID: 'Customer DB', TOPIC_PARTITIONS: '0', DATABASE_PREPARED_STATEMENTS: 'sometimes', SYSTEM_DATABASE_PREPARED_STATEMENTS: 'no' },
      encoding: 'utf8',
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('KAFKA_BROKERS: must be a comma-separated list of host:port (got "not a broker list")');
    expect(run.stderr).toContain('DATABASE_URL: must be a URL with protocol postgres or postgresql (got "mysql://db")');
    expect(run.stderr).toContain('SYSTEM_ID');
    expect(run.stderr).toContain('TOPIC_PARTITIONS: must be at least 1 (got "0")');
    expect(run.stderr).toContain('DATABASE_PREPARED_STATEMENTS: must be true or false (got "sometimes")');
    expect(run.stderr).toContain('SYSTEM_DATABASE_PREPARED_STATEMENTS: must be true or false (got "no")');
  });

  it("names the variables a system's kind needs once the sync configuration says the kind", () => {
    const root = resolve(__dirname, '../../..');
    const run = spawnSync(process.execPath, ['-r', '@swc-node/register', resolve(root, 'apps/applier/src/main.ts')], {
      cwd: root,
      env: { ...process.env, KAFKA_BROKERS: TEST_KAFKA_BROKERS.join(','), DATABASE_URL: dbs.tandem.url, TOPIC_PREFIX: stack.prefix, SYSTEM_ID: 'customer' },
      encoding: 'utf8',
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('SYSTEM_DATABASE_URL: required for postgres systems (the target database to write)');
  });
});
