import { ConflictLogRepository } from '@tandem/state';
import { eventually } from '@tandem/testing';
import { Client } from 'pg';
import { createCrmCustomerDatabases, crmCustomerSync, type CrmCustomerDatabases } from '@tandem/local-stack';
import { PipelineHarness } from './pipeline-harness';

describe('two-way sync between two PostgreSQL databases over Kafka', () => {
  let dbs: CrmCustomerDatabases;
  let crm: Client;
  let customer: Client;
  let harness: PipelineHarness;

  beforeAll(async () => {
    dbs = await createCrmCustomerDatabases();
    ({ crm, customer } = dbs);
    harness = await PipelineHarness.start(dbs.tandem.url, crmCustomerSync(), [
      { systemId: 'crm', url: dbs.crmDb.url, table: 'contacts' },
      { systemId: 'customer', url: dbs.customerDb.url, table: 'contacts' },
    ]);
  });

  afterAll(async () => {
    await harness?.stop();
    await dbs?.close();
  });

  const customerRow = async (email: string) =>
    (await customer.query(`SELECT first_name, last_name, email_address, phone FROM contacts WHERE email_address = $1`, [email])).rows;
  const crmRow = async (email: string) =>
    (await crm.query(`SELECT full_name, email, phone, notes FROM contacts WHERE email = $1`, [email])).rows;

  it('carries inserts, updates and deletes both ways, mapping full_name to first and last name', async () => {
    await crm.query(`INSERT INTO contacts (full_name, email, phone) VALUES ('Ann Lee', 'ann@example.com', '111')`);
    await eventually(async () =>
      expect(await customerRow('ann@example.com')).toEqual([{ first_name: 'Ann', last_name: 'Lee', email_address: 'ann@example.com', phone: '111' }]),
    );

    await customer.query(`UPDATE contacts SET last_name = 'Leigh', phone = '222' WHERE email_address = 'ann@example.com'`);
    await eventually(async () =>
      expect(await crmRow('ann@example.com')).toEqual([{ full_name: 'Ann Leigh', email: 'ann@example.com', phone: '222', notes: null }]),
    );

    await customer.query(`INSERT INTO contacts (first_name, last_name, email_address) VALUES ('Bo', 'Sun', 'bo@example.com')`);
    await eventually(async () => expect(await crmRow('bo@example.com')).toEqual([{ full_name: 'Bo Sun', email: 'bo@example.com', phone: null, notes: null }]));

    await crm.query(`DELETE FROM contacts WHERE email = 'bo@example.com'`);
    await eventually(async () => expect(await customerRow('bo@example.com')).toEqual([]));
  });

  it('writes one edit once on the other side and never back (no ping-pong)', async () => {
    const logged = async (system: string, action: string) =>
      Number(
        (await harness.db.query<{ n: string }>(`SELECT count(*) AS n FROM tandem_sync_log WHERE system_id = $1 AND action LIKE $2`, [system, action]))
          .rows[0]!.n,
      );
    /** Results of Tandem's writes to one customer record that the reconciler has taken. */
    const resultsTaken = async (recordId: string) =>
      Number(
        (
          await harness.db.query<{ n: string }>(
            `SELECT count(*) AS n FROM tandem_sync_log WHERE system_id = 'customer' AND action = 'apply.applied' AND detail->>'recordId' = $1`,
            [recordId],
          )
        ).rows[0]!.n,
      );
    await crm.query(`INSERT INTO contacts (full_name, email, phone) VALUES ('Cy Echo', 'cy@example.com', '1')`);
    await eventually(async () => expect(await customerRow('cy@example.com')).toHaveLength(1));
    const recordId = String((await customer.query<{ id: string }>(`SELECT id FROM contacts WHERE email_address = 'cy@example.com'`)).rows[0]!.id);
    // The row shows before the applier has counted its write; the applier counts a write before it
    // publishes its result, so once the reconciler has taken the result the counts start after it.
    await eventually(async () => expect(await resultsTaken(recordId)).toBe(1));
    const before = {
      crmApplied: harness.appliers.get('crm')!.stats.applied,
      customerApplied: harness.appliers.get('customer')!.stats.applied,
      customerChanges: await logged('customer', 'change.%'),
    };

    await crm.query(`UPDATE contacts SET phone = '2' WHERE email = 'cy@example.com'`);
    await eventually(async () => expect((await customerRow('cy@example.com'))[0]?.phone).toBe('2'));
    // Once the reconciler has the write's result, an echo would already have been captured and
    // published; give it a moment to show before checking that nothing came back.
    await eventually(async () => expect(await resultsTaken(recordId)).toBe(2));
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await logged('customer', 'change.%')).toBe(before.customerChanges);
    expect(harness.appliers.get('customer')!.stats.applied - before.customerApplied).toBe(1);
    expect(harness.appliers.get('crm')!.stats.applied - before.crmApplied).toBe(0);
  });

  it('keeps edits to different fields of one record, and logs a same-field conflict with both values', async () => {
    await crm.query(`INSERT INTO contacts (full_name, email, phone) VALUES ('Di Both', 'di@example.com', '100')`);
    await eventually(async () => expect(await customerRow('di@example.com')).toHaveLength(1));

    // Different fields, at the same time on both sides: both survive everywhere.
    await Promise.all([
      crm.query(`UPDATE contacts SET notes = 'met at fair' WHERE email = 'di@example.com'`),
      customer.query(`UPDATE contacts SET last_name = 'Bothwell' WHERE email_address = 'di@example.com'`),
    ]);
    await eventually(async () => {
      expect(await crmRow('di@example.com')).toEqual([{ full_name: 'Di Bothwell', email: 'di@example.com', phone: '100', notes: 'met at fair' }]);
      expect((await customerRow('di@example.com'))[0]?.last_name).toBe('Bothwell');
    });

    // The same field on both sides before either sees the other: one wins, everywhere, and the
    // loser is in the conflict log.
    await Promise.all([
      crm.query(`UPDATE contacts SET phone = 'crm-phone' WHERE email = 'di@example.com'`),
      customer.query(`UPDATE contacts SET phone = 'customer-phone' WHERE email_address = 'di@example.com'`),
    ]);
    // Both updates commit within a millisecond, long before either could be applied to the other side.
    const phoneConflicts = await eventually(async () => {
      const conflicts = await new ConflictLogRepository(harness.db).list({ tenantId: 'acme', limit: 50 });
      const found = conflicts.filter((conflict) => conflict.field === 'phone');
      expect(found).toHaveLength(1);
      return found;
    });
    const [conflict] = phoneConflicts;
    expect(conflict!.sides.map((side) => side.value).sort()).toEqual(['crm-phone', 'customer-phone']);
    expect(conflict!).toMatchObject({ status: 'resolved', strategy: 'latest_wins' });
    const winner = conflict!.outcome!.value;
    await eventually(async () => {
      expect((await crmRow('di@example.com'))[0]?.phone).toBe(winner);
      expect((await customerRow('di@example.com'))[0]?.phone).toBe(winner);
    });
  });
});
