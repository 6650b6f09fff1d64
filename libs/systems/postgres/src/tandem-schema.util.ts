import type { PoolClient } from 'pg';
import { runQuery } from './pg-client.util';
import { PostgresSystemError } from './postgres-system.error';

/**
 * Arbitrary advisory lock key for installs: replicas starting together would otherwise race on
 * `CREATE ... IF NOT EXISTS` and `CREATE OR REPLACE FUNCTION`, which are not safe concurrently.
 */
const INSTALL_LOCK_KEY = 7_346_173_001;

/** Takes the install lock for the rest of the transaction and makes sure schema `tandem` exists. */
export async function prepareTandemSchema(client: PoolClient): Promise<void> {
  await runQuery(client, 'taking the install lock', 'SELECT pg_advisory_xact_lock($1)', [INSTALL_LOCK_KEY]);
  await runQuery(client, 'creating schema tandem', 'CREATE SCHEMA IF NOT EXISTS tandem');
}

/**
 * CREATE INDEX IF NOT EXISTS locks the table against writers before it looks, and a restart under
 * load deadlocked on it with the writers' triggers; the catalog is read first instead (installers
 * are already serialised by the install lock).
 */
export function createIndexIfMissing(qualifiedName: string, definition: string): string {
  return `DO $install$ BEGIN
  IF to_regclass('${qualifiedName}') IS NULL THEN CREATE INDEX ${definition}; END IF;
END $install$`;
}

/** Installs run again after a deadlock or lock timeout with writers, a few times, then give up. */
export async function retryOnContention<T>(work: () => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= attempts || !(error instanceof PostgresSystemError) || !error.retryable) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt + Math.random() * 200));
    }
  }
}
