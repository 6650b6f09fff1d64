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

  /** Those of these keys (a command and its entity) whose archives were sent before. */
  async attempted(keys: string[]): Promise<Set<string>> {
    if (keys.length === 0) return new Set();
    const { rows } = await this.client.query<{ command_id: string }>(
      'SELECT command_id FROM tandem_archive_attempts WHERE system_id = $1 AND command_id = ANY($2::text[])',
      [this.systemId, keys],
    );
    return new Set(rows.map((row) => row.command_id));
  }

  /** Remembers these keys, before their archives are sent; forgets attempts older than a day. */
  async remember(keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.client.query(
      `INSERT INTO tandem_archive_attempts (system_id, command_id) SELECT $1, id FROM unnest($2::text[]) AS id ON CONFLICT DO NOTHING`,
      [this.systemId, keys],
    );
    await this.client.query(`DELETE FROM tandem_archive_attempts WHERE system_id = $1 AND attempted_at < now() - interval '${KEPT}'`, [this.systemId]);
  }

  /** Forgets these keys: their archives were refused before HubSpot did anything. */
  async forget(keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.client.query('DELETE FROM tandem_archive_attempts WHERE system_id = $1 AND command_id = ANY($2::text[])', [this.systemId, keys]);
  }
}
