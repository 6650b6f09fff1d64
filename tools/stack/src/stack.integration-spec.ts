import { TEST_POSTGRES_URL, eventually, uniqueSuffix } from '@tandem/testing';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { SIMULATOR_ACCESS_TOKEN } from './stack-roster.util';
import { ROOT } from './stack.settings';

const run = promisify(execFile);
const suffix = uniqueSuffix();
const dir = join(ROOT, '.tandem', `stack-test-${suffix}`);
const portBase = 21_000 + Math.floor(Math.random() * 400) * 20;
// Everything the test stack makes is its own: directory, ports, databases, topics and tenant.
const env = {
  ...process.env,
  STACK_DIR: dir,
  STACK_PORT_BASE: String(portBase),
  STACK_DATABASE: `stack_test_${suffix}`,
  STACK_CRM_DATABASE: `stack_test_${suffix}_crm`,
  STACK_TOPIC_PREFIX: `stacktest${suffix}`,
  STACK_TENANT_ID: `stacktest${suffix}`,
};

async function npm(script: string): Promise<string> {
  const { stdout } = await run('npm', ['run', '--silent', script], { cwd: ROOT, env, timeout: 150_000 });
  return stdout;
}

async function kafkaAnswers(): Promise<boolean> {
  return run('bash', ['-c', 'REPO_ROOT="$PWD" && source scripts/kafka/common.sh && kafka_answers'], { cwd: ROOT }).then(
    () => true,
    () => false,
  );
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function admin<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

describe('npm run stack / stack:stop', () => {
  afterAll(async () => {
    // Whatever happened above, nothing of this stack is left running or stored.
    await npm('stack:stop').catch(() => undefined);
    await admin(async (client) => {
      for (const database of [env.STACK_DATABASE, env.STACK_CRM_DATABASE]) await client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    });
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs every service as its own ready process, syncs, and stops them all, leaving a Kafka it did not start', async () => {
    expect(await kafkaAnswers()).toBe(true);
    const started = await npm('stack');
    const names = ['hubspot-simulator', 'reconciler', 'connector-crm', 'applier-crm', 'connector-hubspot', 'applier-hubspot'];
    for (const name of names) expect(started).toMatch(new RegExp(`ready: ${name} +http://127\\.0\\.0\\.1:\\d+ +log ${join(dir, `${name}.log`)}`));
    expect(started).toContain('stack:stop leaves it running');
    const pids = names.map((name) => Number(readFileSync(join(dir, `${name}.pid`), 'utf8')));
    expect(pids.every(alive)).toBe(true);
    for (const [, url] of started.matchAll(/ready: (?:reconciler|connector-\w+|applier-\w+) +(\S+)/g)) {
      expect((await fetch(`${url}/health/ready`)).status).toBe(200);
    }

    // A CRM insert reaches the simulated HubSpot account through the whole pipeline.
    const crm = new Client({ connectionString: TEST_POSTGRES_URL.replace(/\/[^/]*$/, `/${env.STACK_CRM_DATABASE}`) });
    await crm.connect();
    try {
      await crm.query(`INSERT INTO contacts (full_name, email, phone) VALUES ('Ada Lovelace', 'ada@example.com', '555')`);
    } finally {
      await crm.end();
    }
    await eventually(
      async () => {
        const response = await fetch(`http://127.0.0.1:${portBase}/crm/v3/objects/contacts?properties=firstname,lastname,email,phone`, {
          headers: { Authorization: `Bearer ${SIMULATOR_ACCESS_TOKEN}` },
        });
        const { results } = (await response.json()) as { results: Array<{ properties: Record<string, string | null> }> };
        expect(results.map(({ properties: { firstname, lastname, email, phone } }) => ({ firstname, lastname, email, phone }))).toEqual([
          { firstname: 'Ada', lastname: 'Lovelace', email: 'ada@example.com', phone: '555' },
        ]);
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );

    const stopped = await npm('stack:stop');
    for (const name of names) expect(stopped).toMatch(new RegExp(`${name}: (stopped|killed)`));
    expect(pids.some(alive)).toBe(false);
    expect(readdirSync(dir).filter((file) => file.endsWith('.pid'))).toEqual([]);
    expect(existsSync(join(dir, 'reconciler.log'))).toBe(true);
    expect(await kafkaAnswers()).toBe(true);
  }, 180_000);
});
