export { SyncCatalog, compileSync, createMatchFor, systemMapper, type SyncConfigSource } from './sync-catalog';
export { ReconcilerPipeline, type ReconcilerStats } from './reconciler.pipeline';
export type { StoredEntity } from './stored-entity.codec';
export { ConnectorPipeline, type ConnectorStats, type RecordChange, type RecordChangeSource } from './connector.pipeline';
export { ApplierPipeline, type ApplierPipelineOptions, type ApplierStats, type ApplyInput, type ApplyOutcome, type ApplyTarget, type CreateMatch, type TargetCall } from './applier.pipeline';
export { ConflictResolver, ConflictResolutionError, type ConflictChoice } from './conflict-resolver.service';
export { InboxChangeSource, type FetchedRecord, type FetchedWrite, type InboxChangeSourceOptions, type RecordFetcher } from './inbox-change-source';
export { CoalescingApplyTarget, type CoalescingOptions } from './coalescing-apply-target';
