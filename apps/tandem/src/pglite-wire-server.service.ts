import type { PGlite } from '@electric-sql/pglite';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';

const SSL_REQUEST = 80_877_103;
const GSSENC_REQUEST = 80_877_104;
const CANCEL_REQUEST = 80_877_102;
const REFUSED = Buffer.from('N');
/** Ends an extended query left open by a client that went away. */
const SYNC = Uint8Array.from([0x53, 0, 0, 0, 4]);

/** After these the client waits for answers, so the messages before them are one unit of work. */
const UNIT_ENDS = new Set(['Q', 'S', 'H', 'F']);
/** After these no extended query of the connection is half done (a Flush leaves one open). */
const SYNC_POINTS = new Set(['Q', 'S', 'F']);

export interface PgliteWireServerOptions {
  db: PGlite;
  port: number;
  host?: string;
  /** A connection that failed inside the engine; the connection is dropped. */
  onError: (error: unknown) => void;
}

/**
 * Serves one PGlite engine over the PostgreSQL wire protocol to any number of connections. The
 * engine has a single session, so connections take turns by protocol unit: a simple query, or an
 * extended query up to its Sync, runs whole; and a connection inside a transaction block keeps the
 * turn until the block ends (or it disconnects, which rolls it back). Message-by-message sharing
 * would let another connection's Parse land between a Parse and its Bind whenever a large message
 * arrives in several packets.
 *
 * One session also means notifications reach the connection whose commit raised them, not the
 * listeners: LISTEN succeeds but nothing arrives, and listeners must poll (change capture does).
 * COPY FROM STDIN is not supported.
 */
export class PgliteWireServer {
  private readonly turn = new Turn();
  private readonly connections = new Set<WireConnection>();

  private constructor(
    private readonly server: Server,
    readonly db: PGlite,
    private readonly onError: (error: unknown) => void,
  ) {}

