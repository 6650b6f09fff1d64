import type { SqlClient } from '@tandem/state';

export interface SyncCounts {
  /** Writes that landed in a target system. */
  synced: number;
  resolved: number;
  pending: number;
}

/** Read from Tandem's own database, so the counts are what the services have durably done. */
export async function readSyncCounts(db: SqlClient): Promise<SyncCounts> {
  const { rows } = await db.query<{ synced: string; resolved: string; pending: string }>(
    `SELECT (SELECT count(*) FROM tandem_sync_log WHERE action = 'apply.applied') AS synced,
            (SELECT count(*) FROM tandem_conflicts WHERE status = 'resolved') AS resolved,
            (SELECT count(*) FROM tandem_conflicts WHERE status = 'pending') AS pending`,
  );
  const row = rows[0];
  return { synced: Number(row?.synced ?? 0), resolved: Number(row?.resolved ?? 0), pending: Number(row?.pending ?? 0) };
}

export interface TerminalOutput {
  write(text: string): unknown;
  isTTY?: boolean;
}

/**
 * The terminal: lines about what happens, and a live status line. On a terminal the status line is
 * redrawn in place; elsewhere (a pipe, a log) it is printed only when it changes.
 */
export class TerminalStatus {
  private status = '';
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly out: TerminalOutput) {}

  say(line: string): void {
    if (this.out.isTTY && this.status) this.out.write(`\r\x1b[2K${line}\n${this.status}`);
    else this.out.write(`${line}\n`);
  }

  /** Refreshes the counts every `intervalMs` until stopped. */
  watch(db: SqlClient, intervalMs: number, onError: (error: unknown) => void): void {
    const refresh = async () => {
      try {
        this.show(formatCounts(await readSyncCounts(db)));
      } catch (error) {
        onError(error);
      }
      if (this.timer) this.timer = setTimeout(() => void refresh(), intervalMs);
    };
    this.timer = setTimeout(() => void refresh(), 0);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.out.isTTY && this.status) this.out.write('\n');
  }

  private show(status: string): void {
    if (status === this.status) return;
    this.status = status;
    this.out.write(this.out.isTTY ? `\r\x1b[2K${status}` : `${status}\n`);
  }
}

export function formatCounts({ synced, resolved, pending }: SyncCounts): string {
  return `changes synced: ${synced} · conflicts resolved: ${resolved} · conflicts pending: ${pending}`;
}
