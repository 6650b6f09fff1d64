import type { PostgresTable } from './postgres-table.schema';
import { changeChannel, quotedTableName, quoteIdentifier, quoteLiteral, tableKey } from './sql-identifier.util';
import { createIndexIfMissing } from './tandem-schema.util';

/** Tandem's own tables and trigger functions in a watched database; every statement is idempotent. */
export const CAPTURE_SCHEMA_DDL: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS tandem.changes (
     seq bigserial PRIMARY KEY,
     table_name text NOT NULL,
     op text NOT NULL,
     record_id text NOT NULL,
     before jsonb,
     after jsonb,
     changed_at timestamptz NOT NULL DEFAULT clock_timestamp()
   )`,
  createIndexIfMissing('tandem.changes_table_name_seq_idx', 'changes_table_name_seq_idx ON tandem.changes (table_name, seq)'),
  `CREATE TABLE IF NOT EXISTS tandem.snapshot_progress (
     table_name text PRIMARY KEY,
     last_id text,
     rows_done bigint NOT NULL DEFAULT 0,
     rows_total bigint NOT NULL DEFAULT 0,
     done boolean NOT NULL DEFAULT false
   )`,
  // SECURITY DEFINER: the application roles writing the watched table need no rights on schema tandem.
  // A pinned search_path keeps such a function from resolving names through the caller's path.
  // Rows are compared as jsonb because OLD IS NOT DISTINCT FROM NEW needs an equality operator for
  // every column type, and json, point or xml columns have none: the customer's write would fail.
  `CREATE OR REPLACE FUNCTION tandem.capture_row_change() RETURNS trigger
   LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $function$
   DECLARE
     old_row jsonb;
     new_row jsonb;
   BEGIN
     -- Tandem's own applier marks its transactions: its writes are not changes to sync back.
     IF current_setting('tandem.writer', true) = 'applier' THEN RETURN NULL; END IF;
     IF TG_OP <> 'INSERT' THEN old_row := to_jsonb(OLD); END IF;
     IF TG_OP <> 'DELETE' THEN new_row := to_jsonb(NEW); END IF;
     IF TG_OP = 'UPDATE' AND old_row = new_row THEN RETURN NULL; END IF;
     INSERT INTO tandem.changes (table_name, op, record_id, before, after)
     VALUES (TG_ARGV[0], lower(TG_OP), coalesce(new_row, old_row) ->> TG_ARGV[1], old_row, new_row);
     RETURN NULL;
   END
   $function$`,
  `CREATE OR REPLACE FUNCTION tandem.notify_changes() RETURNS trigger
   LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $function$
   BEGIN
     IF current_setting('tandem.writer', true) = 'applier' THEN RETURN NULL; END IF;
     PERFORM pg_notify(TG_ARGV[0], '');
     RETURN NULL;
   END
   $function$`,
  // Firing a trigger needs no EXECUTE right; creating one does. This keeps other roles from attaching
  // these definer-rights functions to tables of their own to write into tandem.changes.
  'REVOKE ALL ON FUNCTION tandem.capture_row_change(), tandem.notify_changes() FROM PUBLIC',
];

export interface CaptureTrigger {
  name: string;
  /** Arguments as the server stores them, to tell whether an existing trigger is already right. */
  args: string[];
  create: string;
}

/** The row trigger that records each change, and the statement trigger that wakes readers once. */
export function captureTriggers(table: PostgresTable): CaptureTrigger[] {
  const target = quotedTableName(table);
  const rowArgs = [tableKey(table), table.idColumn];
  const notifyArgs = [changeChannel(table)];
  return [
    {
      name: 'tandem_capture_row',
      args: rowArgs,
      create: `CREATE TRIGGER tandem_capture_row AFTER INSERT OR UPDATE OR DELETE ON ${target}
               FOR EACH ROW EXECUTE FUNCTION tandem.capture_row_change(${rowArgs.map(quoteLiteral).join(', ')})`,
    },
    {
      name: 'tandem_capture_notify',
      args: notifyArgs,
      create: `CREATE TRIGGER tandem_capture_notify AFTER INSERT OR UPDATE OR DELETE ON ${target}
               FOR EACH STATEMENT EXECUTE FUNCTION tandem.notify_changes(${notifyArgs.map(quoteLiteral).join(', ')})`,
    },
  ];
}

export function dropTriggerStatement(table: PostgresTable, name: string): string {
  return `DROP TRIGGER IF EXISTS ${quoteIdentifier(name)} ON ${quotedTableName(table)}`;
}

/** Splits `pg_trigger.tgargs`, which stores each argument followed by a NUL byte. */
export function parseTriggerArgs(raw: Buffer): string[] {
  const parts = raw.toString('utf8').split('\0');
  return parts.slice(0, -1);
}
