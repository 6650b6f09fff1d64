import { findSilentLosses, type ConflictEntry, type OpRecord } from './history-check.util';

const email = 'a@x.example';
let nextId = 0;
function op(system: string, kind: OpRecord['kind'], fields: OpRecord['fields'], start: number, end = start): OpRecord {
  nextId += 1;
  return { id: nextId, email, system, kind, fields, start, end };
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
