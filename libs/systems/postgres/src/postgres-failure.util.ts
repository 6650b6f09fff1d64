import { DatabaseError } from 'pg';
import { PostgresSystemError, PostgresSystemErrorCode } from './postgres-system.error';

/**
 * What a failed driver call means for the work it was part of:
 * - `unavailable`: the connection or server is gone or overloaded; retry the whole batch later;
 * - `contention`: the server aborted the transaction to resolve a conflict; retry the whole batch;
 * - `rejected`: the statement cannot succeed with this data; retrying changes nothing.
 */
export type PostgresFailureKind = 'unavailable' | 'contention' | 'rejected';

export interface PostgresFailure {
  kind: PostgresFailureKind;
  sqlState: string | null;
  message: string;
}

/**
 * Classifies an error thrown by a `pg` call. Only server responses carry a SQLSTATE; everything else
 * the driver throws (socket errors such as ECONNREFUSED/ECONNRESET, connect timeouts, a closed pool or
 * client) means the connection is unusable.
 */
export function classifyPostgresFailure(error: unknown): PostgresFailure {
  if (error instanceof DatabaseError && error.code !== undefined) {
    return { kind: classifySqlState(error.code), sqlState: error.code, message: error.message };
  }
  return { kind: 'unavailable', sqlState: null, message: error instanceof Error ? error.message : String(error) };
}

/** The one place that decides which SQLSTATEs are worth retrying. */
export function classifySqlState(sqlState: string): PostgresFailureKind {
  switch (sqlState) {
    case '57P01': // admin_shutdown: the backend was terminated
    case '57P02': // crash_shutdown
    case '57P03': // cannot_connect_now: starting up or in recovery
      return 'unavailable';
    case '40001': // serialization_failure
    case '40P01': // deadlock_detected
    case '55P03': // lock_not_available
    case '57014': // query_canceled, e.g. statement_timeout under load
      return 'contention';
  }
  switch (sqlState.slice(0, 2)) {
    case '08': // connection_exception
    case '53': // insufficient_resources: disk full, out of memory, too many connections
    case '58': // system_error: I/O errors on the server
      return 'unavailable';
    default:
      return 'rejected';
  }
}

/** Condition names (as in the PostgreSQL manual) for SQLSTATEs a single write commonly hits. */
const CONDITION_NAMES: Readonly<Record<string, string>> = {
  '22001': 'string_data_right_truncation',
  '22003': 'numeric_value_out_of_range',
  '22007': 'invalid_datetime_format',
  '22008': 'datetime_field_overflow',
  '22P02': 'invalid_text_representation',
  '23502': 'not_null_violation',
  '23503': 'foreign_key_violation',
  '23505': 'unique_violation',
  '23514': 'check_violation',
  '23P01': 'exclusion_violation',
  '42501': 'insufficient_privilege',
  '42703': 'undefined_column',
  '42804': 'datatype_mismatch',
  '42P01': 'undefined_table',
};

/** A readable error code for a SQLSTATE, e.g. `not_null_violation`, or `sqlstate_XXXXX` for the rest. */
export function sqlStateCode(sqlState: string): string {
  return CONDITION_NAMES[sqlState] ?? `sqlstate_${sqlState}`;
}

const KIND_TO_CODE: Readonly<Record<PostgresFailureKind, PostgresSystemErrorCode>> = {
  unavailable: PostgresSystemErrorCode.Unavailable,
  contention: PostgresSystemErrorCode.Contention,
  rejected: PostgresSystemErrorCode.Rejected,
};

/** Wraps a driver error into the adapter's typed error, keeping the original as `cause`. */
export function toPostgresSystemError(error: unknown, doing: string): PostgresSystemError {
  if (error instanceof PostgresSystemError) return error;
  const failure = classifyPostgresFailure(error);
  return new PostgresSystemError(KIND_TO_CODE[failure.kind], `${doing}: ${failure.message}`, {
    cause: error,
    sqlState: failure.sqlState,
  });
}
