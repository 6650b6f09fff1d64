import { SERVICE_NODE_FLAGS } from '@tandem/config';
import { SyncConfigSchema, type SyncConfig } from '@tandem/sync-config';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { simulatorProcess, serviceProcesses, type StackProcess } from './stack-roster.util';
import { ROOT, databaseUrl, type StackSettings } from './stack.settings';

const run = promisify(execFile);

/** Each service gets this long to become ready; the first start compiles and migrates. */
const READY_TIMEOUT_MS = 120_000;
/** After SIGTERM a service finishes its batch and commits; after this it is killed. */
const STOP_TIMEOUT_MS = 20_000;
const NODE_ARGS = [...SERVICE_NODE_FLAGS, '-r', '@swc-node/register'];
/** Marks that `stack` started the project's Kafka, so only then does `stack:stop` stop it. */
const KAFKA_MARKER = 'kafka.started-by-stack';

export class StackError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StackError';
  }
}

export type Output = (line: string) => void;

/** The sample sync configuration, pointed at this machine's simulator (and the stack's tenant). */
export function stackSyncConfig(settings: StackSettings, simulatorUrl?: string): SyncConfig {
  const raw = JSON.parse(readFileSync(join(ROOT, 'deploy/config/contacts-sync.json'), 'utf8')) as { tenantId: string; systems: Array<{ kind: string; settings?: Record<string, unknown> }> };
  for (const system of raw.systems) {
    if (system.kind === 'hubspot' && simulatorUrl) system.settings = { ...system.settings, baseUrl: simulatorUrl };
  }
  if (settings.STACK_TENANT_ID) raw.tenantId = settings.STACK_TENANT_ID;
  return SyncConfigSchema.parse(raw);
}

function roster(settings: StackSettings): { simulator: StackProcess; services: StackProcess[] } {
  const sync = stackSyncConfig(settings);
  return { simulator: simulatorProcess(settings, sync), services: serviceProcesses(settings, sync) };
}

const pidFile = (settings: StackSettings, name: string) => join(settings.dir, `${name}.pid`);
const logFile = (settings: StackSettings, name: string) => join(settings.dir, `${name}.log`);

/**
 * Runs the production topology on this machine: the project's Kafka (started only if none answers),
 * the machine's PostgreSQL and Redis, the HubSpot simulator, and every service as its own background
 * process with a log and a pid file in the stack directory. Returns once every one is ready.
 */
export async function startStack(settings: StackSettings, out: Output): Promise<void> {
  const { simulator, services } = roster(settings);
  const all = [simulator, ...services];
  const running = all.filter((process) => ownPid(settings, process) !== null);
  if (running.length > 0) throw new StackError(`the stack already runs (${running.map((p) => p.name).join(', ')}); stop it with npm run stack:stop`);
  const taken = (await Promise.all(all.flatMap((p) => (p === simulator ? [p.port, p.port + 1] : [p.port])).map(async (port) => ((await portFree(port)) ? null : port)))).filter((port) => port !== null);
  if (taken.length > 0) throw new StackError(`ports ${taken.join(', ')} are in use; choose other ones with STACK_PORT_BASE`);
  mkdirSync(settings.dir, { recursive: true });

  await script(out, 'scripts/services.sh');
  if (await kafkaAnswers()) {
    out(`kafka: using the broker already on ${settings.STACK_KAFKA_BROKERS.join(',')} (stack:stop leaves it running)`);
  } else {
    await script(out, 'scripts/kafka/start.sh');
    writeFileSync(join(settings.dir, KAFKA_MARKER), `${new Date().toISOString()}\n`);
  }

  const started: StackProcess[] = [];
  try {
    await prepareDatabases(settings, out);
    started.push(simulator);
    const simulatorChild = launch(settings, simulator);
    // The services refuse to start on a system no stored configuration links; the simulator's
    // address is known before it listens.
    await applySyncConfig(settings, simulator.url, out);
    // The reconciler creates every topic of every linked system; the others would race to create
    // the same topics if started together, so they start once it is ready.
    const [reconciler, ...others] = services;
    started.push(reconciler!);
    await Promise.all([ready(settings, simulator, simulatorChild), ready(settings, reconciler!, launch(settings, reconciler!))]);
    const children = others.map((service) => (started.push(service), { service, child: launch(settings, service) }));
    await Promise.all(children.map(({ service, child }) => ready(settings, service, child)));
  } catch (error) {
    out('stack: start failed; stopping what it started');
    await stopProcesses(settings, started, out);
    await stopKafkaIfOurs(settings, out);
    throw error;
  }
  out('');
  for (const process of all) out(`ready: ${process.name.padEnd(18)} ${process.url.padEnd(24)} log ${logFile(settings, process.name)}`);
  out(`tandem database ${databaseUrl(settings, settings.STACK_DATABASE)}, CRM database ${databaseUrl(settings, settings.STACK_CRM_DATABASE)}; stop with npm run stack:stop`);
}

/** Stops every process the stack started (SIGTERM, then SIGKILL after a grace period), and Kafka if it started it. */
export async function stopStack(settings: StackSettings, out: Output): Promise<void> {
  const { simulator, services } = roster(settings);
  // Connectors and the simulator first would be kinder to in-flight work, but each service drains
  // its own batch on SIGTERM; stopping all at once keeps this quick.
  await stopProcesses(settings, [simulator, ...services], out);
  await stopKafkaIfOurs(settings, out);
}

