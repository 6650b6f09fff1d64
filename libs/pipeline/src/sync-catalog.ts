import type { EntityType } from '@tandem/contracts';
import { FieldMapper } from '@tandem/mapping';
import { CompiledSync, type SystemMapper } from '@tandem/reconciliation';
import { SyncConfigRepository, type SqlClient } from '@tandem/state';
import { SyncConfigSchema, type LinkedSystem, type SyncConfig } from '@tandem/sync-config';
import type { CreateMatch } from './applier.pipeline';
import { matchKeyOf } from './match-key.util';

/** Where sync configurations come from (the configuration table, or a file in tests and demos). */
export interface SyncConfigSource {
  list(): Promise<SyncConfig[]>;
}

/**
 * The compiled sync configurations a service works with, looked up per tenant and entity type.
 * `refresh` picks up configuration changes; services call it on a timer and on a miss.
 */
export class SyncCatalog {
  private byEntity = new Map<string, CompiledSync>();

  constructor(private readonly source: SyncConfigSource) {}

  /** The configurations stored in Tandem's database, validated again on every load. */
  static fromDatabase(db: SqlClient): SyncCatalog {
    return new SyncCatalog(new SyncConfigRepository(db, (raw) => SyncConfigSchema.parse(raw)));
  }

  async refresh(): Promise<void> {
    const configs = await this.source.list();
    this.byEntity = new Map(configs.map((config) => [entityTypeKey(config.tenantId, config.entityType), compileSync(config)]));
  }

  forEntity(tenantId: string, entityType: EntityType): CompiledSync | undefined {
    return this.byEntity.get(entityTypeKey(tenantId, entityType));
  }

  all(): CompiledSync[] {
    return [...this.byEntity.values()];
  }

  /** The sync linking a system and the system's configuration in it, for services that serve one system. */
  linkedSystem(systemId: string): { sync: CompiledSync; system: LinkedSystem } | undefined {
    for (const sync of this.byEntity.values()) {
      const system = sync.config.systems.find((linked) => linked.id === systemId);
      if (system) return { sync, system };
    }
    return undefined;
  }
}

export function compileSync(config: SyncConfig): CompiledSync {
  return new CompiledSync(config, (system) => systemMapper(config, system));
}

/** The reconciler's view of a field mapper: values only; mapping errors surface at the connector. */
export function systemMapper(config: SyncConfig, system: LinkedSystem): SystemMapper & { mapper: FieldMapper } {
  const built = FieldMapper.fromConfig(system.mapping);
  if (!built.ok) {
    throw new Error(`sync ${config.id}, system ${system.id}: invalid mapping: ${built.errors.join('; ')}`);
  }
  const { mapper } = built;
  return {
    mapper,
    toNative: (canonical) => mapper.toNative(canonical).values,
    toCanonical: (native) => mapper.toCanonical(native).values,
    nativeFieldsAffectedBy: (fields) => mapper.nativeFieldsAffectedBy(fields),
    canonicalFieldsAffectedBy: (fields) => mapper.canonicalFieldsAffectedBy(fields),
  };
}

/**
 * How a system's applier can recognise a record a person entered there for an entity being created:
 * the one native column that carries the sync's match key. Null when the key spans several fields
 * or no single column holds it.
 */
export function createMatchFor(config: SyncConfig, system: LinkedSystem): CreateMatch | null {
  const [field, ...others] = config.matchOn;
  if (field === undefined || others.length > 0) return null;
  const { mapper, toCanonical } = systemMapper(config, system);
  const columns = mapper.nativeFieldsAffectedBy([field]);
  const column = columns[0];
  if (column === undefined || columns.length > 1 || mapper.canonicalFieldsAffectedBy([column]).length !== 1) return null;
  return { entityType: config.entityType, column, keyOf: (fields) => matchKeyOf(config.matchOn, toCanonical(fields)) };
}

function entityTypeKey(tenantId: string, entityType: string): string {
  return `${tenantId}/${entityType}`;
}
