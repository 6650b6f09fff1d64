import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

describe('npm start settings', () => {
  it("never prepares statements on the process's databases, whatever the environment says", () => {
    // Each is one PGlite session behind every connection (see the wire server's tests). In a child
    // process: the settings load the services' modules, and NestJS is an ES module the test runner cannot load.
    const script = `
      const { applierConfig, parseTandemConfig } = require('./apps/tandem/src/tandem-env.schema');
      const config = parseTandemConfig({ SYSTEM_DATABASE_PREPARED_STATEMENTS: 'true' });
      process.stdout.write(JSON.stringify(applierConfig(config, { SYSTEM_ID: 'crm', SYSTEM_DATABASE_URL: 'postgres://127.0.0.1:5433/postgres' }, 8083)));`;
    const output = execFileSync(process.execPath, ['-r', '@swc-node/register', '-e', script], { cwd: resolve(__dirname, '../../..'), encoding: 'utf8' });
    expect(JSON.parse(output)).toMatchObject({ SYSTEM_ID: 'crm', SYSTEM_DATABASE_PREPARED_STATEMENTS: false });
  }, 30_000);
});
