import { randomUUID } from 'node:crypto';
import { createTempDatabase, uniqueSuffix, type TempDatabase } from '@tandem/testing';
import { ConflictLogRepository, type ConflictEntry } from './conflict-log.repository';
import { migrate } from './migrate.util';
import { createPgSqlClient, type PgSqlClient } from './pg-sql-client.driver';

describe('ConflictLogRepository', () => {
  let db: TempDatabase;
  let client: PgSqlClient;
  let conflicts: ConflictLogRepository;
  let tenantId: string;

  beforeAll(async () => {
    db = await createTempDatabase('state_conflicts');
    client = createPgSqlClient(db.url);
    await migrate(client);
    conflicts = new ConflictLogRepository(client);
  });

  afterAll(async () => {
    await client.close();
    await db.drop();
  });

  beforeEach(() => {
    tenantId = `t_${uniqueSuffix()}`;
  });

  function pending(entityId: string, conflictId: string = randomUUID(), occurredAt = '2024-05-01T10:00:00.000Z'): ConflictEntry {
    return {
      tenantId,
      occurredAt,
      conflictId,
      entityType: 'contact',
      entityId,
      field: 'lifecycle_stage',
      kind: 'field',
      risk: 'high',
      strategy: 'manual',
      status: 'pending',
      sides: [
        { system: 'crm', value: 'lead', deleted: false, occurredAt: '2024-05-01T09:59:00.000Z', eventId: 'crm:1' },
        { system: 'hubspot', value: 'customer', deleted: false, occurredAt: occurredAt, eventId: 'hubspot:7' },
      ],
      outcome: null,
      decidedBy: null,
    };
  }

  function resolved(entry: ConflictEntry, winner = 'hubspot', value = 'customer'): ConflictEntry {
    return { ...entry, status: 'resolved', outcome: { winner, value, deleted: false }, decidedBy: 'ops@example.com' };
  }

  it('records a pending conflict and returns it with both sides', async () => {
    const entry = pending(randomUUID());
    await conflicts.record([entry]);
    const stored = await conflicts.get(entry.conflictId);
    expect(stored).toMatchObject({ ...entry, recordedAt: expect.any(String), updatedAt: expect.any(String) });
    expect(stored?.sides).toEqual(entry.sides);
  });

  it('updates the same row when a pending conflict is decided, keeping when it was first recorded', async () => {
    const entry = pending(randomUUID());
    await conflicts.record([entry]);
    const first = await conflicts.get(entry.conflictId);
    await conflicts.record([resolved(entry)]);

    const decided = await conflicts.get(entry.conflictId);
    expect(decided).toMatchObject({
      status: 'resolved',
      outcome: { winner: 'hubspot', value: 'customer', deleted: false },
      decidedBy: 'ops@example.com',
      recordedAt: first?.recordedAt,
      occurredAt: entry.occurredAt,
    });
    expect(await conflicts.list({ tenantId, limit: 10 })).toHaveLength(1);
  });

  it('does not reopen a resolved conflict when the pending record is delivered again', async () => {
    const entry = pending(randomUUID());
    await conflicts.record([entry, resolved(entry)]);
    await conflicts.record([entry]);
    expect(await conflicts.get(entry.conflictId)).toMatchObject({ status: 'resolved', outcome: { winner: 'hubspot' } });

    // A person reversing the decision is a new resolution and does replace it.
    await conflicts.record([resolved(entry, 'crm', 'lead')]);
    expect(await conflicts.get(entry.conflictId)).toMatchObject({ status: 'resolved', outcome: { winner: 'crm', value: 'lead' } });
  });

  it('lists newest first, filtered by status and entity, up to the limit', async () => {
    const [ada, grace] = [randomUUID(), randomUUID()];
    const older = pending(ada, 'c-older', '2024-05-01T10:00:00.000Z');
    const newer = pending(ada, 'c-newer', '2024-05-02T10:00:00.000Z');
    const other = pending(grace, 'c-other', '2024-05-03T10:00:00.000Z');
    await conflicts.record([older, newer, resolved(other)].map((c) => ({ ...c, conflictId: `${tenantId}-${c.conflictId}` })));

    const ids = (list: { conflictId: string }[]) => list.map((c) => c.conflictId.replace(`${tenantId}-`, ''));
    expect(ids(await conflicts.list({ tenantId, limit: 10 }))).toEqual(['c-other', 'c-newer', 'c-older']);
    expect(ids(await conflicts.list({ tenantId, status: 'pending', limit: 10 }))).toEqual(['c-newer', 'c-older']);
    expect(ids(await conflicts.list({ tenantId, status: 'resolved', limit: 10 }))).toEqual(['c-other']);
    expect(ids(await conflicts.list({ tenantId, entityId: ada, limit: 1 }))).toEqual(['c-newer']);
    expect(await conflicts.list({ tenantId: `o_${uniqueSuffix()}`, limit: 10 })).toEqual([]);
  });

  it('records a delete-versus-update conflict, which has no field', async () => {
    const entry: ConflictEntry = { ...pending(randomUUID()), field: null, kind: 'delete_update' };
    await conflicts.record([entry]);
    expect(await conflicts.get(entry.conflictId)).toMatchObject({ field: null, kind: 'delete_update' });
    expect(await conflicts.get('no-such-conflict')).toBeNull();
  });
});
