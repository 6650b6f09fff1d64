import type { PoolClient } from 'pg';
import { runQuery } from './pg-client.util';

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
