import { ConflictLogRepository } from '@tandem/state';
import { eventually } from '@tandem/testing';
import { Client } from 'pg';
import { createCrmCustomerDatabases, crmCustomerSync, type CrmCustomerDatabases } from '@tandem/local-stack';
import { PipelineHarness } from './pipeline-harness';

describe('conflicts that wait for a person', () => {
  let dbs: CrmCustomerDatabases;
  let crm: Client;
  let customer: Client;
  let harness: PipelineHarness;

  beforeAll(async () => {
    dbs = await createCrmCustomerDatabases();
    ({ crm, customer } = dbs);
    const { tandem, crmDb, customerDb } = dbs;
    harness = await PipelineHarness.start(tandem.url, crmCustomerSync({ fields: { phone: { strategy: 'manual' } } }), [
      { systemId: 'crm', url: crmDb.url, table: 'contacts' },
      { systemId: 'customer', url: customerDb.url, table: 'contacts' },
    ]);
  });

  afterAll(async () => {
    await harness?.stop();
    await dbs?.close();
  });

  const phones = async (email: string) => ({
    crm: (await crm.query(`SELECT phone FROM contacts WHERE email = $1`, [email])).rows[0]?.phone,
    customer: (await customer.query(`SELECT phone FROM contacts WHERE email_address = $1`, [email])).rows[0]?.phone,
  });
  const pendingFor = async (field: string | null) =>
    (await new ConflictLogRepository(harness.db).list({ tenantId: 'acme', status: 'pending', limit: 20 })).filter((c) => c.field === field);

  it('keeps each side as it is while pending, holds both values, and applies the decision to both sides', async () => {
    await crm.query(`INSERT INTO contacts (full_name, email, phone) VALUES ('Mo Manual', 'mo@example.com', '100')`);
    await eventually(async () => expect(await phones('mo@example.com')).toEqual({ crm: '100', customer: '100' }));

    await Promise.all([
      crm.query(`UPDATE contacts SET phone = 'from-crm' WHERE email = 'mo@example.com'`),
      customer.query(`UPDATE contacts SET phone = 'from-customer' WHERE email_address = 'mo@example.com'`),
    ]);
    const [pending] = await eventually(async () => {
      const found = await pendingFor('phone');
      expect(found).toHaveLength(1);
      return found;
    });
    expect(pending!.sides.map((side) => [side.system, side.value]).sort()).toEqual([
      ['crm', 'from-crm'],
      ['customer', 'from-customer'],
    ]);
    // The first edit to arrive was not yet a conflict and may have reached the other side. Commands
    // to one entity land in order, so once a later edit has arrived, that write has landed too.
    const lastNameBecomes = async (lastName: string) => {
      await crm.query(`UPDATE contacts SET full_name = $1 WHERE email = 'mo@example.com'`, [`Mo ${lastName}`]);
      await eventually(async () =>
        expect((await customer.query(`SELECT last_name FROM contacts WHERE email_address = 'mo@example.com'`)).rows).toEqual([{ last_name: lastName }]),
      );
    };
    await lastNameBecomes('Other');
    const held = await phones('mo@example.com');
    expect(['from-crm', 'from-customer']).toContain(held.crm);
    expect(['from-crm', 'from-customer']).toContain(held.customer);
    // From the moment the conflict is pending, Tandem writes neither side's phone.
    await lastNameBecomes('Third');
    expect(await phones('mo@example.com')).toEqual(held);

    await harness.conflicts.resolve(pending!.conflictId, { kind: 'side', system: 'customer' }, 'lena');
    await eventually(async () => expect(await phones('mo@example.com')).toEqual({ crm: 'from-customer', customer: 'from-customer' }));
    // The log is written with the reconciler's state, just after the commands go out.
    await eventually(async () =>
      expect(await new ConflictLogRepository(harness.db).get(pending!.conflictId)).toMatchObject({
        status: 'resolved',
        decidedBy: 'lena',
        outcome: { winner: 'customer', value: 'from-customer' },
      }),
    );
    await expect(harness.conflicts.resolve(pending!.conflictId, { kind: 'side', system: 'crm' }, 'lena')).rejects.toThrow(/already decided/);
  });

  it('holds a delete against a concurrent update until a person decides', async () => {
    await crm.query(`INSERT INTO contacts (full_name, email, phone) VALUES ('Del Update', 'del@example.com', '1')`);
    await eventually(async () => expect(await phones('del@example.com')).toEqual({ crm: '1', customer: '1' }));
    await Promise.all([
      crm.query(`DELETE FROM contacts WHERE email = 'del@example.com'`),
      customer.query(`UPDATE contacts SET last_name = 'Updated' WHERE email_address = 'del@example.com'`),
    ]);
    const [pending] = await eventually(async () => {
      const found = await pendingFor(null);
      expect(found).toHaveLength(1);
      return found;
    });
    expect(pending!.kind).toBe('delete_update');
    expect(pending!.sides.map((side) => [side.system, side.deleted]).sort()).toEqual([
      ['crm', true],
      ['customer', false],
    ]);

    // The person keeps the update: the record comes back wherever it was deleted, with the update.
    await harness.conflicts.resolve(pending!.conflictId, { kind: 'side', system: 'customer' }, 'lena');
    await eventually(async () => {
      expect((await crm.query(`SELECT full_name FROM contacts WHERE email = 'del@example.com'`)).rows).toEqual([{ full_name: 'Del Updated' }]);
      expect((await customer.query(`SELECT last_name FROM contacts WHERE email_address = 'del@example.com'`)).rows).toEqual([{ last_name: 'Updated' }]);
    });
  });
});
