import { eventually } from '@tandem/testing';
import { Client } from 'pg';
import { createCrmCustomerDatabases, startCrmCustomerStack, type CrmCustomerDatabases, type ServiceStack } from '@tandem/local-stack';

const CONTACTS = 10_000;

/** Counts every row written to the table, whoever writes it. */
const WRITE_COUNTER = `
  CREATE TABLE row_writes (n bigserial PRIMARY KEY, op text NOT NULL);
  CREATE FUNCTION count_write() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN INSERT INTO row_writes (op) VALUES (TG_OP); RETURN NULL; END $$;
  CREATE TRIGGER count_write AFTER INSERT OR UPDATE OR DELETE ON contacts FOR EACH ROW EXECUTE FUNCTION count_write();`;

async function writes(client: Client): Promise<number> {
  const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM row_writes`);
  return Number(rows[0]!.n);
}

describe('initial sync of 10,000 contacts, then only what changed', () => {
  let dbs: CrmCustomerDatabases;
  let crm: Client;
  let customer: Client;
  let stack: ServiceStack;

  beforeAll(async () => {
    dbs = await createCrmCustomerDatabases();
    ({ crm, customer } = dbs);
    await crm.query(
      `INSERT INTO contacts (full_name, email, phone) SELECT 'Person ' || i, 'p' || i || '@example.com', '0' FROM generate_series(1, ${CONTACTS}) AS i`,
    );
    await Promise.all([crm.query(WRITE_COUNTER), customer.query(WRITE_COUNTER)]);
    stack = await startCrmCustomerStack(dbs);
  });

  afterAll(async () => {
    await stack?.stop();
    await dbs?.close();
  });

  it('copies every contact once, then writes exactly the 15 changed rows and nothing back', async () => {
    await eventually(async () => expect(await writes(customer)).toBe(CONTACTS), { timeoutMs: 120_000, intervalMs: 1_000 });
    const { rows: copied } = await customer.query<{ n: string }>(`SELECT count(DISTINCT email_address) AS n FROM contacts`);
    expect(Number(copied[0]!.n)).toBe(CONTACTS);
    // Tandem's own writes are not captured as changes, so none come back to the CRM.
    const logged = async (system: string, action: string) =>
      Number(
        (await stack.db.query<{ n: string }>(`SELECT count(*) AS n FROM tandem_sync_log WHERE system_id = $1 AND action LIKE $2`, [system, action]))
          .rows[0]!.n,
      );
    await eventually(async () => expect(await logged('customer', 'apply.applied')).toBe(CONTACTS), { timeoutMs: 120_000, intervalMs: 1_000 });
    expect(await logged('customer', 'change.%')).toBe(0);
    expect(await writes(crm)).toBe(0);

    await crm.query(`UPDATE contacts SET phone = 'changed' WHERE id IN (SELECT id FROM contacts ORDER BY random() LIMIT 15)`);
    expect(await writes(crm)).toBe(15);
    await eventually(async () => {
      const { rows } = await customer.query<{ n: string }>(`SELECT count(*) AS n FROM contacts WHERE phone = 'changed'`);
      expect(Number(rows[0]!.n)).toBe(15);
    });
    await eventually(async () => expect(await logged('customer', 'apply.applied')).toBe(CONTACTS + 15));
    expect(await writes(customer)).toBe(CONTACTS + 15);
    expect(await writes(crm)).toBe(15);
  });
});
