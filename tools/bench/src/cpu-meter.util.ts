import { readFileSync } from 'node:fs';

/** USER_HZ, the unit of CPU times in /proc on Linux. */
const CLOCK_TICKS_PER_S = 100;

/** A process counted under a group: a service, the PostgreSQL backends of a database, the broker. */
export interface MeteredProcess {
  group: string;
  pid: number;
}

interface Reading {
  group: string;
  seconds: number;
}

/**
 * CPU seconds per group of processes over a phase, sampled while it runs. A process that exits
 * midway (a pool closing an idle connection, whose backend goes with it) keeps what it was last
 * seen to use; readings at the phase's two ends alone would lose it, and a backend opened and
 * closed in between would never be seen. Processes are told apart by pid and start time, so a
 * reused pid is a new process.
 */
export class CpuMeter {
  private readonly readings = new Map<string, Reading>();
  private atStart = new Map<string, number>();

  /** `groups` fixes the order of the result; `processes` lists what runs now. */
  constructor(
    private readonly groups: readonly string[],
    private readonly processes: () => Promise<MeteredProcess[]>,
  ) {}

  async start(): Promise<void> {
    this.readings.clear();
    await this.sample();
    this.atStart = new Map([...this.readings].map(([key, { seconds }]) => [key, seconds]));
  }

  async sample(): Promise<void> {
    for (const { group, pid } of await this.processes()) {
      const usage = processCpu(pid);
      if (usage) this.readings.set(`${pid}:${usage.startTime}`, { group, seconds: usage.seconds });
    }
  }

  /** CPU seconds per group since `start`, in the order of `groups`. */
  async used(): Promise<Array<[string, number]>> {
    await this.sample();
    const totals = new Map(this.groups.map((group) => [group, 0]));
    for (const [key, { group, seconds }] of this.readings) {
      totals.set(group, (totals.get(group) ?? 0) + seconds - (this.atStart.get(key) ?? 0));
    }
    return [...totals];
  }
}

/** User and system CPU seconds of a process and its start time, from /proc; null once it is gone. */
function processCpu(pid: number): { seconds: number; startTime: string } | null {
  try {
    // Fields after the command name (which may hold spaces): utime, stime and starttime are the 12th, 13th and 20th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return { seconds: (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S, startTime: fields[19]! };
  } catch {
    return null;
  }
}
