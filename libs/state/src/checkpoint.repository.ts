import type { SqlClient } from './sql-client.interface';
import { toIsoTime, toSafeNumber } from './sql-value.util';

export interface Checkpoint {
  position: string;
  fencingToken: number;
  updatedAt: string;
}

/**
 * Cursors of connectors whose position lives outside the source (SaaS pollers). Writes are fenced:
 * the holder of a newer lease has a larger token, and a stale holder cannot move the cursor back.
 */
export class CheckpointRepository {
  constructor(private readonly client: SqlClient) {}

  async get(tenantId: string, systemId: string, name: string): Promise<Checkpoint | null> {
    const { rows } = await this.client.query<{ position: string; fencing_token: string; updated_at: Date | string }>(
      `SELECT position, fencing_token, updated_at FROM tandem_connector_checkpoints
       WHERE tenant_id = $1 AND system_id = $2 AND name = $3`,
      [tenantId, systemId, name],
    );
    const [row] = rows;
    if (!row) return null;
    return {
      position: row.position,
      fencingToken: toSafeNumber(row.fencing_token),
      updatedAt: toIsoTime(row.updated_at),
    };
  }

  /**
   * Stores the position unless a holder with a larger fencing token already wrote one; returns
   * false when refused (the caller's lease is stale and it must stop).
   */
  async save(
    tenantId: string,
    systemId: string,
    name: string,
    position: string,
    fencingToken: number,
  ): Promise<boolean> {
    const { rowCount } = await this.client.query(
      `INSERT INTO tandem_connector_checkpoints AS c (tenant_id, system_id, name, position, fencing_token, updated_at)
       VALUES ($1, $2, $3, $4, $5, now())
       ON CONFLICT (tenant_id, system_id, name) DO UPDATE
         SET position = excluded.position, fencing_token = excluded.fencing_token, updated_at = excluded.updated_at
         WHERE c.fencing_token <= excluded.fencing_token`,
      [tenantId, systemId, name, position, fencingToken],
    );
    return rowCount > 0;
  }
}
