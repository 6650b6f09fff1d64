import { DatabaseError } from 'pg';
import { classifyPostgresFailure, classifySqlState, sqlStateCode, toPostgresSystemError } from './postgres-failure.util';
import { PostgresSystemErrorCode } from './postgres-system.error';

function serverError(code: string, message = 'server said no'): DatabaseError {
  const error = new DatabaseError(message, message.length, 'error');
  error.code = code;
  return error;
}

describe('classifySqlState', () => {
  it.each([
    ['08006', 'unavailable'],
    ['08001', 'unavailable'],
    ['57P01', 'unavailable'],
    ['57P03', 'unavailable'],
    ['53300', 'unavailable'],
    ['40001', 'contention'],
    ['40P01', 'contention'],
    ['55P03', 'contention'],
    ['23502', 'rejected'],
    ['23505', 'rejected'],
    ['22P02', 'rejected'],
    ['42703', 'rejected'],
    ['40002', 'rejected'],
  ])('%s is %s', (sqlState, kind) => {
    expect(classifySqlState(sqlState)).toBe(kind);
  });
});

describe('classifyPostgresFailure', () => {
  it('classifies server errors by SQLSTATE', () => {
    expect(classifyPostgresFailure(serverError('40P01', 'deadlock detected'))).toEqual({
      kind: 'contention',
      sqlState: '40P01',
      message: 'deadlock detected',
    });
  });

  it('treats socket and driver errors as an unavailable connection', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(classifyPostgresFailure(refused)).toMatchObject({ kind: 'unavailable', sqlState: null });
    expect(classifyPostgresFailure(new Error('Connection terminated unexpectedly'))).toMatchObject({ kind: 'unavailable' });
  });
});

describe('toPostgresSystemError', () => {
  it('keeps the cause and SQLSTATE and marks retryable failures', () => {
    const cause = serverError('40001', 'could not serialize access');
    const error = toPostgresSystemError(cause, 'applying');
    expect(error).toMatchObject({
      code: PostgresSystemErrorCode.Contention,
      retryable: true,
      sqlState: '40001',
      message: 'applying: could not serialize access',
    });
    expect(error.cause).toBe(cause);
  });

  it('marks statements the server rejects as not retryable', () => {
    expect(toPostgresSystemError(serverError('42P01'), 'reading')).toMatchObject({
      code: PostgresSystemErrorCode.Rejected,
      retryable: false,
    });
  });
});

describe('sqlStateCode', () => {
  it('names common conditions and falls back to the raw SQLSTATE', () => {
    expect(sqlStateCode('23502')).toBe('not_null_violation');
    expect(sqlStateCode('23505')).toBe('unique_violation');
    expect(sqlStateCode('2200G')).toBe('sqlstate_2200G');
  });
});
