import { eventually } from '@tandem/testing';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { DEMO_HUBSPOT } from './demo-sync.config';

const ROOT = resolve(__dirname, '../../..');
const MAIN = join(ROOT, 'apps', 'tandem', 'src', 'main.ts');
const SYNC_TIMEOUT_MS = 30_000;

interface Started {
  child: ChildProcess;
  urls: Record<string, string>;
  output: () => string;
  exited: Promise<number | null>;
}

/** `npm start`'s command, on no servers: every part embedded, free ports, no live scenario. */
function environment(dataDir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const inherited = { ...process.env };
  for (const server of ['KAFKA_BROKERS', 'DATABASE_URL', 'REDIS_URL']) delete inherited[server];
  return { ...inherited, TANDEM_DATA_DIR: dataDir, DEMO_SCENARIO: 'false', HTTP_PORT: '0', DEMO_CRM_PORT: '0', DEMO_HUBSPOT_PORT: '0', ...extra };
}

function run(env: NodeJS.ProcessEnv): Omit<Started, 'urls'> {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', MAIN], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolveExit) => child.on('exit', (code) => resolveExit(code)));
  return { child, output: () => output, exited };
}

async function start(dataDir: string): Promise<Started> {
  const started = run(environment(dataDir));
  const line = await eventually(
    () => {
      if (started.child.exitCode !== null) throw new Error(`exited with ${started.child.exitCode}:\n${started.output()}`);
      const ready = started.output().split('\n').find((candidate) => candidate.startsWith('ready: '));
      if (!ready) throw new Error(`no ready line yet:\n${started.output()}`);
      return ready;
    },
    { timeoutMs: 90_000, intervalMs: 200 },
  );
  const urls = Object.fromEntries(line.slice('ready: '.length).split(' ').map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]));
  return { ...started, urls };
}

interface HubSpotContact {
  id: string;
  properties: Record<string, string | null>;
}

