import { MIGRATIONS, type Migration } from './migrations';
import type { SqlClient } from './sql-client.interface';
import { StateError, StateErrorCode } from './state.error';

/** Arbitrary but fixed: every Tandem service takes the same lock before touching the schema. */
const MIGRATION_LOCK_KEY = 7_406_120_031;

/**
 * Applies the migrations not yet recorded in `tandem_migrations`, in order, in one transaction held
 * under an advisory lock, so services starting together never race. Returns the ids it applied
 * (empty when the schema was already current).
 */
export async function migrate(client: SqlClient, migrations: Migration[] = MIGRATIONS): Promise<string[]> {
  return client.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await tx.query(
      `CREATE TABLE IF NOT EXISTS tandem_migrations (
         id text PRIMARY KEY,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const { rows } = await tx.query<{ id: string }>('SELECT id FROM tandem_migrations');
    const done = new Set(rows.map((row) => row.id));
    const applied: string[] = [];
    for (const migration of migrations) {
      if (done.has(migration.id)) continue;
      try {
        await tx.query(migration.sql);
      } catch (error) {
        throw new StateError(
          StateErrorCode.MigrationFailed,
          `migration ${migration.id} failed: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        );
      }
      await tx.query('INSERT INTO tandem_migrations (id) VALUES ($1)', [migration.id]);
      applied.push(migration.id);
    }
    return applied;
  });
}
