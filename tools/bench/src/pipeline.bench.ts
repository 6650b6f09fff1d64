import { createCrmCustomerDatabases, inFlight, KafkaReader, startCrmCustomerStack, type CrmCustomerDatabases, type ServiceStack } from '@tandem/local-stack';
import { eventually, TEST_KAFKA_BROKERS } from '@tandem/testing';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Client } from 'pg';
import { renderBenchPage, type LatencyTick } from './bench-page.util';
import { CpuMeter, type MeteredProcess } from './cpu-meter.util';

/**
 * Two PostgreSQL databases kept in sync by the services as separate processes on the real broker.
 * A warm-up syncs contacts first, unmeasured, so that the figures are of services (and a broker)
 * whose compilers have warmed up, as in a long-running deployment. Phase 1 measures sustained
 * throughput (inserts as fast as the CRM takes them); phase 2 measures commit-to-commit latency at
 * half the target rate. Each phase starts once the one before has nothing left in flight, so
 * neither is charged with the other's apply results and echoes. Lost and duplicated are counted by
 * reading both databases. Progress goes to stderr; the last line on stdout is the result.
 */
const WARMUP_CHANGES = Number(process.env['BENCH_WARMUP'] ?? 5_000);
const THROUGHPUT_CHANGES = Number(process.env['BENCH_CHANGES'] ?? 30_000);
const LATENCY_RATE_PER_S = Number(process.env['BENCH_LATENCY_RATE'] ?? 2_500);
const LATENCY_SECONDS = Number(process.env['BENCH_LATENCY_SECONDS'] ?? 10);
const TICK_MS = 100;
const UPDATES_PER_TICK = Math.round((LATENCY_RATE_PER_S * TICK_MS) / 1000);
const TICKS = Math.round((LATENCY_SECONDS * 1000) / TICK_MS);
const ROOT = resolve(__dirname, '../../..');
/** The targets the page draws the run against. */
const LATENCY_TARGET_MS = 1_000;
const RSS_LIMIT_MB = 300;
const PAGE = join(ROOT, '.tandem', 'bench', 'pipeline.html');

const say = (message: string) => process.stderr.write(`bench: ${message}\n`);

/** Every write the applier makes in the customer database, stamped inside its transaction. */
const ARRIVALS = `
  CREATE UNLOGGED TABLE arrivals (email text, phone text, at timestamptz NOT NULL DEFAULT clock_timestamp());
  CREATE FUNCTION log_arrival() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN INSERT INTO arrivals (email, phone) VALUES (NEW.email_address, NEW.phone); RETURN NULL; END $$;
  CREATE TRIGGER log_arrival AFTER INSERT OR UPDATE ON contacts FOR EACH ROW EXECUTE FUNCTION log_arrival();`;