async function script(out: Output, path: string): Promise<void> {
  try {
    const { stdout } = await run('bash', [join(ROOT, path)], { cwd: ROOT });
    for (const line of stdout.trim().split('\n').filter(Boolean)) out(line);
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new StackError(`${path} failed:\n${stdout}${stderr}`, { cause: error });
  }
}

async function kafkaAnswers(): Promise<boolean> {
  try {
    await run('bash', ['-c', 'REPO_ROOT="$PWD" && source scripts/kafka/common.sh && kafka_answers'], { cwd: ROOT });
    return true;
  } catch {
    return false;
  }
}

async function stopKafkaIfOurs(settings: StackSettings, out: Output): Promise<void> {
  const marker = join(settings.dir, KAFKA_MARKER);
  if (!existsSync(marker)) return;
  await script(out, 'scripts/kafka/stop.sh');
  rmSync(marker, { force: true });
}

/** Tandem's database and the CRM's, created when missing, and the CRM's contacts table. */
async function prepareDatabases(settings: StackSettings, out: Output): Promise<void> {
  await withClient(settings.STACK_POSTGRES_URL, async (admin) => {
    for (const database of [settings.STACK_DATABASE, settings.STACK_CRM_DATABASE]) {
      const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
      if (rowCount === 0) {
        await admin.query(`CREATE DATABASE ${database}`);
        out(`postgres: created database ${database}`);
      }
    }
  });
  await withClient(databaseUrl(settings, settings.STACK_CRM_DATABASE), (crm) => crm.query(readFileSync(join(ROOT, 'deploy/sql/crm-contacts.sql'), 'utf8')));
}

/** Stores the sample configuration with the command line, as an operator would. */
async function applySyncConfig(settings: StackSettings, simulatorUrl: string, out: Output): Promise<void> {
  const file = join(settings.dir, 'contacts-sync.json');
  writeFileSync(file, `${JSON.stringify(stackSyncConfig(settings, simulatorUrl), null, 2)}\n`);
  try {
    const { stdout } = await run(process.execPath, [...NODE_ARGS, join(ROOT, 'apps/cli/src/main.ts'), 'sync', 'apply', file], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: databaseUrl(settings, settings.STACK_DATABASE) },
    });
    out(`tandem: ${stdout.trim()} (${file})`);
  } catch (error) {
    throw new StackError(`applying ${file} failed: ${(error as { stderr?: string }).stderr ?? String(error)}`, { cause: error });
  }
}

/** Starts a process in the background, detached from this one, its output appended to its log. */
function launch(settings: StackSettings, service: StackProcess): ReturnType<typeof spawn> {
  const log = openSync(logFile(settings, service.name), 'w');
  try {
    const child = spawn(process.execPath, [...NODE_ARGS, join(ROOT, service.main)], {
      cwd: ROOT,
      env: { ...process.env, ...service.env, KAFKAJS_NO_PARTITIONER_WARNING: '1' },
      stdio: ['ignore', log, log],
      detached: true,
    });
    child.unref();
    if (child.pid === undefined) throw new StackError(`${service.name} did not start`);
    writeFileSync(pidFile(settings, service.name), `${child.pid}\n`);
    return child;
  } finally {
    closeSync(log);
  }
}

async function ready(settings: StackSettings, service: StackProcess, child: ReturnType<typeof spawn>): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new StackError(`${service.name} exited (${child.exitCode ?? child.signalCode}):\n${tail(settings, service)}`);
    try {
      const response = await fetch(service.healthUrl, { signal: AbortSignal.timeout(3_000) });
      if (response.status === 200) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new StackError(`${service.name} not ready after ${READY_TIMEOUT_MS / 1000} s (${service.healthUrl}):\n${tail(settings, service)}`);
}

function tail(settings: StackSettings, service: StackProcess): string {
  const lines = readFileSync(logFile(settings, service.name), 'utf8').trimEnd().split('\n');
  return `${lines.slice(-15).join('\n')}\n(log: ${logFile(settings, service.name)})`;
}

/** The pid in a process's pid file, if that process is alive and still runs its main (not a reused pid). */
function ownPid(settings: StackSettings, service: StackProcess): number | null {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile(settings, service.name), 'utf8').trim());
  } catch {
    return null;
  }
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return null;
  try {
    return execFileSync('ps', ['-p', String(pid), '-o', 'args='], { encoding: 'utf8' }).includes(service.main) ? pid : null;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function stopProcesses(settings: StackSettings, processes: StackProcess[], out: Output): Promise<void> {
  const stopping = processes.flatMap((service) => {
    const pid = ownPid(settings, service);
    rmSync(pidFile(settings, service.name), { force: true });
    if (pid === null) return [];
    process.kill(pid, 'SIGTERM');
    return [{ service, pid }];
  });
  await Promise.all(
    stopping.map(async ({ service, pid }) => {
      const deadline = Date.now() + STOP_TIMEOUT_MS;
      while (alive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      if (alive(pid)) {
        process.kill(pid, 'SIGKILL');
        out(`${service.name}: killed (pid ${pid}) after ${STOP_TIMEOUT_MS / 1000} s`);
      } else {
        out(`${service.name}: stopped (pid ${pid})`);
      }
    }),
  );
  if (stopping.length === 0) out('stack: nothing running');
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
