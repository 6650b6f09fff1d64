import type { FieldValues } from '@tandem/contracts';
import type { ConflictRule, LinkedSystem, SyncConfig } from '@tandem/sync-config';

/** The slice of a field mapper the reconciler needs; `@tandem/mapping`'s FieldMapper provides it. */
export interface SystemMapper {
  toNative(canonical: FieldValues): FieldValues;
  toCanonical(native: FieldValues): FieldValues;
  nativeFieldsAffectedBy(canonicalFields: readonly string[]): string[];
  canonicalFieldsAffectedBy(nativeFields: readonly string[]): string[];
}

export interface CompiledSystem {
  id: string;
  direction: LinkedSystem['direction'];
  mapper: SystemMapper;
}

/** A validated sync configuration with a mapper per linked system, ready for the reconciler. */
export class CompiledSync {
  readonly systems: ReadonlyMap<string, CompiledSystem>;

  constructor(
    readonly config: SyncConfig,
    mapperFor: (system: LinkedSystem) => SystemMapper,
  ) {
    this.systems = new Map(
      config.systems.map((system) => [system.id, { id: system.id, direction: system.direction, mapper: mapperFor(system) }]),
    );
  }

  ruleFor(field: string): ConflictRule {
    return this.config.conflicts.fields[field] ?? this.config.conflicts.default;
  }

  /** The canonical record as `system` would report it back: what its copy reads like when in sync. */
  project(system: CompiledSystem, record: FieldValues): FieldValues {
    return system.mapper.toCanonical(system.mapper.toNative(record));
  }
}