async function main(): Promise<void> {
  // Each update needs a contact of its own: one updated again before its last update arrived is
  // sent once, with its latest value, and the update it replaced never arrives to be timed.
  if (UPDATES_PER_TICK * TICKS > THROUGHPUT_CHANGES) {
    throw new Error(
      `BENCH_LATENCY_RATE × BENCH_LATENCY_SECONDS (${UPDATES_PER_TICK * TICKS} updates) exceeds BENCH_CHANGES (${THROUGHPUT_CHANGES}): phase 2 updates each of phase 1's contacts at most once`,
    );
  }
  const dbs = await createCrmCustomerDatabases('bench_');
  const { crm, customer } = dbs;
  await customer.query(ARRIVALS);
  say('starting reconciler, connectors and appliers');
  const stack = await startCrmCustomerStack(dbs, { env: { LOG_LEVEL: 'warn' } });
  const kafka = new KafkaReader(TEST_KAFKA_BROKERS);
  try {

    if (WARMUP_CHANGES > 0) {
      say(`warm-up: ${WARMUP_CHANGES} inserts, not measured`);
      const warmupStarted = Date.now();
      await insertContacts(crm, 'w', WARMUP_CHANGES);
      await waitForArrivals(customer, WARMUP_CHANGES, warmupStarted);
      await waitUntilIdle(stack, dbs, kafka);
      await customer.query('TRUNCATE arrivals');
      // A deployment that has run for a while has statistics of its tables (autovacuum keeps them);
      // tables filled seconds ago have none, and without them the planner reads whole tables.
      await stack.db.query('ANALYZE');
      for (const db of [crm, customer]) await db.query('ANALYZE');
      say('  databases analyzed, as autovacuum keeps a running deployment\'s statistics');
    }

    say(`phase 1: ${THROUGHPUT_CHANGES} inserts as fast as the CRM takes them`);
    const cpu = new CpuMeter(
      [...stack.services().map((service) => serviceName(stack, service)), ...databaseGroups(dbs).values(), 'kafka'],
      () => meteredProcesses(stack, dbs),
    );
    await cpu.start();
    const started = Date.now();
    await insertContacts(crm, 'p', THROUGHPUT_CHANGES);
    const writtenMs = Date.now();
    say(`  written to the CRM in ${((writtenMs - started) / 1000).toFixed(1)} s; waiting for the customer database`);
    const lastArrival = await waitForArrivals(customer, THROUGHPUT_CHANGES, started, cpu);
    const seconds = (lastArrival - started) / 1000;
    say(`  ${THROUGHPUT_CHANGES} changes in ${seconds.toFixed(2)} s`);
    const cpuUsed = await cpu.used();
    say(`  CPU-s in phase 1: ${describeCpu(cpuUsed)}`);
    await waitUntilIdle(stack, dbs, kafka);

    say(`phase 2: ${LATENCY_RATE_PER_S} updates/s for ${LATENCY_SECONDS} s`);
    const committedAt = new Map<string, number>();
    await cpu.start();
    const phaseStart = Date.now();
    for (let tick = 0; tick < TICKS; tick += 1) {
      // Phase 1's contacts, which follow the warm-up's ids.
      const first = WARMUP_CHANGES + tick * UPDATES_PER_TICK + 1;
      const token = `t${tick}`;
      await crm.query(`UPDATE contacts SET phone = $1 WHERE id BETWEEN $2 AND $3`, [token, first, first + UPDATES_PER_TICK - 1]);
      committedAt.set(token, Date.now());
      const wait = phaseStart + (tick + 1) * TICK_MS - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      if (tick % 20 === 19) say(`  ${(tick + 1) * UPDATES_PER_TICK} updates written`);
      if (tick % 5 === 4) await cpu.sample();
    }
    const latencyChanges = TICKS * UPDATES_PER_TICK;
    await waitForArrivals(customer, THROUGHPUT_CHANGES + latencyChanges, phaseStart, cpu);
    const phase2Cpu = await cpu.used();
    say(`  CPU-s in phase 2: ${describeCpu(phase2Cpu)}`);
    const { rows: arrivals } = await customer.query<{ phone: string; at: Date }>(`SELECT phone, at FROM arrivals`);
    const ticksByToken = new Map([...committedAt].map(([token, at]): [string, LatencyTick] => [token, { committedMs: at, latenciesMs: [] }]));
    for (const row of arrivals) {
      const tick = ticksByToken.get(row.phone);
      tick?.latenciesMs.push(row.at.getTime() - tick.committedMs);
    }
    const latencies = [...ticksByToken.values()].flatMap((tick) => tick.latenciesMs).sort((a, b) => a - b);

    for (const service of stack.services()) {
      const details = ((await service.health())['details'] ?? {}) as Record<string, { timings?: Record<string, { count: number; totalMs: number; maxMs: number }> }>;
      for (const detail of Object.values(details)) {
        const stages = Object.entries(detail.timings ?? {}).map(([stage, t]) => `${stage} ${t.totalMs} ms/${t.count} (max ${t.maxMs})`);
        if (stages.length > 0) say(`  ${serviceName(stack, service)}: ${stages.join(', ')}`);
      }
    }
    say('checking both databases');
    const { lost, duplicated } = await compare(crm, customer);
    const rssMb = stack.services().map((service): [string, number] => [serviceName(stack, service), peakRssMb(service.pid)]);
    const result = {
      changes: THROUGHPUT_CHANGES,
      seconds: round(seconds),
      throughput_per_s: Math.round(THROUGHPUT_CHANGES / seconds),
      p50_ms: percentile(latencies, 0.5),
      p99_ms: percentile(latencies, 0.99),
      max_rss_mb: Math.max(...rssMb.map(([, mb]) => mb)),
      lost,
      duplicated,
    };
    say(`latency measured over ${latencies.length} updates at ${LATENCY_RATE_PER_S}/s; peak RSS per service: ${rssMb.map(([name, mb]) => `${name} ${mb} MB`).join(', ')}`);
    mkdirSync(dirname(PAGE), { recursive: true });
    writeFileSync(
      PAGE,
      renderBenchPage({
        result,
        throughput: { startedMs: started, writtenMs, arrivalsMs: arrivals.filter((row) => !ticksByToken.has(row.phone)).map((row) => row.at.getTime()) },
        latency: { startedMs: phaseStart, ratePerS: LATENCY_RATE_PER_S, ticks: [...ticksByToken.values()], p99Ms: result.p99_ms, targetMs: LATENCY_TARGET_MS },
        cpuSeconds: { inserts: cpuUsed, updates: phase2Cpu },
        rssMb,
        rssLimitMb: RSS_LIMIT_MB,
      }),
    );
    say(`the run as a page: ${PAGE}`);
    console.log(JSON.stringify(result));
  } finally {
    await kafka.close();
    await stack.stop();
    await dbs.close();
  }
}

/** Inserts contacts a thousand to a statement, with emails `<prefix><n>@example.com`. */
async function insertContacts(crm: Client, emailPrefix: string, total: number): Promise<void> {
  for (let done = 0; done < total; done += 1_000) {
    const count = Math.min(1_000, total - done);
    await crm.query(
      `INSERT INTO contacts (full_name, email, phone) SELECT 'Person ' || i, $3::text || i || '@example.com', '0' FROM generate_series($1::int, $2::int) AS i`,
      [done + 1, done + count, emailPrefix],
    );
  }
}

