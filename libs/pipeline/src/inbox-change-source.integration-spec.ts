import { createPgSqlClient, migrate, type PgSqlClient } from '@tandem/state';
import { createTempDatabase, uniqueSuffix, type TempDatabase } from '@tandem/testing';
import { InboxChangeSource, type FetchedRecord, type RecordFetcher } from './inbox-change-source';

/** A source's current records, readable in batches, counting its fetch calls. */
class FakeSourceRecords implements RecordFetcher {
  readonly records = new Map<string, FetchedRecord>();
  calls: string[][] = [];

  put(recordId: string, values: Record<string, unknown>, modifiedAtMs: number, createdAtMs?: number): void {
    this.records.set(recordId, { recordId, values, modifiedAtMs, ...(createdAtMs === undefined ? {} : { createdAtMs }) });
  }

  async fetch(recordIds: string[]): Promise<FetchedRecord[]> {
    this.calls.push(recordIds);
    return recordIds.flatMap((id) => {
      const record = this.records.get(id);
      return record ? [{ ...record }] : [];
    });
  }
}

describe('InboxChangeSource', () => {
  let db: TempDatabase;
  let client: PgSqlClient;
  let remote: FakeSourceRecords;
  let source: InboxChangeSource;

  beforeAll(async () => {
    db = await createTempDatabase('pipeline_inbox');
    client = createPgSqlClient(db.url);
    await migrate(client);
  });

  afterAll(async () => {
    await client.close();
    await db.drop();
  });

  beforeEach(() => {
    remote = new FakeSourceRecords();
    source = new InboxChangeSource({ db: client, tenantId: `t_${uniqueSuffix()}`, systemId: 'hubspot', fetcher: remote, coalesceMs: 0 });
  });

  async function readAndAcknowledge() {
    const changes = await source.readBatch(1_000);
    await source.acknowledge(changes);
    return changes;
  }

  it('fetches announced records once per batch and reports each as created with its modification time', async () => {
    remote.put('1', { email: 'a@x.com' }, 1_000);
    remote.put('2', { email: 'b@x.com' }, 2_000);
    await source.enqueue([
      { recordId: '1', kind: 'changed', modifiedAtMs: 1_000, values: null },
      { recordId: '2', kind: 'changed', modifiedAtMs: 2_000, values: null },
      { recordId: '1', kind: 'changed', modifiedAtMs: 1_000, values: null },
    ]);
    const changes = await readAndAcknowledge();
    expect(remote.calls).toEqual([['1', '2']]);
    expect(changes.map((change) => [change.recordId, change.operation, change.sequence, change.before, change.after])).toEqual([
      ['1', 'insert', '1000', null, { email: 'a@x.com' }],
      ['2', 'insert', '2000', null, { email: 'b@x.com' }],
    ]);
    expect(await source.pendingNotices()).toBe(0);
  });

  it('says when a record first seen after edits was made, and only for its creation', async () => {
    // Made at 1000, edited until 4000 before its first fetch; a matching key's delete elsewhere is weighed by when it was made.
    remote.put('5', { email: 'e@x.com', phone: '2' }, 4_000, 1_000);
    await source.enqueue([{ recordId: '5', kind: 'changed', modifiedAtMs: 4_000, values: null }]);
    const [created] = await readAndAcknowledge();
    expect([created?.operation, created?.changedAt.getTime(), created?.createdAt?.getTime()]).toEqual(['insert', 4_000, 1_000]);
    remote.put('5', { email: 'e@x.com', phone: '3' }, 5_000, 1_000);
    await source.enqueue([{ recordId: '5', kind: 'changed', modifiedAtMs: 5_000, values: null }]);
    const [updated] = await readAndAcknowledge();
    expect([updated?.operation, updated?.createdAt]).toEqual(['update', undefined]);
  });

  it('drops duplicated, late and unchanged reports, and gives the last report as before', async () => {
    await source.enqueue([{ recordId: '7', kind: 'record', modifiedAtMs: 5_000, values: { phone: '1' } }]);
    await readAndAcknowledge();
    await source.enqueue([
      { recordId: '7', kind: 'record', modifiedAtMs: 4_000, values: { phone: 'old' } },
      { recordId: '7', kind: 'record', modifiedAtMs: 5_000, values: { phone: '1' } },
    ]);
    expect(await readAndAcknowledge()).toEqual([]);
    expect(await source.pendingNotices()).toBe(0);
    await source.enqueue([{ recordId: '7', kind: 'record', modifiedAtMs: 6_000, values: { phone: '2' } }]);
    const [change] = await readAndAcknowledge();
    expect(change).toMatchObject({ operation: 'update', sequence: '6000', before: { phone: '1' }, after: { phone: '2' } });
  });

  it('keeps sequences increasing when a different state carries the same modification time', async () => {
    await source.enqueue([{ recordId: '9', kind: 'record', modifiedAtMs: 5_000, values: { phone: '1' } }]);
    await readAndAcknowledge();
    await source.enqueue([{ recordId: '9', kind: 'record', modifiedAtMs: 5_000, values: { phone: '2' } }]);
    const [change] = await readAndAcknowledge();
    expect(change?.sequence).toBe('5001');
  });

  it('reports a record the source no longer has as deleted, once, and a restored one as created again', async () => {
    remote.put('3', { email: 'c@x.com' }, 1_000);
    await source.enqueue([{ recordId: '3', kind: 'changed', modifiedAtMs: 1_000, values: null }]);
    await readAndAcknowledge();
    remote.records.delete('3');
    await source.enqueue([
      { recordId: '3', kind: 'deleted', modifiedAtMs: 3_000, values: null },
      { recordId: '3', kind: 'deleted', modifiedAtMs: 3_000, values: null },
    ]);
    const [deletion] = await readAndAcknowledge();
    expect(deletion).toMatchObject({ operation: 'delete', sequence: '3000', before: { email: 'c@x.com' }, after: null });
    expect(await source.recordsReportedDeleted(['3', 'unknown'])).toEqual(new Set(['3']));
    await source.enqueue([{ recordId: '3', kind: 'deleted', modifiedAtMs: 3_000, values: null }]);
    expect(await readAndAcknowledge()).toEqual([]);
    remote.put('3', { email: 'c@x.com' }, 4_000);
    await source.enqueue([{ recordId: '3', kind: 'changed', modifiedAtMs: 4_000, values: null }]);
    const [restore] = await readAndAcknowledge();
    expect(restore).toMatchObject({ operation: 'insert', sequence: '4000', before: null });
    expect(await source.recordsReportedDeleted(['3'])).toEqual(new Set());
  });

  it('reports a record deleted before it was ever reported as deleted, once', async () => {
    await source.enqueue([
      { recordId: '9', kind: 'changed', modifiedAtMs: 1_000, values: null },
      { recordId: '9', kind: 'deleted', modifiedAtMs: 2_000, values: null },
    ]);
    const changes = await readAndAcknowledge();
    expect(changes.map((change) => [change.recordId, change.operation, change.sequence, change.before, change.after])).toEqual([['9', 'delete', '2000', null, null]]);
    await source.enqueue([{ recordId: '9', kind: 'deleted', modifiedAtMs: 2_000, values: null }]);
    expect(await readAndAcknowledge()).toEqual([]);
  });

  it('gives a record deleted before it was ever reported what it last held, where the source still keeps it', async () => {
    const keeping = Object.assign(new FakeSourceRecords(), {
      deletedCalls: [] as string[][],
      async fetchDeleted(recordIds: string[]): Promise<FetchedRecord[]> {
        this.deletedCalls.push(recordIds);
        return recordIds.filter((id) => id === '9').map((recordId) => ({ recordId, values: { email: 'zoe@example.com' }, modifiedAtMs: 2_500 }));
      },
    });
    keeping.put('1', { email: 'ann@example.com' }, 1_000);
    const archiving = new InboxChangeSource({ db: client, tenantId: `t_${uniqueSuffix()}`, systemId: 'hubspot', fetcher: keeping, coalesceMs: 0 });
    await archiving.enqueue([{ recordId: '1', kind: 'changed', modifiedAtMs: 1_000, values: null }]);
    await archiving.acknowledge(await archiving.readBatch(100));
    keeping.records.delete('1');
    await archiving.enqueue(['1', '8', '9'].map((recordId) => ({ recordId, kind: 'deleted' as const, modifiedAtMs: 2_000, values: null })));

    const changes = await archiving.readBatch(100);
    expect(changes.map((change) => [change.recordId, change.operation, change.sequence, change.before])).toEqual([
      ['1', 'delete', '2000', { email: 'ann@example.com' }],
      ['8', 'delete', '2000', null],
      ['9', 'delete', '2500', { email: 'zoe@example.com' }],
    ]);
    // Records the fetch found gone are looked up among the deleted ones, unless reported deleted already.
    expect(keeping.deletedCalls).toEqual([['1', '8', '9']]);
    await archiving.acknowledge(changes);
    await archiving.enqueue([{ recordId: '9', kind: 'deleted', modifiedAtMs: 2_500, values: null }]);
    expect(await archiving.readBatch(100)).toEqual([]);
    expect(keeping.deletedCalls).toHaveLength(1);
  });

  it('places a reported record\'s deletion where the source says it happened, after the edits its history shows', async () => {
    // Reported at 1000; a person set phone 2 at 2000 and name Bo at 2001, and Tandem's delete archived
    // the record at 3000. The notice that comes first is a repeat from before, without either edit.
    const keeping = Object.assign(new FakeSourceRecords(), {
      async fetchDeleted(recordIds: string[]): Promise<FetchedRecord[]> {
        const writes = [{ modifiedAtMs: 1_000, values: { phone: '1', name: 'Al' } }, { modifiedAtMs: 2_000, values: { phone: '2' } }, { modifiedAtMs: 2_001, values: { name: 'Bo' } }];
        return recordIds.map((recordId) => ({ recordId, values: { phone: '2', name: 'Bo' }, modifiedAtMs: 3_000, writes }));
      },
    });
    const archiving = new InboxChangeSource({ db: client, tenantId: `t_${uniqueSuffix()}`, systemId: 'hubspot', fetcher: keeping, coalesceMs: 0 });
    await archiving.enqueue([{ recordId: '4', kind: 'record', modifiedAtMs: 1_000, values: { phone: '1', name: 'Al' } }]);
    await archiving.acknowledge(await archiving.readBatch(100));
    await archiving.enqueue([{ recordId: '4', kind: 'changed', modifiedAtMs: 1_000, values: null }]);
    const changes = await archiving.readBatch(100);
    expect(changes.map((change) => [change.operation, change.sequence, change.after])).toEqual([
      ['update', '2000', { phone: '2', name: 'Al' }],
      ['update', '2001', { phone: '2', name: 'Bo' }],
      ['delete', '3000', null],
    ]);
    await archiving.acknowledge(changes);
    // The edits' own webhooks, arriving after, repeat nothing.
    await archiving.enqueue([
      { recordId: '4', kind: 'changed', modifiedAtMs: 2_000, values: { phone: '2' } },
      { recordId: '4', kind: 'changed', modifiedAtMs: 2_001, values: { name: 'Bo' } },
    ]);
    expect(await archiving.readBatch(100)).toEqual([]);
  });

  it('publishes a state a notice announced even when the fetch already sees a later write over it', async () => {
    await source.enqueue([{ recordId: '8', kind: 'record', modifiedAtMs: 1_000, values: { phone: '1', name: 'Al' } }]);
    await readAndAcknowledge();
    // A person set phone 2 at 2000; a writer set phone 3 at 3000 before the record was fetched.
    remote.put('8', { phone: '3', name: 'Al' }, 3_000);
    await source.enqueue([{ recordId: '8', kind: 'changed', modifiedAtMs: 2_000, values: { phone: '2', unmapped: 'x' } }]);
    const changes = await readAndAcknowledge();
    expect(changes.map((change) => [change.sequence, change.before, change.after])).toEqual([
      ['2000', { phone: '1', name: 'Al' }, { phone: '2', name: 'Al' }],
      ['3000', { phone: '2', name: 'Al' }, { phone: '3', name: 'Al' }],
    ]);
    await source.enqueue([{ recordId: '8', kind: 'changed', modifiedAtMs: 2_000, values: { phone: '2' } }]);
    expect(await readAndAcknowledge()).toEqual([]);
  });

  it('never publishes a first-seen record\'s later edit in a state before it, only to seem undone by the next', async () => {
    // Created at 1000; a person edited last_name at 2000, then first_name twice (3000, 4000), before the first fetch.
    remote.put('5', { first_name: 'C', last_name: 'L2', email: 'e@x.com' }, 4_000);
    await source.enqueue([
      { recordId: '5', kind: 'changed', modifiedAtMs: 1_000, values: null },
      { recordId: '5', kind: 'changed', modifiedAtMs: 2_000, values: { last_name: 'L2' } },
      { recordId: '5', kind: 'changed', modifiedAtMs: 3_000, values: { first_name: 'B' } },
      { recordId: '5', kind: 'changed', modifiedAtMs: 4_000, values: { first_name: 'C' } },
    ]);
    const changes = await readAndAcknowledge();
    // Before its first announcement at 3000, first_name is not known: no state claims a value for it.
    expect(changes.map((change) => [change.sequence, change.after?.['first_name'], change.after?.['last_name']])).toEqual([
      ['2000', undefined, 'L2'],
      ['3000', 'B', 'L2'],
      ['4000', 'C', 'L2'],
    ]);
  });

  it('never gives a first-seen record\'s state a value a later notice announced, which would hide that edit', async () => {
    // Tandem created the contact at 1000 and wrote its phone at 2000; a person changed last_name and
    // phone at 3000. The state at 2000 (where Tandem's write landed) must not already hold L2.
    remote.put('7', { first_name: 'A', last_name: 'L2', phone: '3' }, 3_000);
    await source.enqueue([
      { recordId: '7', kind: 'changed', modifiedAtMs: 2_000, values: { phone: '2' } },
      { recordId: '7', kind: 'changed', modifiedAtMs: 3_000, values: { last_name: 'L2', phone: '3' } },
    ]);
    const changes = await readAndAcknowledge();
    expect(changes.map((change) => [change.sequence, change.before, change.after])).toEqual([
      ['2000', null, { first_name: 'A', phone: '2' }],
      ['3000', { first_name: 'A', phone: '2' }, { first_name: 'A', last_name: 'L2', phone: '3' }],
    ]);
  });

  it('publishes an edit heard of only after a later state was reported, once, saying where it was made', async () => {
    await source.enqueue([{ recordId: '6', kind: 'record', modifiedAtMs: 1_000, values: { phone: '1', name: 'Al' } }]);
    await readAndAcknowledge();
    // A writer's state at 3000 is reported first; the webhook of a person's edit at 2000 comes after.
    remote.put('6', { phone: '3', name: 'Al' }, 3_000);
    await source.enqueue([{ recordId: '6', kind: 'changed', modifiedAtMs: 3_000, values: null }]);
    await readAndAcknowledge();
    await source.enqueue([{ recordId: '6', kind: 'changed', modifiedAtMs: 2_000, values: { phone: '2', unmapped: 'x' } }]);
    const late = await readAndAcknowledge();
    expect(late).toEqual([
      expect.objectContaining({ sequence: '3001', madeAt: '2000', operation: 'update', before: { phone: '3', name: 'Al' }, after: { phone: '2', name: 'Al' } }),
    ]);

    // Delivered again, it is not published twice; the record's next state follows in order.
    await source.enqueue([{ recordId: '6', kind: 'changed', modifiedAtMs: 2_000, values: { phone: '2' } }]);
    expect(await readAndAcknowledge()).toEqual([]);
    remote.put('6', { phone: '4', name: 'Al' }, 3_001);
    await source.enqueue([{ recordId: '6', kind: 'changed', modifiedAtMs: 3_001, values: null }]);
    const [next] = await readAndAcknowledge();
    expect(next).toMatchObject({ sequence: '3002', before: { phone: '3', name: 'Al' }, after: { phone: '4', name: 'Al' } });
    expect(next?.madeAt).toBeUndefined();
  });

  it('publishes an edit announced just before the record was deleted, ahead of the deletion', async () => {
    await source.enqueue([{ recordId: '4', kind: 'record', modifiedAtMs: 1_000, values: { phone: '1', name: 'Al' } }]);
    await readAndAcknowledge();
    // A person set phone 2 at 2000; Tandem archived the record before the notice was read.
    await source.enqueue([{ recordId: '4', kind: 'changed', modifiedAtMs: 2_000, values: { phone: '2' } }]);
    const changes = await readAndAcknowledge();
    expect(changes.map((change) => [change.operation, change.sequence, change.after])).toEqual([
      ['update', '2000', { phone: '2', name: 'Al' }],
      ['delete', '2001', null],
    ]);
    // The deletion notice that follows repeats nothing.
    await source.enqueue([{ recordId: '4', kind: 'deleted', modifiedAtMs: 2_500, values: null }]);
    expect(await readAndAcknowledge()).toEqual([]);
  });

  it('publishes an edit whose notice comes after the record\'s deletion was reported, once, saying where it was made', async () => {
    await source.enqueue([{ recordId: '12', kind: 'record', modifiedAtMs: 1_000, values: { phone: '1', name: 'Al' } }]);
    await readAndAcknowledge();
    // A person set phone 2 at 2000; Tandem's delete archived the record at 3000, and its notice was read first.
    await source.enqueue([{ recordId: '12', kind: 'deleted', modifiedAtMs: 3_000, values: null }]);
    expect((await readAndAcknowledge()).map((change) => [change.operation, change.sequence])).toEqual([['delete', '3000']]);
    await source.enqueue([{ recordId: '12', kind: 'changed', modifiedAtMs: 2_000, values: { phone: '2' } }]);
    expect(await readAndAcknowledge()).toEqual([
      expect.objectContaining({ sequence: '3001', madeAt: '2000', operation: 'update', before: { phone: '1', name: 'Al' }, after: { phone: '2', name: 'Al' } }),
    ]);
    await source.enqueue([{ recordId: '12', kind: 'changed', modifiedAtMs: 2_000, values: { phone: '2' } }]);
    expect(await readAndAcknowledge()).toEqual([]);
  });

  it('publishes the edits announced for a record deleted before it was ever reported, over what the source keeps of it', async () => {
    // Tandem created 3 at 1000 (its notices name what it wrote); a person changed phone at 2000 and
    // Tandem's delete archived it at 3000, all before the first fetch, which finds it archived.
    const keeping = Object.assign(new FakeSourceRecords(), {
      async fetchDeleted(recordIds: string[]): Promise<FetchedRecord[]> {
        return recordIds.map((recordId) => ({ recordId, values: { phone: '2', name: 'Al' }, modifiedAtMs: 3_000 }));
      },
    });
    const archiving = new InboxChangeSource({ db: client, tenantId: `t_${uniqueSuffix()}`, systemId: 'hubspot', fetcher: keeping, coalesceMs: 0 });
    await archiving.enqueue([
      { recordId: '3', kind: 'changed', modifiedAtMs: 1_000, values: { phone: '1', name: 'Al' } },
      { recordId: '3', kind: 'changed', modifiedAtMs: 2_000, values: { phone: '2' } },
      { recordId: '3', kind: 'deleted', modifiedAtMs: 3_000, values: null },
    ]);
    const changes = await archiving.readBatch(100);
    expect(changes.map((change) => [change.operation, change.sequence, change.after])).toEqual([
      ['insert', '1000', { phone: '1', name: 'Al' }],
      ['update', '2000', { phone: '2', name: 'Al' }],
      ['delete', '3000', null],
    ]);
  });

  it('publishes the writes a source\'s history shows between two reports, for webhooks that never came', async () => {
    // The source keeps each field's history; a person's phone edit at 2000 was never announced.
    const history = Object.assign(new FakeSourceRecords(), {
      historyCalls: [] as string[][],
      async fetchWithHistory(recordIds: string[]): Promise<FetchedRecord[]> {
        this.historyCalls.push(recordIds);
        return recordIds.flatMap((id) => history.records.get(id) ?? []);
      },
    });
    const remembering = new InboxChangeSource({ db: client, tenantId: `t_${uniqueSuffix()}`, systemId: 'hubspot', fetcher: history, coalesceMs: 0 });
    await remembering.enqueue([{ recordId: '2', kind: 'record', modifiedAtMs: 1_000, values: { phone: '1', name: 'Al' } }]);
    await remembering.acknowledge(await remembering.readBatch(100));
    const writes = [{ modifiedAtMs: 1_000, values: { phone: '1', name: 'Al' } }, { modifiedAtMs: 2_000, values: { phone: '2' } }, { modifiedAtMs: 3_000, values: { phone: '3' } }];
    history.records.set('2', { recordId: '2', values: { phone: '3', name: 'Al' }, modifiedAtMs: 3_000, writes });

    // Only the safety-net poll saw the record since, at Tandem's write at 3000: it is fetched for its history.
    await remembering.enqueue([{ recordId: '2', kind: 'record', modifiedAtMs: 3_000, values: { phone: '3', name: 'Al' } }]);
    const polled = await remembering.readBatch(100);
    expect(history.historyCalls).toEqual([['2']]);
    expect(polled.map((change) => [change.sequence, change.after])).toEqual([
      ['2000', { phone: '2', name: 'Al' }],
      ['3000', { phone: '3', name: 'Al' }],
    ]);
    await remembering.acknowledge(polled);

    // A webhook's fetch of a reported record takes the history too: an edit at 4000 whose webhook
    // was given up, then one at 5000 announced. A record seen for the first time is read without.
    writes.push({ modifiedAtMs: 4_000, values: { phone: '4' } }, { modifiedAtMs: 5_000, values: { phone: '5' } });
    history.records.set('2', { recordId: '2', values: { phone: '5', name: 'Al' }, modifiedAtMs: 5_000, writes });
    history.put('3', { phone: '9', name: 'Bo' }, 4_500);
    await remembering.enqueue([
      { recordId: '2', kind: 'changed', modifiedAtMs: 5_000, values: null },
      { recordId: '3', kind: 'changed', modifiedAtMs: 4_500, values: null },
    ]);
    expect((await remembering.readBatch(100)).map((change) => [change.recordId, change.sequence, change.after?.['phone']])).toEqual([
      ['2', '4000', '4'],
      ['2', '5000', '5'],
      ['3', '4500', '9'],
    ]);
    expect([history.historyCalls.at(-1), history.calls]).toEqual([['2'], [['3']]]);
  });

  it('republishes what was read but not acknowledged, and loses nothing that arrived meanwhile', async () => {
    await source.enqueue([{ recordId: '5', kind: 'record', modifiedAtMs: 1_000, values: { phone: '1' } }]);
    const unacknowledged = await source.readBatch(1_000);
    await source.enqueue([{ recordId: '6', kind: 'record', modifiedAtMs: 1_500, values: { phone: '9' } }]);
    const again = await source.readBatch(1_000);
    expect(again.map((change) => [change.recordId, change.sequence])).toEqual([
      ['5', '1000'],
      ['6', '1500'],
    ]);
    expect(unacknowledged.map((change) => change.sequence)).toEqual(['1000']);
    await source.acknowledge(again);
    expect(await source.pendingNotices()).toBe(0);
  });

  it('holds announced records back briefly so one fetch serves a burst', async () => {
    const coalescing = new InboxChangeSource({ db: client, tenantId: `t_${uniqueSuffix()}`, systemId: 'hubspot', fetcher: remote, coalesceMs: 400 });
    for (let index = 0; index < 5; index += 1) remote.put(String(index), { n: index }, 1_000 + index);
    await coalescing.enqueue([{ recordId: '0', kind: 'changed', modifiedAtMs: null, values: null }]);
    expect(await coalescing.readBatch(1_000)).toEqual([]);
    await coalescing.enqueue(['1', '2', '3', '4'].map((recordId) => ({ recordId, kind: 'changed' as const, modifiedAtMs: null, values: null })));
    const started = Date.now();
    await coalescing.waitForChanges(5_000);
    expect(Date.now() - started).toBeLessThan(1_000);
    const changes = await coalescing.readBatch(1_000);
    expect(changes).toHaveLength(5);
    expect(remote.calls).toEqual([['0', '1', '2', '3', '4']]);
  });
});
