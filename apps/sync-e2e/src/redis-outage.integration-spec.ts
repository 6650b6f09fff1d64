import { createCrmCustomerDatabases, startCrmCustomerStack, type CrmCustomerDatabases, type ServiceStack } from '@tandem/local-stack';
import { eventually, TcpRelay, TEST_REDIS_URL } from '@tandem/testing';
import { readFileSync } from 'node:fs';
import { Client } from 'pg';

describe('Redis down while changes keep coming', () => {
  let dbs: CrmCustomerDatabases;
  let crm: Client;
  let customer: Client;
  let relay: TcpRelay;
  let stack: ServiceStack;

  beforeAll(async () => {
    dbs = await createCrmCustomerDatabases();
    ({ crm, customer } = dbs);
    const redis = new URL(TEST_REDIS_URL);
    relay = await TcpRelay.start({ host: redis.hostname, port: Number(redis.port || 6379) });
    stack = await startCrmCustomerStack(dbs, { env: { REDIS_URL: relay.via(TEST_REDIS_URL), LEASE_TTL_MS: '3000' } });
  });

  afterAll(async () => {
    await relay?.restore();
    await stack?.stop();
    await relay?.cut();
    await dbs?.close();
  });

  it('pauses reading without its lease, then resumes and delivers every change exactly once', async () => {
    await crm.query(`INSERT INTO contacts (full_name, email, phone) VALUES ('Before Redis', 'before@example.com', '1')`);
    await eventually(async () => expect((await customer.query(`SELECT 1 FROM contacts`)).rowCount).toBe(1));

    await relay.cut();
    const connector = stack.connectors.get('crm')!;
    // Without Redis the lease cannot be confirmed: the connector must stop reading.
    await eventually(() => expect(readFileSync(connector.logFile, 'utf8')).toMatch(/lease lost/), { timeoutMs: 20_000 });
    for (let index = 0; index < 20; index += 1) {
      await crm.query(`INSERT INTO contacts (full_name, email, phone) VALUES ($1, $2, '2')`, [`During ${index}`, `during${index}@example.com`]);
    }
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect((await customer.query(`SELECT 1 FROM contacts WHERE phone = '2'`)).rowCount).toBe(0);

    await relay.restore();
    await eventually(async () => expect((await customer.query(`SELECT 1 FROM contacts WHERE phone = '2'`)).rowCount).toBe(20), { timeoutMs: 30_000 });
    const { rows: duplicates } = await customer.query(`SELECT email_address FROM contacts GROUP BY email_address HAVING count(*) > 1`);
    expect(duplicates).toEqual([]);
  });

  it('starts services while Redis is down: those that need it wait unready, the rest run', async () => {
    await relay.cut();
    const connector = stack.connectors.get('crm')!;
    const others = [stack.reconciler, stack.appliers.get('customer')!];
    await Promise.all([connector, ...others].map((service) => service.kill()));

    // Neither the reconciler nor a PostgreSQL applier uses Redis: both start and are ready without it.
    await Promise.all(others.map((service) => service.start()));
    const connectorStarted = connector.start();
    await eventually(async () => {
      const health = (await connector.health()) as { checks?: Record<string, { status: string }> };
      expect(health.checks?.['coordination']?.status).toBe('unavailable');
    });
    await crm.query(`INSERT INTO contacts (full_name, email, phone) VALUES ('Without Redis', 'without@example.com', '3')`);

    await relay.restore();
    await connectorStarted;
    await eventually(async () => expect((await customer.query(`SELECT 1 FROM contacts WHERE phone = '3'`)).rowCount).toBe(1), { timeoutMs: 30_000 });
  });
});
