import { escapeHtml, niceStep, reportPage } from '@tandem/report-page';

/** One phase-2 update batch: when the CRM committed it and how long each of its rows took to arrive. */
export interface LatencyTick {
  committedMs: number;
  latenciesMs: number[];
}

export interface BenchRun {
  result: Record<string, number>;
  throughput: { startedMs: number; writtenMs: number; arrivalsMs: number[] };
  latency: { startedMs: number; ratePerS: number; ticks: LatencyTick[]; p99Ms: number; targetMs: number };
  /** The CPU seconds each phase cost each process. */
  cpuSeconds: { inserts: ReadonlyArray<[string, number]>; updates: ReadonlyArray<[string, number]> };
  rssMb: ReadonlyArray<[string, number]>;
  rssLimitMb: number;
}

const LABEL_WIDTH = 150;
const PLOT_WIDTH = 800;
const PLOT_HEIGHT = 160;
const BAR_HEIGHT = 16;
const MUTED = '#4a5568';

/**
 * A benchmark run as one page: arrivals per second while the CRM is written as fast as it takes
 * (where the pipeline falls behind and catches up), each update's latency by when it was committed
 * (queueing shows as a slope), and what each process cost and held.
 */
export function renderBenchPage(run: BenchRun): string {
  const { result } = run;
  const changes = result['changes'] ?? 0;
  const updates = run.latency.ticks.reduce((sum, tick) => sum + tick.latenciesMs.length, 0);
  return reportPage(
    'Tandem pipeline benchmark',
    `<p><code>${escapeHtml(JSON.stringify(result))}</code></p>
<h2>Phase 1: ${changes} inserts, arrivals in the customer database per second</h2>
${throughputPlot(run.throughput)}
<h2>Phase 2: ${run.latency.ratePerS} updates/s, commit-to-commit latency by commit time</h2>
${latencyPlot(run.latency)}
${cpuSection('phase 1', run.cpuSeconds.inserts, changes, 'insert')}
${cpuSection('phase 2', run.cpuSeconds.updates, updates, 'update')}
<h2>Peak resident memory per service</h2>
${barChart(run.rssMb, (mb) => `${mb} MB`, { value: run.rssLimitMb, label: `${run.rssLimitMb} MB limit` })}`,
  );
}

function cpuSection(phase: string, used: ReadonlyArray<[string, number]>, count: number, unit: string): string {
  const total = used.reduce((sum, [, seconds]) => sum + seconds, 0);
  return `<h2>CPU seconds in ${phase} (${total.toFixed(1)} in all, ${count > 0 ? Math.round((total / count) * 1e6) : 0} µs per ${unit})</h2>
${barChart(used, (seconds) => `${seconds.toFixed(1)} s`, null)}`;
}

function throughputPlot({ startedMs, writtenMs, arrivalsMs }: BenchRun['throughput']): string {
  const perSecond = new Map<number, number>();
  for (const at of arrivalsMs) {
    const second = Math.floor((at - startedMs) / 1000);
    perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
  }
  const seconds = Math.max(1, ...[...perSecond.keys()].map((second) => second + 1), Math.ceil((writtenMs - startedMs) / 1000));
  const peak = Math.max(1, ...perSecond.values());
  const x = (second: number) => LABEL_WIDTH + (second / seconds) * PLOT_WIDTH;
  const y = (count: number) => PLOT_HEIGHT - (count / peak) * PLOT_HEIGHT;
  const parts: string[] = [];
  for (const [second, count] of perSecond) {
    parts.push(`<rect x="${x(second).toFixed(1)}" y="${y(count).toFixed(1)}" width="${Math.max(1, PLOT_WIDTH / seconds - 1).toFixed(1)}" height="${(PLOT_HEIGHT - y(count)).toFixed(1)}" fill="#2f855a"><title>${count} arrived in second ${second}</title></rect>`);
  }
  const written = x((writtenMs - startedMs) / 1000);
  parts.push(`<line x1="${written.toFixed(1)}" x2="${written.toFixed(1)}" y1="0" y2="${PLOT_HEIGHT}" stroke="#718096" stroke-dasharray="4 3"/>`);
  parts.push(`<text x="${(written + 3).toFixed(1)}" y="12" fill="${MUTED}">CRM writes done</text>`);
  parts.push(...valueAxis(peak, y, (count) => `${count}/s`));
  parts.push(...timeAxis(seconds, x));
  return svg(parts, PLOT_HEIGHT + 30, 'arrivals per second during phase 1');
}

