export enum StateErrorCode {
  /** Rows were written by someone else since they were loaded: the writer lost its ownership. */
  StaleState = 'stale_state',
  /** A batch names the same row twice, which one statement cannot write. */
  DuplicateRow = 'duplicate_row',
  /** A sync config does not pass validation, on write or when loaded. */
  InvalidSyncConfig = 'invalid_sync_config',
  /** Another config already covers the same tenant and entity type. */
  SyncConfigConflict = 'sync_config_conflict',
  /** Links kept colliding with concurrent writers beyond the retry budget. */
  IdentityContention = 'identity_contention',
  MigrationFailed = 'migration_failed',
  /** A failed transaction could not be rolled back; its connection is discarded. */
  RollbackFailed = 'rollback_failed',
  /** An embedded database directory is already open in this process. */
  DataDirInUse = 'data_dir_in_use',
  /**
   * The embedded database's single connection was asked for while one of its own transactions,
   * in the same call chain, holds it: waiting would never end.
   */
  ConnectionInUse = 'connection_in_use',
}

export class StateError extends Error {
  constructor(
    readonly code: StateErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StateError';
  }
}

/**
 * Raised by `EntityStateRepository.saveMany` when any row's revision did not match: another
 * reconciler instance wrote those entities (typically after a partition rebalance). Nothing of the
 * batch is written; the caller should drop its in-memory state for these entities and reload.
 */
export class StaleStateError extends StateError {
  constructor(readonly entityIds: string[]) {
    super(
      StateErrorCode.StaleState,
      `entity state changed since it was loaded (${entityIds.length}): ${entityIds.slice(0, 20).join(', ')}` +
        (entityIds.length > 20 ? ', ...' : ''),
    );
    this.name = 'StaleStateError';
  }
}

export function isStateError(error: unknown, code?: StateErrorCode): error is StateError {
  return error instanceof StateError && (code === undefined || error.code === code);
}
