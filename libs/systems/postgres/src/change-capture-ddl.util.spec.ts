import { captureTriggers, parseTriggerArgs } from './change-capture-ddl.util';
import { PostgresTableSchema } from './postgres-table.schema';

describe('capture triggers', () => {
  it('passes the table key and id column to the row trigger and a per-table channel to the notify trigger', () => {
    const [row, notify] = captureTriggers(PostgresTableSchema.parse({ schema: 'crm', table: 'people', idColumn: 'pid' }));
    expect(row!.args).toEqual(['crm.people', 'pid']);
    expect(row!.create).toContain(`FOR EACH ROW EXECUTE FUNCTION tandem.capture_row_change('crm.people', 'pid')`);
    expect(notify!.create).toContain(`FOR EACH STATEMENT EXECUTE FUNCTION tandem.notify_changes('tandem_changes_people')`);
  });

  it('keeps the channel within the 63 bytes the server accepts', () => {
    const [, notify] = captureTriggers(PostgresTableSchema.parse({ table: 'x'.repeat(63) }));
    expect(notify!.args[0]).toHaveLength(63);
  });

  it('reads trigger arguments as the server stores them', () => {
    expect(parseTriggerArgs(Buffer.from('crm.people\0pid\0'))).toEqual(['crm.people', 'pid']);
    expect(parseTriggerArgs(Buffer.alloc(0))).toEqual([]);
  });
});