function latencyPlot({ startedMs, ticks, p99Ms, targetMs }: BenchRun['latency']): string {
  const lastCommit = Math.max(1, ...ticks.map((tick) => (tick.committedMs - startedMs) / 1000));
  const top = Math.max(targetMs, ...ticks.flatMap((tick) => tick.latenciesMs)) * 1.05;
  const x = (second: number) => LABEL_WIDTH + (second / lastCommit) * PLOT_WIDTH;
  const y = (ms: number) => PLOT_HEIGHT - (ms / top) * PLOT_HEIGHT;
  const parts: string[] = [];
  for (const tick of ticks) {
    if (tick.latenciesMs.length === 0) continue;
    const sorted = [...tick.latenciesMs].sort((a, b) => a - b);
    const at = x((tick.committedMs - startedMs) / 1000).toFixed(1);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    parts.push(`<line x1="${at}" x2="${at}" y1="${y(sorted[0]!).toFixed(1)}" y2="${y(sorted[sorted.length - 1]!).toFixed(1)}" stroke="#90cdf4"/>`);
    parts.push(`<circle cx="${at}" cy="${y(median).toFixed(1)}" r="1.8" fill="#2b6cb0"><title>median ${median} ms of ${sorted.length}</title></circle>`);
  }
  for (const [ms, label, colour] of [[p99Ms, `p99 ${p99Ms} ms`, '#c53030'], [targetMs, `target ${targetMs} ms`, '#2f855a']] as const) {
    parts.push(`<line x1="${LABEL_WIDTH}" x2="${LABEL_WIDTH + PLOT_WIDTH}" y1="${y(ms).toFixed(1)}" y2="${y(ms).toFixed(1)}" stroke="${colour}" stroke-dasharray="4 3"/>`);
    parts.push(`<text x="${LABEL_WIDTH + PLOT_WIDTH + 4}" y="${(y(ms) + 4).toFixed(1)}" fill="${colour}">${label}</text>`);
  }
  parts.push(...valueAxis(top, y, (ms) => `${ms} ms`));
  parts.push(...timeAxis(lastCommit, x));
  return svg(parts, PLOT_HEIGHT + 30, 'latency of each update by its commit time');
}

function barChart(values: ReadonlyArray<[string, number]>, format: (value: number) => string, limit: { value: number; label: string } | null): string {
  const widest = Math.max(1, limit?.value ?? 0, ...values.map(([, value]) => value));
  const width = (value: number) => (value / widest) * PLOT_WIDTH;
  const parts = values.flatMap(([name, value], index) => {
    const top = index * (BAR_HEIGHT + 4);
    return [
      `<text x="0" y="${top + 12}">${escapeHtml(name)}</text>`,
      `<rect x="${LABEL_WIDTH}" y="${top}" width="${width(value).toFixed(1)}" height="${BAR_HEIGHT}" fill="#4c51bf"/>`,
      `<text x="${(LABEL_WIDTH + width(value) + 4).toFixed(1)}" y="${top + 12}" fill="${MUTED}">${escapeHtml(format(value))}</text>`,
    ];
  });
  const height = values.length * (BAR_HEIGHT + 4);
  if (limit !== null) {
    const at = (LABEL_WIDTH + width(limit.value)).toFixed(1);
    parts.push(`<line x1="${at}" x2="${at}" y1="0" y2="${height}" stroke="#c53030" stroke-dasharray="4 3"/>`);
    parts.push(`<text x="${at}" y="${height + 12}" text-anchor="middle" fill="#c53030">${escapeHtml(limit.label)}</text>`);
  }
  return svg(parts, height + 20, 'one bar per process');
}

function valueAxis(top: number, y: (value: number) => number, label: (value: number) => string): string[] {
  const step = niceStep(top);
  const parts: string[] = [];
  for (let value = 0; value <= top; value += step) {
    parts.push(`<text x="${LABEL_WIDTH - 6}" y="${(y(value) + 4).toFixed(1)}" text-anchor="end" fill="${MUTED}">${label(Math.round(value))}</text>`);
  }
  return parts;
}

function timeAxis(seconds: number, x: (second: number) => number): string[] {
  const step = niceStep(seconds);
  const parts: string[] = [];
  for (let second = 0; second <= seconds; second += step) {
    parts.push(`<text x="${x(second).toFixed(1)}" y="${PLOT_HEIGHT + 16}" text-anchor="middle" fill="${MUTED}">${Math.round(second * 10) / 10} s</text>`);
  }
  return parts;
}

/** Room above a plot for its topmost axis label. */
const TOP_MARGIN = 10;

function svg(parts: string[], height: number, label: string): string {
  return `<svg width="${LABEL_WIDTH + PLOT_WIDTH + 110}" height="${height + TOP_MARGIN}" role="img" aria-label="${escapeHtml(label)}"><g transform="translate(0 ${TOP_MARGIN})">${parts.join('')}</g></svg>`;
}