async function hubspotCall<T>(base: string, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${base}/crm/v3/objects/contacts${path}`, {
    method,
    headers: { Authorization: `Bearer ${DEMO_HUBSPOT.accessToken}`, 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/** Every HubSpot contact with this email (there must be exactly one). */
async function hubspotByEmail(base: string, email: string): Promise<HubSpotContact[]> {
  const found: HubSpotContact[] = [];
  let after: string | undefined;
  do {
    const page = await hubspotCall<{ results: HubSpotContact[]; paging?: { next: { after: string } } }>(
      base,
      'GET',
      `?limit=100&properties=email,firstname,lastname,phone${after ? `&after=${after}` : ''}`,
    );
    found.push(...page.results.filter((contact) => contact.properties['email'] === email));
    after = page.paging?.next.after;
  } while (after);
  return found;
}

async function crmByEmail(url: string, email: string): Promise<Array<{ full_name: string; phone: string | null }>> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ full_name: string; phone: string | null }>('SELECT full_name, phone FROM contacts WHERE email = $1', [email])).rows;
  } finally {
    await client.end();
  }
}

async function crmWrite(url: string, sql: string, params: unknown[]): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql, params);
  } finally {
    await client.end();
  }
}

describe('npm start: every service in one process on embedded infrastructure', () => {
  const dataDirs: string[] = [];
  const children: ChildProcess[] = [];

  afterAll(() => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
  });

  const freshDataDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'tandem-start-'));
    dataDirs.push(dir);
    return dir;
  };

  it('syncs the demo CRM and HubSpot both ways, and loses nothing across a graceful stop and a kill', async () => {
    const dataDir = freshDataDir();
    const email = 'ada.byron@example.com';

    let tandem = await start(dataDir);
    children.push(tandem.child);
    await crmWrite(tandem.urls['crm']!, 'INSERT INTO contacts (full_name, email, phone) VALUES ($1, $2, $3)', ['Ada Byron', email, '+44 20 7946 0001']);
    await eventually(async () => expect(await hubspotByEmail(tandem.urls['hubspot']!, email)).toMatchObject([{ properties: { firstname: 'Ada', lastname: 'Byron', phone: '+44 20 7946 0001' } }]), {
      timeoutMs: SYNC_TIMEOUT_MS,
    });
    const [inHubSpot] = await hubspotByEmail(tandem.urls['hubspot']!, email);
    await hubspotCall(tandem.urls['hubspot']!, 'PATCH', `/${inHubSpot!.id}`, { properties: { lastname: 'Lovelace' } });
    await eventually(async () => expect(await crmByEmail(tandem.urls['crm']!, email)).toEqual([{ full_name: 'Ada Lovelace', phone: '+44 20 7946 0001' }]), { timeoutMs: SYNC_TIMEOUT_MS });

    // A graceful stop, and a restart on the same directory: no seeding again, nothing lost.
    tandem.child.kill('SIGTERM');
    expect(await tandem.exited).toBe(0);
    tandem = await start(dataDir);
    children.push(tandem.child);
    expect(tandem.output()).not.toContain('seeded');
    expect(await crmByEmail(tandem.urls['crm']!, email)).toEqual([{ full_name: 'Ada Lovelace', phone: '+44 20 7946 0001' }]);
    expect(await hubspotByEmail(tandem.urls['hubspot']!, email)).toMatchObject([{ id: inHubSpot!.id, properties: { lastname: 'Lovelace' } }]);
    await crmWrite(tandem.urls['crm']!, 'UPDATE contacts SET phone = $1 WHERE email = $2', ['+44 20 7946 0002', email]);
    await eventually(async () => expect(await hubspotByEmail(tandem.urls['hubspot']!, email)).toMatchObject([{ properties: { phone: '+44 20 7946 0002' } }]), { timeoutMs: SYNC_TIMEOUT_MS });
    // The simulated account is saved shortly after each change; the kill must not land before that.
    const saved = join(dataDir, 'demo-hubspot', 'contacts.json');
    await eventually(() => expect(readFileSync(saved, 'utf8')).toContain('+44 20 7946 0002'), { timeoutMs: 5_000 });

    // A crash: nothing is shut down, and the restart resumes from what was durable.
    tandem.child.kill('SIGKILL');
    await tandem.exited;
    tandem = await start(dataDir);
    children.push(tandem.child);
    expect(await crmByEmail(tandem.urls['crm']!, email)).toEqual([{ full_name: 'Ada Lovelace', phone: '+44 20 7946 0002' }]);
    expect(await hubspotByEmail(tandem.urls['hubspot']!, email)).toMatchObject([{ id: inHubSpot!.id, properties: { phone: '+44 20 7946 0002' } }]);
    await hubspotCall(tandem.urls['hubspot']!, 'PATCH', `/${inHubSpot!.id}`, { properties: { firstname: 'Augusta Ada' } });
    await eventually(async () => expect(await crmByEmail(tandem.urls['crm']!, email)).toEqual([{ full_name: 'Augusta Ada Lovelace', phone: '+44 20 7946 0002' }]), {
      timeoutMs: SYNC_TIMEOUT_MS,
    });
    expect(await hubspotByEmail(tandem.urls['hubspot']!, email)).toHaveLength(1);

    tandem.child.kill('SIGTERM');
    expect(await tandem.exited).toBe(0);
  }, 300_000);

  it('refuses a bad setting with exit code 2, naming the variable and what is allowed', async () => {
    const started = run(environment(freshDataDir(), { TOPIC_PARTITIONS: 'abc', DEMO_SCENARIO: 'maybe' }));
    children.push(started.child);
    expect(await started.exited).toBe(2);
    expect(started.output()).toContain('TOPIC_PARTITIONS: must be a whole number from 1 to 1000 (got "abc")');
    expect(started.output()).toContain('DEMO_SCENARIO: must be true or false (got "maybe")');
    expect(started.output()).not.toContain('ready:');
  }, 60_000);
});
