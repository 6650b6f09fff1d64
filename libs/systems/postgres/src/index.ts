export { PostgresTableSchema, type PostgresTable, type PostgresTableInput } from './postgres-table.schema';
export { PostgresSystemError, PostgresSystemErrorCode } from './postgres-system.error';
export {
  PostgresChangeCapture,
  type CapturedChange,
  type CapturedOperation,
  type PostgresChangeCaptureOptions,
  type SnapshotOptions,
  type SnapshotProgress,
  type SnapshotResult,
} from './change-capture.service';
export type { WaitResult } from './notification-listener.service';
export {
  ApplyFailureCode,
  PostgresApplier,
  type ApplyCommandInput,
  type ApplyOutcome,
  type ApplyOutcomeError,
  type PostgresApplierOptions,
} from './postgres-applier.service';
