import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SERVICE_NODE_FLAGS } from '@tandem/config';
import { eventually, freePort } from '@tandem/testing';

const ROOT = resolve(__dirname, '../../..');
const LOG_DIR = join(ROOT, '.tandem', 'test-logs');

/**
 * One Tandem service run as its own process, as in production: started from its main.ts, waited for
 * through its readiness endpoint, and stopped gracefully or killed with SIGKILL.
 */
export class ServiceProcess {
  private child: ChildProcess | null = null;
  private assignedPort: number | null = null;
  private exited: Promise<number | null> = Promise.resolve(null);
  readonly logFile: string;

  constructor(
    readonly app: 'reconciler' | 'connector' | 'applier',
    readonly name: string,
    private readonly env: Record<string, string>,
  ) {
    mkdirSync(LOG_DIR, { recursive: true });
    this.logFile = join(LOG_DIR, `${name}.log`);
  }

  async start(): Promise<void> {
    await this.choosePort();
    // A second child would orphan the first: it keeps the port and the work, and nothing stops it.
    if (this.running) throw new Error(`${this.name} is already running (pid ${this.child!.pid})`);
    const log = createWriteStream(this.logFile, { flags: 'a' });
    // The flags a deployment runs services with, unless replaced (`--cpu-prof` and the like when profiling).
    const nodeArgs = process.env['TANDEM_SERVICE_NODE_ARGS']?.split(' ').filter(Boolean) ?? SERVICE_NODE_FLAGS;
    const child = spawn(process.execPath, [...nodeArgs, ...this.entryPoint()], {
      cwd: ROOT,
      env: { ...process.env, ...this.env, HTTP_PORT: String(this.port), KAFKAJS_NO_PARTITIONER_WARNING: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Both streams feed one file, which is closed once the process and both streams are done: with
    // a plain pipe the first stream to end closes it, and the other's last words crash the runner.
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    child.on('close', () => log.end());
    this.child = child;
    this.exited = new Promise((resolveExit) => child.on('exit', (code) => resolveExit(code)));
    try {
      await eventually(
        async () => {
          if (child.exitCode !== null) throw new Error(`${this.name} exited with ${child.exitCode}; see ${this.logFile}`);
          const response = await fetch(`http://127.0.0.1:${this.port}/health/ready`);
          if (response.status !== 200) throw new Error(`${this.name} not ready: ${response.status}`);
        },
        { timeoutMs: 60_000, intervalMs: 250 },
      );
    } catch (error) {
      // One that never got ready is not left behind to become ready unwatched.
      await this.kill();
      throw error;
    }
  }

  /**
   * The app's compiled main.js when TANDEM_SERVICE_BUILD names a compiled workspace (what the
   * images run, built by tools/build), else its TypeScript source, compiled as it loads.
   */
  private entryPoint(): string[] {
    const build = process.env['TANDEM_SERVICE_BUILD'];
    if (build) return [resolve(ROOT, build, 'apps', this.app, 'src', 'main.js')];
    return ['-r', '@swc-node/register', join(ROOT, 'apps', this.app, 'src', 'main.ts')];
  }

  /** Graceful: SIGTERM, and the service finishes its batch before exiting. */
  async stop(): Promise<number | null> {
    if (!this.child || this.child.exitCode !== null) return this.child?.exitCode ?? null;
    this.child.kill('SIGTERM');
    return this.exited;
  }

  /** A crash: no shutdown hook runs, nothing in flight is finished. */
  async kill(): Promise<void> {
    if (!this.child || this.child.exitCode !== null) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  async health(): Promise<Record<string, unknown>> {
    const response = await fetch(`http://127.0.0.1:${this.port}/health/ready`);
    return (await response.json()) as Record<string, unknown>;
  }

  /** False before the first start and once the process has exited, whether stopped, killed or crashed. */
  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /**
   * Picks the HTTP port before the first start, for a caller that must hand it out in advance (the
   * URL webhooks are sent to); kept across restarts. `start` picks it when nobody did.
   */
  async choosePort(): Promise<number> {
    this.assignedPort ??= await freePort();
    return this.assignedPort;
  }

  /** The HTTP port of its health endpoints, chosen when it first starts (or by `choosePort`). */
  get port(): number {
    if (this.assignedPort === null) throw new Error(`${this.name} has not been started`);
    return this.assignedPort;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }
}
