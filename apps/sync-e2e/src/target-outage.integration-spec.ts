import { eventually, TcpRelay, TEST_POSTGRES_URL } from '@tandem/testing';
import { Client } from 'pg';
import { createCrmCustomerDatabases, startCrmCustomerStack, type CrmCustomerDatabases, type ServiceStack } from '@tandem/local-stack';

const OUTAGE_MS = 30_000;

describe('a target database that refuses connections for 30 s', () => {
  let dbs: CrmCustomerDatabases;
  let crm: Client;
  let customer: Client;
  let relay: TcpRelay;
  let stack: ServiceStack;

  beforeAll(async () => {
    dbs = await createCrmCustomerDatabases();
    ({ crm, customer } = dbs);
    const server = new URL(TEST_POSTGRES_URL);
    relay = await TcpRelay.start({ host: server.hostname, port: Number(server.port || 5432) });
    stack = await startCrmCustomerStack(dbs, { customerUrl: relay.via(dbs.customerDb.url) });
  });

  afterAll(async () => {
    await relay?.restore();
    await stack?.stop();
    await relay?.cut();
    await dbs?.close();
  });

  it('opens the breaker, loses nothing, and delivers everything once the target is back', async () => {
    await crm.query(`INSERT INTO contacts (full_name, email, phone) VALUES ('Before Outage', 'before@example.com', '1')`);
    await eventually(async () => expect((await customer.query(`SELECT 1 FROM contacts`)).rowCount).toBe(1));

    await relay.cut();
    const outageEnds = Date.now() + OUTAGE_MS;
    let written = 0;
    let sawOpen = false;
    while (Date.now() < outageEnds) {
      await crm.query(`INSERT INTO contacts (full_name, email, phone) VALUES ($1, $2, '2')`, [`During ${written}`, `during${written}@example.com`]);
      written += 1;
      const health = (await stack.appliers.get('customer')!.health()) as { details?: { applier?: { breaker?: string } } };
      sawOpen ||= health.details?.applier?.breaker === 'open';
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(sawOpen).toBe(true);
    expect((await customer.query(`SELECT 1 FROM contacts`)).rowCount).toBe(1);

    await relay.restore();
    await eventually(
      async () => {
        const { rows } = await customer.query<{ email_address: string }>(`SELECT email_address FROM contacts WHERE phone = '2' ORDER BY email_address`);
        expect(rows).toHaveLength(written);
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    const { rows: duplicates } = await customer.query(`SELECT email_address FROM contacts GROUP BY email_address HAVING count(*) > 1`);
    expect(duplicates).toEqual([]);
  });
});
