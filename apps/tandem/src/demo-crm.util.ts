import { PGlite } from '@electric-sql/pglite';
import { join } from 'node:path';
import { Pool } from 'pg';
import type { Logger } from 'pino';
import { DEMO_CRM_TABLE } from './demo-sync.config';
import { PgliteWireServer } from './pglite-wire-server.service';
import type { ShutdownStack } from './shutdown-stack.util';

export interface DemoCrm {
  /** What the CRM connector and applier, psql and tests connect to. */
  url: string;
  dataDir: string;
  /** The demo's own connections (seeding, the scenario). */
  pool: Pool;
}

/**
 * The demo CRM: its own embedded PostgreSQL under the data directory, served on a local port so the
 * CRM connector and applier reach it as they would a real CRM database, with its contacts table.
 */
export async function openDemoCrm(dataRoot: string, port: number, logger: Logger, shutdown: ShutdownStack): Promise<DemoCrm> {
  const dataDir = join(dataRoot, 'demo-crm-db');
  const db = await PGlite.create({ dataDir });
  shutdown.push('demo CRM database', () => db.close());
  const server = await PgliteWireServer.start({
    db,
    port,
    onError: (error) => logger.error({ error: error instanceof Error ? error.message : String(error) }, 'demo CRM connection failed'),
  });
  shutdown.push('demo CRM server', () => server.close());
  const pool = new Pool({ connectionString: server.url, max: 2 });
  pool.on('error', (error) => logger.warn({ error: error.message }, 'demo CRM connection dropped'));
  shutdown.push('demo CRM connections', () => pool.end());
  await pool.query(DEMO_CRM_TABLE);
  return { url: server.url, dataDir, pool };
}
