import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { CpuMeter, type MeteredProcess } from './cpu-meter.util';

/** A process that uses `ms` of CPU, says so, and exits when its input closes. */
async function burner(ms: number): Promise<{ pid: number; exit: () => Promise<void> }> {
  const script = `while ((process.cpuUsage().user + process.cpuUsage().system) / 1000 < ${ms}); process.stdout.write('burned'); process.stdin.resume(); process.stdin.on('end', () => process.exit(0));`;
  const child = spawn(process.execPath, ['-e', script]);
  await once(child.stdout, 'data');
  const exited = once(child, 'exit');
  return { pid: child.pid!, exit: async () => void (child.stdin.end(), await exited) };
}

describe('CpuMeter', () => {
  it('keeps the CPU of a process that exits during the phase, as last sampled', async () => {
    const running: MeteredProcess[] = [];
    const meter = new CpuMeter(['reconciler', 'pg:tandem'], async () => running);
    await meter.start();
    const backend = await burner(300);
    running.push({ group: 'pg:tandem', pid: backend.pid });
    await meter.sample();
    await backend.exit();

    const used = await meter.used();

    expect(used.map(([group]) => group)).toEqual(['reconciler', 'pg:tandem']);
    expect(used[0]![1]).toBe(0);
    // The 300 ms it burned, though it is gone when the phase ends (read only at the phase's ends, it
    // would count 0). /proc counts in 10 ms ticks, apart from the process's own clock.
    expect(used[1]![1]).toBeGreaterThanOrEqual(0.25);
  });

  it('counts only what a process used after the start', async () => {
    const service = await burner(300);
    const meter = new CpuMeter(['kafka'], async () => [{ group: 'kafka', pid: service.pid }]);
    await meter.start();

    const used = await meter.used();
    await service.exit();

    expect(used[0]![1]).toBeLessThan(0.1);
  });
});
