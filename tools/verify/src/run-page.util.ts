import { escapeHtml, niceStep, reportPage } from '@tandem/report-page';
import type { OpRecord } from './history-check.util';

/** One fault as it happened: which lane of the timeline it belongs to, and when it held. */
export interface FaultSpan {
  lane: string;
  label: string;
  startMs: number;
  endMs: number;
}

export interface RunPage {
  result: Record<string, unknown>;
  passed: boolean;
  startedMs: number;
  /** When the workload stopped, and when the system had settled. */
  workloadDoneMs: number;
  settledMs: number;
  faults: readonly FaultSpan[];
  ops: readonly Pick<OpRecord, 'system' | 'start'>[];
  /** What the checker found wrong, one line each. */
  findings: readonly string[];
}

const LANE_HEIGHT = 18;
const LABEL_WIDTH = 170;
const PLOT_WIDTH = 900;
const OPS_HEIGHT = 40;
const SYSTEM_COLOURS: Record<string, string> = { crm: '#2b6cb0', customer: '#2f855a', hubspot: '#c05621' };

/**
 * A run as one page: its faults on a timeline, each system's edits per second under it, when the
 * workload stopped and the system settled, the result line and what the checker found. Where a
 * failure happened among the faults is easier seen than read from the log.
 */
export function renderRunPage(run: RunPage): string {
  const endMs = Math.max(run.settledMs, run.workloadDoneMs, ...run.faults.map((fault) => fault.endMs));
  const spanMs = Math.max(1, endMs - run.startedMs);
  const x = (ms: number) => LABEL_WIDTH + ((ms - run.startedMs) / spanMs) * PLOT_WIDTH;
  const lanes = [...new Set(run.faults.map((fault) => fault.lane))].sort();
  const systems = [...new Set(run.ops.map((op) => op.system))].sort();
  const opsTop = lanes.length * LANE_HEIGHT + 10;
  const height = opsTop + systems.length * (OPS_HEIGHT + 8) + 30;
  const parts: string[] = [];

  lanes.forEach((lane, index) => {
    const y = index * LANE_HEIGHT;
    parts.push(`<text x="0" y="${y + 13}">${escapeHtml(lane)}</text>`);
    for (const fault of run.faults.filter((each) => each.lane === lane)) {
      const width = Math.max(2, x(fault.endMs) - x(fault.startMs));
      parts.push(`<rect x="${x(fault.startMs).toFixed(1)}" y="${y + 3}" width="${width.toFixed(1)}" height="${LANE_HEIGHT - 6}" fill="#c53030"><title>${escapeHtml(fault.label)}</title></rect>`);
    }
  });

  systems.forEach((system, index) => {
    const top = opsTop + index * (OPS_HEIGHT + 8);
    const perSecond = new Map<number, number>();
    for (const op of run.ops.filter((each) => each.system === system)) {
      const second = Math.floor((op.start - run.startedMs) / 1000);
      perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
    }
    const peak = Math.max(1, ...perSecond.values());
    parts.push(`<text x="0" y="${top + OPS_HEIGHT / 2 + 4}">edits in ${escapeHtml(system)} (peak ${peak}/s)</text>`);
    const barWidth = Math.max(1, (1000 / spanMs) * PLOT_WIDTH - 0.5);
    for (const [second, count] of perSecond) {
      const barHeight = (count / peak) * OPS_HEIGHT;
      const colour = SYSTEM_COLOURS[system] ?? '#4a5568';
      parts.push(`<rect x="${x(run.startedMs + second * 1000).toFixed(1)}" y="${(top + OPS_HEIGHT - barHeight).toFixed(1)}" width="${barWidth.toFixed(1)}" height="${barHeight.toFixed(1)}" fill="${colour}"><title>${count} at ${second} s</title></rect>`);
    }
  });

  const axisY = height - 12;
  for (const [ms, label] of [[run.workloadDoneMs, 'workload done'], [run.settledMs, 'settled']] as const) {
    parts.push(`<line x1="${x(ms).toFixed(1)}" x2="${x(ms).toFixed(1)}" y1="0" y2="${axisY - 10}" stroke="#718096" stroke-dasharray="4 3"/>`);
    parts.push(`<text x="${(x(ms) + 3).toFixed(1)}" y="${axisY - 12}" fill="#4a5568">${label}</text>`);
  }
  const step = niceStep(spanMs / 1000);
  for (let second = 0; second * 1000 <= spanMs; second += step) {
    parts.push(`<text x="${x(run.startedMs + second * 1000).toFixed(1)}" y="${axisY + 10}" text-anchor="middle" fill="#4a5568">${second} s</text>`);
  }

  const verdict = run.passed ? 'passed' : 'FAILED';
  const findings = run.findings.length === 0 ? '<p>The checker found nothing wrong.</p>' : `<ul>${run.findings.map((line) => `<li>${escapeHtml(line)}</li>`).join('')}</ul>`;
  return reportPage(
    `verify seed ${String(run.result['seed'])}: ${verdict}`,
    `<p><code>${escapeHtml(JSON.stringify(run.result))}</code></p>
<h2>Faults and edits over time</h2>
<svg width="${LABEL_WIDTH + PLOT_WIDTH + 20}" height="${height}" role="img" aria-label="faults and edits per second over the run">${parts.join('')}</svg>
<h2>What the checker found</h2>${findings}`,
  );
}
