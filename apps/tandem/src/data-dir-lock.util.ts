import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ShutdownStack } from './shutdown-stack.util';

export class DataDirInUseError extends Error {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(`another Tandem (pid ${pid}) runs on ${dataDir}; stop it first, or set TANDEM_DATA_DIR to another directory`);
    this.name = 'DataDirInUseError';
  }
}

/**
 * Two processes on one data directory would corrupt its embedded databases. A pid file claims it;
 * one left by a process that no longer runs (killed) is taken over.
 */
export function claimDataDir(dataDir: string, shutdown: ShutdownStack): void {
  const file = join(dataDir, 'tandem.pid');
  try {
    writeFileSync(file, String(process.pid), { flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const owner = Number(readFileSync(file, 'utf8'));
    if (Number.isInteger(owner) && owner !== process.pid && isRunning(owner)) throw new DataDirInUseError(dataDir, owner);
    writeFileSync(file, String(process.pid));
  }
  shutdown.push('data directory claim', async () => rmSync(file, { force: true }));
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
