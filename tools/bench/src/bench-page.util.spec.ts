import { renderBenchPage, type BenchRun } from './bench-page.util';

const T0 = 1_700_000_000_000;

function run(overrides: Partial<BenchRun> = {}): BenchRun {
  return {
    result: { changes: 30_000, seconds: 20, throughput_per_s: 1_500, p50_ms: 400, p99_ms: 900, max_rss_mb: 250, lost: 0, duplicated: 0 },
    throughput: { startedMs: T0, writtenMs: T0 + 1_500, arrivalsMs: [T0 + 100, T0 + 200, T0 + 1_500] },
    latency: { startedMs: T0, ratePerS: 2_500, ticks: [{ committedMs: T0 + 100, latenciesMs: [300, 500, 400] }, { committedMs: T0 + 200, latenciesMs: [] }], p99Ms: 900, targetMs: 1_000 },
    cpuSeconds: { inserts: [['reconciler', 1], ['pg:tandem', 2], ['kafka', 3]], updates: [['reconciler', 0.5], ['kafka', 0.4]] },
    rssMb: [['reconciler <main>', 250]],
    rssLimitMb: 300,
    ...overrides,
  };
}

const bars = (page: string) => [...page.matchAll(/<rect [^>]*height="([\d.]+)"[^>]*><title>(\d+) arrived in second (\d+)<\/title>/g)].map((match) => [Number(match[3]), Number(match[2]), Number(match[1])]);

describe('the benchmark page', () => {
  it('counts arrivals per second of phase 1, the busiest second at full height', () => {
    expect(bars(renderBenchPage(run()))).toEqual([
      [0, 2, 160],
      [1, 1, 80],
    ]);
  });

  it('marks each update batch by its median latency, and draws the p99 and the target', () => {
    const page = renderBenchPage(run());
    expect(page.match(/<title>median (\d+) ms of (\d+)<\/title>/g)).toEqual(['<title>median 400 ms of 3</title>']);
    expect(page).toContain('p99 900 ms');
    expect(page).toContain('target 1000 ms');
  });

  it('totals the CPU per insert and per update arrived, and shows the memory limit beside escaped service names', () => {
    const page = renderBenchPage(run());
    expect(page).toContain('CPU seconds in phase 1 (6.0 in all, 200 µs per insert)');
    expect(page).toContain('CPU seconds in phase 2 (0.9 in all, 300000 µs per update)');
    expect(page).toContain('reconciler &lt;main&gt;');
    expect(page).toContain('300 MB limit');
    expect(page).toContain('<code>{&quot;changes&quot;:30000,');
  });
});
