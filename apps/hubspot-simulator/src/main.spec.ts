import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { eventually, freePort } from '@tandem/testing';

const ROOT = resolve(__dirname, '../../..');
const MAIN = join(ROOT, 'apps', 'hubspot-simulator', 'src', 'main.ts');


function run(env: Record<string, string>) {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', MAIN], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolveExit) => child.on('exit', (code) => resolveExit(code)));
  return { child, exited, output: () => output };
}

describe('hubspot-simulator main', () => {
  it('exits 2 naming every bad variable', async () => {
    const process = run({ PORT: '0' });
    expect(await process.exited).toBe(2);
    expect(process.output()).toContain('hubspot-simulator: invalid configuration');
    for (const variable of ['PORT', 'ACCESS_TOKEN', 'CLIENT_SECRET']) expect(process.output()).toContain(`${variable}:`);
  }, 30_000);

  it('serves until SIGTERM, then stops gracefully', async () => {
    const [port, healthPort] = [await freePort(), await freePort()];
    const process = run({ HOST: '127.0.0.1', PORT: String(port), HEALTH_PORT: String(healthPort), ACCESS_TOKEN: 't', CLIENT_SECRET: 's' });
    try {
      await eventually(async () => expect((await fetch(`http://127.0.0.1:${healthPort}/health/ready`)).status).toBe(200), { timeoutMs: 20_000, intervalMs: 200 });
      expect((await fetch(`http://127.0.0.1:${port}/crm/v3/objects/contacts`, { headers: { Authorization: 'Bearer t' } })).status).toBe(200);
      process.child.kill('SIGTERM');
      expect(await process.exited).toBe(0);
      expect(process.output()).toContain('HubSpot simulator stopped');
    } finally {
      process.child.kill('SIGKILL');
    }
  }, 30_000);
});
