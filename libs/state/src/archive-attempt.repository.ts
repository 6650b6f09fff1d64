import type { SqlClient } from './sql-client.interface';

/** How long a delete's attempt is remembered: redeliveries come within minutes, not days. */
const KEPT = '1 day';

/**
 * The delete commands an applier has sent to a system that archives an archived record again without
 * a word (HubSpot), remembered across restarts: a delete redelivered after a crash then knows the
 * archive it finds as its own, not as someone else's made before it.
 */
export class ArchiveAttemptRepository {
  constructor(
    private readonly client: SqlClient,
    private readonly systemId: string,
  ) {}

  /** Those of these keys whose archives were sent before, each with the time (ms since the epoch) its archive was made by. */
  async attempted(keys: string[]): Promise<Map<string, number>> {
    if (keys.length === 0) return new Map();
    const { rows } = await this.client.query<{ command_id: string; archived_by: Date }>(
      'SELECT command_id, archived_by FROM tandem_archive_attempts WHERE system_id = $1 AND command_id = ANY($2::text[])',
      [this.systemId, keys],
    );
    return new Map(rows.map((row) => [row.command_id, row.archived_by.getTime()]));
  }

  /**
   * Remembers these keys, their archives made by `archivedBy` (ms since the epoch), before each send;
   * a later time replaces an earlier one. Forgets attempts older than a day.
   */
  async remember(keys: string[], archivedBy: number): Promise<void> {
    if (keys.length === 0) return;
    await this.client.query(
      `INSERT INTO tandem_archive_attempts (system_id, command_id, archived_by)
       SELECT DISTINCT $1, id, to_timestamp($3::double precision / 1000) FROM unnest($2::text[]) AS id
       ON CONFLICT (system_id, command_id) DO UPDATE
         SET archived_by = greatest(tandem_archive_attempts.archived_by, excluded.archived_by), attempted_at = now()`,
      [this.systemId, keys, archivedBy],
    );
    await this.client.query(`DELETE FROM tandem_archive_attempts WHERE system_id = $1 AND attempted_at < now() - interval '${KEPT}'`, [this.systemId]);
  }

  /** Forgets these keys: their archives were refused before HubSpot did anything. */
  async forget(keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.client.query('DELETE FROM tandem_archive_attempts WHERE system_id = $1 AND command_id = ANY($2::text[])', [this.systemId, keys]);
  }
}
