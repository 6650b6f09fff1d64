import type { SqlClient } from './sql-client.interface';

/** A system's delete of a record Tandem never saw alive, whose match key no entity held when it was read. */
export interface UnseenDelete {
  systemId: string;
  recordId: string;
  matchKey: string;
  /** The delete's position in the system's own change order. */
  sequence: string;
  /** When the system made it, by its own clock. */
  deletedAt: Date;
}

/** A record that holds a match key for its entity, and when it was made in its own system. */
export interface KeyClaim {
  entityId: string;
  matchKey: string;
  madeAt: Date;
}

/**
 * How long an unseen delete is kept for a record with its key to turn up elsewhere: far longer than
 * any connector runs behind. It only ever meets records made before it (see `claimedBy`), so keeping
 * it longer would change nothing but the table's size.
 */
const RETENTION = '1 day';

/**
 * Deletes that no entity could take yet: a system made a record and removed it before Tandem saw it,
 * while another system made the same key, which a connector running behind has not published yet.
 * Kept here so that the connector that does publish the key's entity also publishes this delete.
 */
export class UnseenDeleteRepository {
  constructor(private readonly client: SqlClient) {}

  /** Keeps these deletes (a newer delete of the same record replaces an older one) and forgets expired ones. */
  async record(tenantId: string, entityType: string, deletes: UnseenDelete[]): Promise<void> {
    if (deletes.length === 0) return;
    await this.client.query(
      `INSERT INTO tandem_unseen_deletes AS d (tenant_id, entity_type, system_id, record_id, match_key, sequence, deleted_at)
       SELECT $1, $2, n.system_id, n.record_id, n.match_key, n.sequence, n.deleted_at
       FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[]) AS n(system_id, record_id, match_key, sequence, deleted_at)
       ON CONFLICT (tenant_id, entity_type, system_id, record_id) DO UPDATE
         SET match_key = excluded.match_key, sequence = excluded.sequence, deleted_at = excluded.deleted_at, recorded_at = now()
         WHERE d.sequence::numeric <= excluded.sequence::numeric`,
      [
        tenantId,
        entityType,
        deletes.map((entry) => entry.systemId),
        deletes.map((entry) => entry.recordId),
        deletes.map((entry) => entry.matchKey),
        deletes.map((entry) => entry.sequence),
        deletes.map((entry) => entry.deletedAt.toISOString()),
      ],
    );
    await this.client.query(`DELETE FROM tandem_unseen_deletes WHERE recorded_at < now() - interval '${RETENTION}'`);
  }

  /**
   * The deletes, made in other systems than `systemId`, that fall to each claim's entity: those of
   * its key, now registered to that entity, made no earlier than the claiming record was made.
   */
  async claimedBy(tenantId: string, entityType: string, systemId: string, claims: KeyClaim[]): Promise<Array<UnseenDelete & { entityId: string }>> {
    if (claims.length === 0) return [];
    const { rows } = await this.client.query<{
      system_id: string;
      record_id: string;
      match_key: string;
      sequence: string;
      deleted_at: Date;
      entity_id: string;
    }>(
      `SELECT DISTINCT d.system_id, d.record_id, d.match_key, d.sequence, d.deleted_at, m.entity_id::text
       FROM unnest($4::text[], $5::uuid[], $6::timestamptz[]) AS c(match_key, entity_id, made_at)
       JOIN tandem_unseen_deletes d ON d.tenant_id = $1 AND d.entity_type = $2 AND d.match_key = c.match_key
       JOIN tandem_match_keys m ON m.tenant_id = $1 AND m.entity_type = $2 AND m.match_key = c.match_key AND m.entity_id = c.entity_id
       WHERE d.system_id <> $3 AND d.deleted_at >= c.made_at
       ORDER BY d.deleted_at, d.system_id, d.record_id`,
      [
        tenantId,
        entityType,
        systemId,
        claims.map((claim) => claim.matchKey),
        claims.map((claim) => claim.entityId),
        claims.map((claim) => claim.madeAt.toISOString()),
      ],
    );
    return rows.map((row) => ({
      systemId: row.system_id,
      recordId: row.record_id,
      matchKey: row.match_key,
      sequence: row.sequence,
      deletedAt: new Date(row.deleted_at),
      entityId: row.entity_id,
    }));
  }

  /** Forgets deletes that have been published for their entity. */
  async forget(tenantId: string, entityType: string, deletes: Array<Pick<UnseenDelete, 'systemId' | 'recordId' | 'sequence'>>): Promise<void> {
    if (deletes.length === 0) return;
    await this.client.query(
      `DELETE FROM tandem_unseen_deletes d
       USING unnest($3::text[], $4::text[], $5::text[]) AS f(system_id, record_id, sequence)
       WHERE d.tenant_id = $1 AND d.entity_type = $2 AND d.system_id = f.system_id AND d.record_id = f.record_id AND d.sequence = f.sequence`,
      [tenantId, entityType, deletes.map((entry) => entry.systemId), deletes.map((entry) => entry.recordId), deletes.map((entry) => entry.sequence)],
    );
  }
}
