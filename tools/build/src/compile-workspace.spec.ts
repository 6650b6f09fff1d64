import { eventually, freePort, uniqueSuffix } from '@tandem/testing';
import { execFile, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { compileWorkspace } from './compile-workspace.util';

const ROOT = resolve(__dirname, '../../..');
// Inside the repository, so the compiled files find node_modules as they do in the image.
const OUT = join(ROOT, '.tandem', `build-test-${uniqueSuffix()}`, 'dist');
const run = promisify(execFile);


describe('compileWorkspace (what the images run)', () => {
  beforeAll(() => compileWorkspace(ROOT, OUT), 60_000);
  afterAll(() => rmSync(join(OUT, '..'), { recursive: true, force: true }));

  it.each(['reconciler', 'connector', 'applier', 'cli'])('%s: the compiled entry point loads every module and checks its environment', async (app) => {
    const args = app === 'cli' ? ['sync', 'list'] : [];
    const failure = await run(process.execPath, [join(OUT, 'apps', app, 'src', 'main.js'), ...args], { cwd: join(OUT, '..'), env: { PATH: process.env['PATH'] ?? '' } }).then(
      () => null,
      (error: { code?: number; stderr?: string }) => error,
    );
    expect(failure?.code).toBe(2);
    expect(failure?.stderr).toMatch(/invalid configuration:\n {2}- (KAFKA_BROKERS|DATABASE_URL):/);
  }, 30_000);

  it('hubspot-simulator: the compiled app serves and stops on SIGTERM', async () => {
    const [port, healthPort] = [await freePort(), await freePort()];
    const child = spawn(process.execPath, [join(OUT, 'apps', 'hubspot-simulator', 'src', 'main.js')], {
      cwd: join(OUT, '..'),
      env: { PATH: process.env['PATH'] ?? '', HOST: '127.0.0.1', PORT: String(port), HEALTH_PORT: String(healthPort), ACCESS_TOKEN: 't', CLIENT_SECRET: 's' },
      stdio: 'ignore',
    });
    const exited = new Promise<number | null>((resolveExit) => child.on('exit', resolveExit));
    try {
      await eventually(async () => expect((await fetch(`http://127.0.0.1:${healthPort}/health/ready`)).status).toBe(200), { timeoutMs: 15_000, intervalMs: 200 });
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  }, 30_000);
});
