import { describeIssues } from '@tandem/contracts';
import { ZodError } from 'zod';
import type { SqlClient } from './sql-client.interface';
import { StateError, StateErrorCode } from './state.error';

export interface SyncConfigKey {
  id: string;
  tenantId: string;
  entityType: string;
}

export type StoredSyncConfig<C> = C & SyncConfigKey;

/** Parses raw JSON into a config, throwing when it is invalid (a zod `parse` fits). */
export type SyncConfigValidator<C> = (raw: unknown) => C;

/**
 * Sync configurations, one per tenant and entity type. Validated on write and again on every load,
 * so a config that a newer version no longer accepts fails loudly, naming itself, instead of
 * running with a half-understood shape.
 */
export class SyncConfigRepository<C extends object> {
  constructor(
    private readonly client: SqlClient,
    private readonly validate: SyncConfigValidator<C>,
  ) {}

  /** Creates or replaces the config with this id; returns it as validated (defaults filled in). */
  async save(config: StoredSyncConfig<C>): Promise<StoredSyncConfig<C>> {
    const stored = this.check(config, config);
    try {
      await this.client.query(
        `INSERT INTO tandem_sync_configs (id, tenant_id, entity_type, config, updated_at)
         VALUES ($1, $2, $3, $4::jsonb, now())
         ON CONFLICT (id) DO UPDATE
           SET tenant_id = excluded.tenant_id, entity_type = excluded.entity_type,
               config = excluded.config, updated_at = excluded.updated_at`,
        [stored.id, stored.tenantId, stored.entityType, JSON.stringify(stored)],
      );
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new StateError(
          StateErrorCode.SyncConfigConflict,
          `sync config ${stored.id}: tenant ${stored.tenantId} already has a config for ${stored.entityType}`,
          { cause: error },
        );
      }
      throw error;
    }
    return stored;
  }

  async get(id: string): Promise<StoredSyncConfig<C> | null> {
    const rows = await this.select('WHERE id = $1', [id]);
    return this.checkRows(rows)[0] ?? null;
  }

  async forEntity(tenantId: string, entityType: string): Promise<StoredSyncConfig<C> | null> {
    const rows = await this.select('WHERE tenant_id = $1 AND entity_type = $2', [tenantId, entityType]);
    return this.checkRows(rows)[0] ?? null;
  }

  /** Every config, by id. Fails naming every stored config that no longer validates. */
  async list(): Promise<StoredSyncConfig<C>[]> {
    return this.checkRows(await this.select('', []));
  }

  private async select(where: string, params: unknown[]): Promise<ConfigRow[]> {
    const { rows } = await this.client.query<ConfigRow>(
      `SELECT id, tenant_id, entity_type, config FROM tandem_sync_configs ${where} ORDER BY id`,
      params,
    );
    return rows;
  }

  private checkRows(rows: ConfigRow[]): StoredSyncConfig<C>[] {
    const configs: StoredSyncConfig<C>[] = [];
    const failures: StateError[] = [];
    for (const row of rows) {
      try {
        const key = { id: row.id, tenantId: row.tenant_id, entityType: row.entity_type };
        configs.push(this.check(row.config, key));
      } catch (error) {
        if (!(error instanceof StateError)) throw error;
        failures.push(error);
      }
    }
    const [first] = failures;
    if (first === undefined) return configs;
    if (failures.length === 1) throw first;
    throw new StateError(StateErrorCode.InvalidSyncConfig, failures.map((failure) => failure.message).join('\n'), {
      cause: new AggregateError(failures),
    });
  }

  /** The key columns are authoritative: they are what the row is found by. */
  private check(raw: unknown, key: SyncConfigKey): StoredSyncConfig<C> {
    let config: C;
    try {
      config = this.validate(raw);
    } catch (error) {
      throw new StateError(StateErrorCode.InvalidSyncConfig, `sync config ${key.id} is invalid: ${problemsOf(error)}`, {
        cause: error,
      });
    }
    return { ...config, id: key.id, tenantId: key.tenantId, entityType: key.entityType };
  }
}

interface ConfigRow {
  id: string;
  tenant_id: string;
  entity_type: string;
  config: unknown;
}

function problemsOf(error: unknown): string {
  if (error instanceof ZodError) return describeIssues(error);
  return error instanceof Error ? error.message : String(error);
}

function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '23505';
}