/** Resolves with the time of the arrival that made the count, polling the customer database (and sampling `cpu`). */
async function waitForArrivals(customer: Client, count: number, since: number, cpu?: CpuMeter): Promise<number> {
  let lastReport = 0;
  return eventually(
    async () => {
      await cpu?.sample();
      const { rows } = await customer.query<{ n: string; last: Date | null }>(`SELECT count(*) AS n, max(at) AS last FROM arrivals`);
      const arrived = Number(rows[0]!.n);
      if (Date.now() - lastReport > 2_000) {
        lastReport = Date.now();
        say(`  ${arrived} of ${count} arrived after ${((Date.now() - since) / 1000).toFixed(1)} s`);
      }
      if (arrived < count) throw new Error(`${arrived} of ${count} changes arrived`);
      return rows[0]!.last!.getTime();
    },
    { timeoutMs: 600_000, intervalMs: 200 },
  );
}

/** Waits until nothing is in flight on three polls in a row (a change can be between two reads of one poll). */
async function waitUntilIdle(stack: ServiceStack, dbs: CrmCustomerDatabases, kafka: KafkaReader): Promise<void> {
  const sources = [
    { name: 'crm', query: (text: string) => dbs.crm.query(text) },
    { name: 'customer', query: (text: string) => dbs.customer.query(text) },
  ];
  const started = Date.now();
  let idlePolls = 0;
  await eventually(
    async () => {
      const backlog = await inFlight(stack, kafka, sources);
      idlePolls = backlog.length === 0 ? idlePolls + 1 : 0;
      if (idlePolls < 3) throw new Error(`still in flight: ${backlog.join(', ') || 'nothing, on fewer than three polls'}`);
    },
    { timeoutMs: 600_000, intervalMs: 200 },
  );
  say(`  nothing in flight after ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** Reads both databases directly: every CRM contact must be in the customer database once, equal. */
async function compare(crm: Client, customer: Client): Promise<{ lost: number; duplicated: number }> {
  const { rows: source } = await crm.query<{ email: string; phone: string }>(`SELECT email, phone FROM contacts`);
  const { rows: target } = await customer.query<{ email_address: string; phone: string }>(`SELECT email_address, phone FROM contacts`);
  const byEmail = new Map<string, string[]>();
  for (const row of target) byEmail.set(row.email_address, [...(byEmail.get(row.email_address) ?? []), row.phone]);
  let lost = 0;
  let duplicated = 0;
  for (const row of source) {
    const copies = byEmail.get(row.email) ?? [];
    if (!copies.includes(row.phone)) lost += 1;
    duplicated += Math.max(0, copies.length - 1);
  }
  return { lost, duplicated };
}

function peakRssMb(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const match = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmHWM:\s+(\d+) kB/);
    return match ? Math.round(Number(match[1]) / 1024) : 0;
  } catch {
    return 0;
  }
}

/**
 * What the CPU meter counts: each service process, the PostgreSQL backends connected to each
 * database now, and the broker, so runs can be compared per change even when other work shares
 * the machine.
 */
async function meteredProcesses(stack: ServiceStack, dbs: CrmCustomerDatabases): Promise<MeteredProcess[]> {
  const processes = stack.services().flatMap((service) => (service.pid === undefined ? [] : [{ group: serviceName(stack, service), pid: service.pid }]));
  const databases = databaseGroups(dbs);
  const { rows } = await dbs.crm.query<{ pid: number; datname: string }>(`SELECT pid, datname FROM pg_stat_activity WHERE datname = ANY($1)`, [[...databases.keys()]]);
  for (const row of rows) processes.push({ group: databases.get(row.datname)!, pid: row.pid });
  const broker = kafkaPid();
  if (broker !== undefined) processes.push({ group: 'kafka', pid: broker });
  return processes;
}

/** Each database's name, and the group its backends count under. */
function databaseGroups(dbs: CrmCustomerDatabases): Map<string, string> {
  return new Map([[dbs.tandem.name, 'pg:tandem'], [dbs.crmDb.name, 'pg:crm'], [dbs.customerDb.name, 'pg:customer']]);
}

function serviceName(stack: ServiceStack, service: { name: string }): string {
  return service.name.replace(`${stack.prefix}-`, '');
}

function describeCpu(used: Array<[string, number]>): string {
  const total = used.reduce((sum, [, seconds]) => sum + seconds, 0);
  return `${used.map(([name, seconds]) => `${name} ${seconds.toFixed(1)}`).join(', ')} (total ${total.toFixed(1)})`;
}

/** The project's broker, when `npm run kafka:start` started it (it may serve other clients too). */
function kafkaPid(): number | undefined {
  try {
    return Number(readFileSync(join(ROOT, '.tandem', 'kafka', 'kafka.pid'), 'utf8').trim()) || undefined;
  } catch {
    return undefined;
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!);
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
