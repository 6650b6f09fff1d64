import { Redis } from 'ioredis';
import { CoordinationError, CoordinationErrorCode } from '../coordination.error';

export interface RedisCoordinationOptions {
  /** Prepended to every key, so several deployments (or tests) can share one Redis. */
  keyPrefix?: string;
  /** How long one command may take before it fails as `unavailable`. */
  commandTimeoutMs?: number;
  connectTimeoutMs?: number;
  /**
   * Receives connection errors (the client keeps reconnecting in the background). Without it the
   * client reports them on the console.
   */
  onConnectionError?: (error: Error) => void;
}

export const DEFAULT_KEY_PREFIX = 'tandem:';

/**
 * A client that keeps reconnecting, so a service starts while Redis is down and pauses only where it
 * needs Redis. Resolves once the first attempt has settled, so a reachable Redis takes the first
 * command. Commands never queue or resend: until the
 * connection is up they reject at once (or after the command timeout) as `unavailable`. Nothing is
 * lost that way, because callers only proceed on success; a queued command, by contrast, could
 * take effect long after its caller gave up on it.
 */
export async function openRedis(url: string, options: RedisCoordinationOptions): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    commandTimeout: options.commandTimeoutMs ?? 2_000,
    connectTimeout: options.connectTimeoutMs ?? 2_000,
    retryStrategy: (attempt) => Math.min(attempt * 100, 2_000),
    // On disconnect ioredis waits this long for the socket to close, even one that never opened.
    disconnectTimeout: 200,
  });
  // Without a listener ioredis prints every failed reconnection to the console.
  redis.on('error', options.onConnectionError ?? (() => undefined));
  // A failed first attempt is retried by the retry strategy like any later one.
  await redis.connect().catch(() => undefined);
  return redis;
}

/** Runs one Redis round trip, turning its failures into typed errors. */
export async function callRedis<T>(action: string, command: () => Promise<T>): Promise<T> {
  try {
    return await command();
  } catch (error) {
    throw toCoordinationError(action, error);
  }
}

function toCoordinationError(action: string, error: unknown): CoordinationError {
  if (error instanceof CoordinationError) return error;
  // A reply error means Redis is up and refused the command: retrying will not help.
  if (error instanceof Error && error.name === 'ReplyError') {
    return new CoordinationError(CoordinationErrorCode.CommandFailed, `${action}: Redis refused the command`, {
      cause: error,
    });
  }
  return new CoordinationError(CoordinationErrorCode.Unavailable, `${action}: Redis is unavailable`, { cause: error });
}

export function unexpectedReply(action: string, reply: unknown): CoordinationError {
  return new CoordinationError(
    CoordinationErrorCode.CommandFailed,
    `${action}: unexpected reply from Redis: ${JSON.stringify(reply)}`,
  );
}
