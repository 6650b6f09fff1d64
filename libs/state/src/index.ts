export type { SqlClient, SqlResult } from './sql-client.interface';
export { createPgSqlClient, type PgSqlClient } from './pg-sql-client.driver';
export { preparedStatementNamer, type StatementNamer } from './prepared-statement.util';
export { createPgliteSqlClient, type PgliteSqlClient, type PgliteSqlClientOptions } from './pglite-sql-client.driver';
export { MIGRATIONS, type Migration } from './migrations';
export { migrate } from './migrate.util';
export { StaleStateError, StateError, StateErrorCode, isStateError } from './state.error';
export { normalizeMatchKey } from './match-key.util';
export { EntityStateRepository, type EntityStateWrite, type LoadedEntityState } from './entity-state.repository';
export {
  IdentityRepository,
  type RecordLink,
  type RecordStanding,
  type RecordToResolve,
  type ResolvedIdentity,
} from './identity.repository';
export {
  SyncConfigRepository,
  type StoredSyncConfig,
  type SyncConfigKey,
  type SyncConfigValidator,
} from './sync-config.repository';
export {
  ConflictLogRepository,
  type ConflictEntry,
  type ConflictQuery,
  type StoredConflict,
} from './conflict-log.repository';
export {
  RecordErrorRepository,
  type RecordErrorEntry,
  type RecordErrorQuery,
  type StoredRecordError,
} from './record-error.repository';
export { CheckpointRepository, type Checkpoint } from './checkpoint.repository';
export { SYNC_LOG_PRUNE_LOCK_KEY, SyncLogRepository, type PruneBounds, type StoredSyncLogEntry, type SyncLogEntry } from './sync-log.repository';
export { SourceInboxRepository, type SourceNotice, type SourceNoticeKind, type StoredSourceNotice } from './source-inbox.repository';
export { SourceRecordRepository, type SourceRecord } from './source-record.repository';
export { AppliedVersionRepository, type AppliedVersion, type NewestWrites } from './applied-version.repository';
export { ArchiveAttemptRepository } from './archive-attempt.repository';
export { CreateIntentRepository, type CreateIntent } from './create-intent.repository';
export { UnseenDeleteRepository, type KeyClaim, type UnseenDelete } from './unseen-delete.repository';
