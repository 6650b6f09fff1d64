import { Client, type ClientConfig } from 'pg';
import type { PostgresSystemError } from './postgres-system.error';
import { toPostgresSystemError } from './postgres-failure.util';
import { quoteIdentifier } from './sql-identifier.util';

export type WaitResult = 'notified' | 'timeout' | 'aborted';

export interface NotificationListenerOptions {
  connection: ClientConfig;
  channel: string;
  /** Called for every connect failure or dropped connection; waits fall back to their timeout meanwhile. */
  onError: (error: PostgresSystemError) => void;
  /** Least time between two connect attempts, so a database that is down is not hammered. */
  reconnectDelayMs: number;
}

/**
 * A dedicated LISTEN connection (pooled connections cannot hold a LISTEN). Notifications are only a
 * hint to read sooner: every wait ends at its timeout anyway, so a missed one only delays.
 */
export class NotificationListener {
  private client: Client | null = null;
  private connecting: Promise<void> | null = null;
  private nextAttemptAt = 0;
  /** A notification arrived while nobody was waiting; the next wait returns at once. */
  private pending = false;
  private closed = false;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private readonly waiters = new Set<(result: WaitResult) => void>();

  constructor(private readonly options: NotificationListenerOptions) {}

  wait(timeoutMs: number, signal?: AbortSignal): Promise<WaitResult> {
    if (signal?.aborted || this.closed) return Promise.resolve('aborted');
    this.ensureListening();
    if (this.pending) {
      this.pending = false;
      return Promise.resolve('notified');
    }
    return new Promise<WaitResult>((resolve) => {
      const finish = (result: WaitResult): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.waiters.delete(finish);
        resolve(result);
      };
      const onAbort = (): void => finish('aborted');
      const timer = setTimeout(() => finish('timeout'), timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.add(finish);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.wake('aborted');
    await this.connecting;
    const client = this.client;
    this.client = null;
    if (client) await client.end().catch((error: unknown) => this.report(error, 'closing the listen connection'));
  }

  private ensureListening(): void {
    if (this.client || this.connecting || this.closed || Date.now() < this.nextAttemptAt) return;
    this.nextAttemptAt = Date.now() + this.options.reconnectDelayMs;
    this.connecting = this.connect().finally(() => {
      this.connecting = null;
    });
  }

  private async connect(): Promise<void> {
    const client = new Client(this.options.connection);
    client.on('notification', () => {
      if (this.waiters.size > 0) this.wake('notified');
      else this.pending = true;
    });
    client.on('error', (error) => {
      this.report(error, 'listen connection failed');
      this.drop(client);
    });
    client.on('end', () => this.drop(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${quoteIdentifier(this.options.channel)}`);
    } catch (error) {
      this.report(error, `listening on ${this.options.channel}`);
      await client.end().catch((endError: unknown) => this.report(endError, 'closing a failed listen connection'));
      this.scheduleReconnect();
      return;
    }
    if (this.closed) {
      await client.end().catch((endError: unknown) => this.report(endError, 'closing the listen connection'));
      return;
    }
    this.client = client;
    // Changes committed while nobody listened sent notifications no one received: read once more.
    this.pending = true;
    this.wake('notified');
  }

  /**
   * Forgets a lost connection and, unless closed, listens again as soon as the reconnect delay
   * allows, so that waiters wake soon; a failed attempt schedules the next one, a delay later.
   */
  private drop(client: Client): void {
    if (this.client !== client) return;
    this.client = null;
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      // A timer can fire a millisecond before Date.now() reaches its due time, when ensureListening
      // would still decline: the attempt would then wait for the next wait() call.
      if (Date.now() < this.nextAttemptAt) this.scheduleReconnect();
      else this.ensureListening();
    }, Math.max(0, this.nextAttemptAt - Date.now()));
  }

  private wake(result: WaitResult): void {
    const waiters = [...this.waiters];
    if (result === 'notified' && waiters.length > 0) this.pending = false;
    for (const finish of waiters) finish(result);
  }

  private report(error: unknown, doing: string): void {
    this.options.onError(toPostgresSystemError(error, doing));
  }
}
