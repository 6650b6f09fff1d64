import { cloneState } from './clone-state.util';

describe('cloneState', () => {
  it('copies nested objects and arrays so that changing the copy leaves the original as it was', () => {
    const original: { version: number; deleted: null; fields: Record<string, { value: string; version: number }>; pending: Array<{ sent: Record<string, string>; deletes: boolean }> } = {
      version: 2,
      deleted: null,
      fields: { email: { value: 'a@example.com', version: 2 } },
      pending: [{ sent: { phone: '1' }, deletes: false }],
    };
    const copy = cloneState(original);
    expect(copy).toEqual(original);
    copy.fields['email']!.value = 'b@example.com';
    copy.pending[0]!.sent['phone'] = '2';
    copy.pending.push({ sent: {}, deletes: true });
    expect(original).toEqual({ version: 2, deleted: null, fields: { email: { value: 'a@example.com', version: 2 } }, pending: [{ sent: { phone: '1' }, deletes: false }] });
  });
});
