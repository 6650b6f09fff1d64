import { findSilentLosses, type ConflictEntry, type OpRecord } from './history-check.util';

const email = 'a@x.example';
let nextId = 0;
function op(system: string, kind: OpRecord['kind'], fields: OpRecord['fields'], start: number, end = start, order = start): OpRecord {
  nextId += 1;
  return { id: nextId, email, system, kind, fields, start, end, order };
}
const created = op('crm', 'create', { first_name: 'Ann', last_name: 'Lee', email, phone: '1' }, 0);
const final = (phone: string) => new Map([[email, { first_name: 'Ann', last_name: 'Lee', email, phone }]]);
function phoneConflict(losing: { system: string; value: string }, winning: { system: string; value: string }): ConflictEntry {
  return {
    email,
    field: 'phone',
    kind: 'field',
    status: 'resolved',
    sides: [{ ...winning, deleted: false }, { ...losing, deleted: false }],
    outcome: { winner: winning.system, value: winning.value, deleted: false },
  };
}

describe('findSilentLosses', () => {
  it('does not count an edit superseded by a later sequential one', () => {
    const ops = [created, op('crm', 'update', { phone: '2' }, 10, 11), op('customer', 'update', { phone: '3' }, 20, 21)];
    expect(findSilentLosses(ops, final('3'), [])).toEqual([]);
  });

  it('takes the order one system gave two overlapping edits of its own, and no other system\'s', () => {
    // Two writers of one customer row at once: the row lock let the second overwrite the first there.
    const first = op('customer', 'update', { phone: '2' }, 10, 30, 15);
    const second = op('customer', 'update', { phone: '3' }, 12, 31, 29);
    expect(findSilentLosses([created, first, second], final('3'), [])).toEqual([]);
    expect(findSilentLosses([created, first, second], final('2'), []).map((loss) => loss.op.id)).toEqual([second.id]);
    // Overlapping edits of two systems are concurrent whatever their own clocks say.
    const other = op('crm', 'update', { phone: '4' }, 12, 31, 999);
    expect(findSilentLosses([created, first, other], final('4'), []).map((loss) => loss.op.id)).toEqual([first.id]);
  });

  it('takes an update that found an edit\'s value in its record for one made after it, though it began earlier', () => {
    // The CRM's edit waited for the row while Tandem wrote HubSpot's phone 2 there, then replaced it.
    const hubspot = op('hubspot', 'update', { phone: '2' }, 20);
    const crm = { ...op('crm', 'update', { phone: '3' }, 10, 30), seen: { first_name: 'Ann', last_name: 'Lee', phone: '2' } };
    expect(findSilentLosses([created, hubspot, crm], final('3'), [])).toEqual([]);
    // Had it found another value, the two were concurrent and HubSpot's needs a record.
    const blind = { ...crm, seen: { first_name: 'Ann', last_name: 'Lee', phone: '1' } };
    expect(findSilentLosses([created, hubspot, blind], final('3'), []).map((loss) => loss.op.id)).toEqual([hubspot.id]);
  });

  it('counts the last edit of a field when the final value is another and no conflict records it', () => {
    const last = op('customer', 'update', { phone: '3' }, 20, 21);
    const losses = findSilentLosses([created, op('crm', 'update', { phone: '2' }, 10, 11), last], final('2'), []);
    expect(losses.map((loss) => [loss.op.id, loss.key])).toEqual([[last.id, 'phone']]);
  });

  it('accepts a concurrent edit that lost a recorded conflict, but not one recorded as the winner', () => {
    const late = op('crm', 'update', { phone: '2' }, 10, 30);
    const ops = [created, late, op('hubspot', 'update', { phone: '3' }, 20)];
    expect(findSilentLosses(ops, final('3'), [phoneConflict({ system: 'crm', value: '2' }, { system: 'hubspot', value: '3' })])).toEqual([]);
    expect(findSilentLosses(ops, final('3'), [phoneConflict({ system: 'hubspot', value: '3' }, { system: 'crm', value: '2' })])).toHaveLength(1);
  });

  it('treats a delete as an edit of every field and of existence', () => {
    const ops = [created, op('crm', 'update', { phone: '2' }, 10, 11), op('hubspot', 'delete', {}, 20)];
    expect(findSilentLosses(ops, new Map([[email, null]]), [])).toEqual([]);
    const losses = findSilentLosses(ops, final('2'), []);
    expect(losses.map((loss) => loss.key).sort()).toEqual(['(exists)', 'email', 'first_name', 'last_name', 'phone']);
  });

  it('accepts a delete that lost a recorded delete-versus-update conflict', () => {
    const ops = [created, op('hubspot', 'delete', {}, 10, 12), op('crm', 'update', { phone: '2' }, 11, 13)];
    const conflict: ConflictEntry = {
      email,
      field: null,
      kind: 'delete_update',
      status: 'resolved',
      sides: [
        { system: 'hubspot', value: null, deleted: true },
        { system: 'crm', value: null, deleted: false },
      ],
      outcome: { winner: 'crm', value: null, deleted: false },
    };
    expect(findSilentLosses(ops, final('2'), [conflict])).toEqual([]);
    expect(findSilentLosses(ops, final('2'), []).length).toBeGreaterThan(0);
  });
});