  static async start({ db, port, host = '127.0.0.1', onError }: PgliteWireServerOptions): Promise<PgliteWireServer> {
    await db.waitReady;
    const server = createServer();
    const wire = new PgliteWireServer(server, db, onError);
    server.on('connection', (socket) => wire.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return wire;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** A URL for `pg` and psql (the engine takes any user and password). */
  get url(): string {
    return `postgresql://postgres@127.0.0.1:${this.port}/postgres`;
  }

  /** Stops listening, drops every connection and waits until their open transactions are rolled back. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const connection of this.connections) connection.socket.destroy();
    await Promise.all([...this.connections].map((connection) => connection.finished));
    await closed;
  }

  private accept(socket: Socket): void {
    const connection = new WireConnection(socket, this);
    this.connections.add(connection);
    void connection.finished.then(() => this.connections.delete(connection));
  }

  /** Runs one unit of a connection's messages when it has the turn, streaming the answers back. */
  async run(connection: WireConnection, messages: Uint8Array[], endsAtSyncPoint: boolean): Promise<void> {
    await this.turn.acquire(connection);
    // A connection that went away keeps the turn until `abandon`, queued after this, cleans up.
    if (connection.closed) return;
    try {
      await this.db.runExclusive(async () => {
        for (const message of messages) {
          await this.db.execProtocolRawStream(message, { onRawData: (data) => connection.write(data) });
        }
      });
    } catch (error) {
      this.onError(error);
      connection.socket.destroy();
      return;
    }
    connection.atSyncPoint = endsAtSyncPoint;
    if (endsAtSyncPoint && !this.db.isInTransaction()) this.turn.release(connection);
  }

  /** Leaves the session as a new connection expects it: no extended query open, no transaction. */
  async abandon(connection: WireConnection): Promise<void> {
    if (!this.turn.heldBy(connection)) return;
    try {
      await this.db.runExclusive(async () => {
        const discard = { onRawData: () => undefined };
        if (!connection.atSyncPoint) await this.db.execProtocolRawStream(SYNC, discard);
        if (this.db.isInTransaction()) await this.db.execProtocolRawStream(simpleQuery('ROLLBACK'), discard);
      });
    } catch (error) {
      this.onError(error);
    } finally {
      this.turn.release(connection);
    }
  }
}

/** One client connection: frames its messages into units and runs them in order. */
class WireConnection {
  closed = false;
  atSyncPoint = true;
  readonly finished: Promise<void>;
  private buffer: Buffer = Buffer.alloc(0);
  private started = false;
  private unit: Uint8Array[] = [];
  private work: Promise<void> = Promise.resolve();

  constructor(
    readonly socket: Socket,
    private readonly server: PgliteWireServer,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (data) => this.receive(data));
    // A reset by the client ends the connection like a close; 'close' follows.
    socket.on('error', () => undefined);
    this.finished = new Promise((resolve) =>
      socket.once('close', () => {
        this.closed = true;
        this.work = this.work.catch(() => undefined).then(() => this.server.abandon(this));
        void this.work.then(resolve);
      }),
    );
  }

  write(data: Uint8Array): void {
    // The engine reuses its output memory: copy before it leaves this call.
    if (!this.socket.destroyed) this.socket.write(Buffer.from(data));
  }

  private receive(data: Buffer): void {
    this.buffer = this.buffer.length === 0 ? data : Buffer.concat([this.buffer, data]);
    while (!this.closed) {
      const message = this.started ? this.nextMessage() : this.startup();
      if (message === null) return;
    }
  }

  /** The startup phase: encryption requests are refused, a cancel request is dropped (one session, nothing to cancel). */
  private startup(): Uint8Array | null {
    if (this.buffer.length < 8) return null;
    const length = this.buffer.readInt32BE(0);
    const code = this.buffer.readInt32BE(4);
    if (length === 8 && (code === SSL_REQUEST || code === GSSENC_REQUEST)) {
      this.take(8);
      this.socket.write(REFUSED);
      return new Uint8Array(0);
    }
    if (length === 16 && code === CANCEL_REQUEST) {
      this.take(16);
      this.socket.end();
      return null;
    }
    if (length < 8) return this.malformed();
    if (this.buffer.length < length) return null;
    const message = this.take(length);
    this.started = true;
    this.submit([message], true);
    return message;
  }

  private nextMessage(): Uint8Array | null {
    if (this.buffer.length < 5) return null;
    const type = String.fromCharCode(this.buffer[0]!);
    const length = this.buffer.readInt32BE(1);
    if (length < 4) return this.malformed();
    if (this.buffer.length < 1 + length) return null;
    const message = this.take(1 + length);
    if (type === 'X') {
      this.socket.end();
      return null;
    }
    this.unit.push(message);
    if (UNIT_ENDS.has(type)) {
      this.submit(this.unit, SYNC_POINTS.has(type));
      this.unit = [];
    }
    return message;
  }

  private submit(messages: Uint8Array[], endsAtSyncPoint: boolean): void {
    this.work = this.work.then(() => this.server.run(this, messages, endsAtSyncPoint));
  }

  private take(length: number): Uint8Array {
    const message = Uint8Array.from(this.buffer.subarray(0, length));
    this.buffer = this.buffer.subarray(length);
    return message;
  }

  private malformed(): null {
    this.socket.destroy();
    return null;
  }
}

/** Who may use the engine's session; the others wait in arrival order. */
class Turn {
  private holder: object | null = null;
  private readonly waiting: Array<{ owner: object; grant: () => void }> = [];

  acquire(owner: object): Promise<void> {
    if (this.holder === null || this.holder === owner) {
      this.holder = owner;
      return Promise.resolve();
    }
    return new Promise((grant) => this.waiting.push({ owner, grant }));
  }

  heldBy(owner: object): boolean {
    return this.holder === owner;
  }

  release(owner: object): void {
    if (this.holder !== owner) return;
    const next = this.waiting.shift();
    this.holder = next?.owner ?? null;
    next?.grant();
  }
}

function simpleQuery(sql: string): Uint8Array {
  const text = Buffer.from(`${sql}\0`, 'utf8');
  const message = Buffer.alloc(5 + text.length);
  message.write('Q', 0, 'ascii');
  message.writeInt32BE(4 + text.length, 1);
  text.copy(message, 5);
  return message;
}
