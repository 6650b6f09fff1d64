import { eventually } from '@tandem/testing';
import { Client } from 'pg';
import { createCrmCustomerDatabases, startCrmCustomerStack, type CrmCustomerDatabases, type ServiceStack } from '@tandem/local-stack';

const CONTACTS = 1_000;
const UPDATE_ROUNDS = 4;

/** Every CRM contact as the customer database should hold it. */
async function expectedCustomerRows(crm: Client) {
  const { rows } = await crm.query<{ full_name: string; email: string; phone: string }>(`SELECT full_name, email, phone FROM contacts ORDER BY email`);
  return rows.map((row) => {
    const [first, ...rest] = row.full_name.split(' ');
    return { first_name: first ?? null, last_name: rest.join(' ') || null, email_address: row.email, phone: row.phone };
  });
}

describe('services killed with SIGKILL in the middle of a stream', () => {
  let dbs: CrmCustomerDatabases;
  let crm: Client;
  let customer: Client;
  let stack: ServiceStack;

  beforeAll(async () => {
    dbs = await createCrmCustomerDatabases();
    ({ crm, customer } = dbs);
    stack = await startCrmCustomerStack(dbs);
  });

  afterAll(async () => {
    await stack?.stop();
    await dbs?.close();
  });

  it('applies every one of 5,000 changes exactly once after the reconciler and an applier are killed and restarted', async () => {
    const writes = (async () => {
      for (let start = 0; start < CONTACTS; start += 100) {
        const values = Array.from({ length: 100 }, (_, i) => `('Person ${start + i}', 'p${start + i}@example.com', '0')`).join(',');
        await crm.query(`INSERT INTO contacts (full_name, email, phone) VALUES ${values}`);
      }
      for (let round = 1; round <= UPDATE_ROUNDS; round += 1) {
        for (let start = 0; start < CONTACTS; start += 100) {
          await crm.query(`UPDATE contacts SET phone = $1 WHERE id > $2 AND id <= $3`, [String(round), start, start + 100]);
        }
      }
    })();

    // Crash both in the middle of the stream, while their batches are in flight.
    await eventually(async () => {
      const { rows } = await customer.query<{ n: string }>(`SELECT count(*) AS n FROM contacts`);
      expect(Number(rows[0]!.n)).toBeGreaterThan(200);
    });
    await stack.reconciler.kill();
    await stack.appliers.get('customer')!.kill();
    await writes;
    await stack.reconciler.start();
    await stack.appliers.get('customer')!.start();
    // A restart racing another would leave an unwatched second process holding the port.
    await expect(stack.reconciler.start()).rejects.toThrow(/already running/);
    expect(stack.reconciler.running).toBe(true);

    const expected = await expectedCustomerRows(crm);
    expect(expected).toHaveLength(CONTACTS);
    await eventually(
      async () => {
        const { rows } = await customer.query(`SELECT first_name, last_name, email_address, phone FROM contacts ORDER BY email_address`);
        expect(rows).toEqual(expected);
      },
      { timeoutMs: 90_000, intervalMs: 500 },
    );
    // Nothing duplicated, nothing written back to the CRM.
    const { rows: duplicates } = await customer.query(`SELECT email_address FROM contacts GROUP BY email_address HAVING count(*) > 1`);
    expect(duplicates).toEqual([]);
    const { rows: crmRows } = await crm.query<{ n: string }>(`SELECT count(*) AS n FROM contacts`);
    expect(Number(crmRows[0]!.n)).toBe(CONTACTS);
  });
});
