import { randomUUID } from 'node:crypto';
import { createTempDatabase, uniqueSuffix, type TempDatabase } from '@tandem/testing';
import { migrate } from './migrate.util';
import { createPgSqlClient, type PgSqlClient } from './pg-sql-client.driver';
import { RecordErrorRepository, type RecordErrorEntry } from './record-error.repository';

describe('RecordErrorRepository', () => {
  let db: TempDatabase;
  let client: PgSqlClient;
  let errors: RecordErrorRepository;
  let tenantId: string;

  beforeAll(async () => {
    db = await createTempDatabase('state_record_errors');
    client = createPgSqlClient(db.url);
    await migrate(client);
    errors = new RecordErrorRepository(client);
  });

  afterAll(async () => {
    await client.close();
    await db.drop();
  });

  beforeEach(() => {
    tenantId = `t_${uniqueSuffix()}`;
  });

  const failure = (systemId: string, code: string, payload: unknown = null): RecordErrorEntry => ({
    tenantId,
    systemId,
    entityId: randomUUID(),
    recordId: 'r-1',
    commandId: `cmd-${code}`,
    code,
    message: `${code} happened`,
    payload,
  });

  it('records a batch, returning ids in input order, and lists newest first with the payload', async () => {
    const ids = await errors.record([
      failure('hubspot', 'rate_limited', { attempt: 3 }),
      failure('crm', 'invalid_email'),
      failure('hubspot', 'apply_rejected'),
    ]);
    expect(ids).toHaveLength(3);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);

    const listed = await errors.list({ tenantId, limit: 10 });
    expect(listed.map((e) => e.code)).toEqual(['apply_rejected', 'invalid_email', 'rate_limited']);
    expect(listed[2]).toMatchObject({ id: ids[0], payload: { attempt: 3 }, redrivenAt: null, systemId: 'hubspot' });
    expect((await errors.list({ tenantId, systemId: 'hubspot', limit: 1 })).map((e) => e.code)).toEqual(['apply_rejected']);
  });

  it('marks errors of the tenant as redriven once, leaving other tenants alone', async () => {
    const [first, second] = await errors.record([failure('crm', 'a'), failure('crm', 'b')]);
    const otherTenant = `o_${uniqueSuffix()}`;
    const [foreign] = await errors.record([{ ...failure('crm', 'c'), tenantId: otherTenant }]);

    expect(await errors.markRedriven(tenantId, [first!, foreign!])).toEqual([first]);
    expect(await errors.markRedriven(tenantId, [first!])).toEqual([]);

    const listed = await errors.list({ tenantId, limit: 10 });
    expect(listed.find((e) => e.id === first)?.redrivenAt).toEqual(expect.any(String));
    expect(listed.find((e) => e.id === second)?.redrivenAt).toBeNull();
    expect((await errors.list({ tenantId: otherTenant, limit: 10 }))[0]?.redrivenAt).toBeNull();
  });
});
