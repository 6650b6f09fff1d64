import { createThreeWayWorld, KafkaReader, threeWayStack, threeWaySync, type ThreeWayWorld } from '@tandem/local-stack';
import { FieldMapper } from '@tandem/mapping';
import { TcpRelay, TEST_KAFKA_BROKERS, TEST_POSTGRES_URL, TEST_REDIS_URL, uniqueSuffix } from '@tandem/testing';
import { Redis } from 'ioredis';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Pool } from 'pg';
import { check } from './checker';
import { FaultInjector, planFaults } from './faults';
import { SeededRandom } from './seeded-random.util';
import { settle } from './settle.util';
import { renderRunPage } from './run-page.util';
import { parseVerifyOptions } from './verify-options.util';
import { Workload, type SystemId } from './workload';

/**
 * Randomized two-way editing of contacts in the CRM database, a customer database and HubSpot while
 * faults are injected, then an independent check of every system. Progress goes to stderr; the last
 * line on stdout is the result, and the exit code says whether every invariant held.
 */
const say = (message: string) => process.stderr.write(`verify: ${message}\n`);

async function main(): Promise<number> {
  const options = parseVerifyOptions(process.argv.slice(2), process.env);
  const { seed, profile } = options;
  say(`seed ${seed} (reproduce with --seed ${seed}), profile ${profile.name}${options.skipKafkaRestart ? ', Kafka restart skipped' : ''}`);
  const started = Date.now();
  const random = new SeededRandom(seed);
  const tenantId = `verify-${uniqueSuffix()}`;
  // A portal id of the run's own keeps its webhook dedupe keys and rate limits apart in Redis.
  const portalId = 100_000 + random.fork('portal').int(0, 899_999);

  const world = await createThreeWayWorld('verify_', {
    portalId,
    seed,
    rateLimit: { limit: 190, windowMs: 10_000 },
    webhooks: { duplicateRate: 0.1, reorder: true },
  });
  const postgres = new URL(TEST_POSTGRES_URL);
  const redisUrl = new URL(TEST_REDIS_URL);
  const customerRelay = await TcpRelay.start({ host: postgres.hostname, port: Number(postgres.port || 5432) });
  const redisRelay = await TcpRelay.start({ host: redisUrl.hostname, port: Number(redisUrl.port || 6379) });
  const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true });
  await redis.connect();
  const config = threeWaySync({
    tenantId,
    portalId,
    hubspot: { baseUrl: world.hubspot.url, tier: 'professional', pollIntervalMs: 3_000, searchLagMs: 2_000, archivedSweepIntervalMs: 10_000 },
    conflicts: { default: { strategy: 'latest_wins' }, deleteVsUpdate: 'update_wins' },
  });
  const mappers = Object.fromEntries(
    config.systems.map((system) => {
      const built = FieldMapper.fromConfig(system.mapping);
      if (!built.ok) throw new Error(`mapping of ${system.id}: ${built.errors.join('; ')}`);
      return [system.id, built.mapper];
    }),
  ) as Record<SystemId, FieldMapper>;
  const stack = await threeWayStack(world, config, {
    customerUrl: customerRelay.via(world.customerDb.url),
    env: { REDIS_URL: redisRelay.via(TEST_REDIS_URL), LOG_LEVEL: 'warn', LEASE_TTL_MS: '3000' },
  });
  const crm = new Pool({ connectionString: world.crmDb.url, max: profile.workers * 2 });
  const customer = new Pool({ connectionString: world.customerDb.url, max: profile.workers * 2 });
  const kafka = new KafkaReader(TEST_KAFKA_BROKERS);
  const injector = new FaultInjector({
    stack,
    hubspot: world.hubspot,
    customerRelay,
    redisRelay,
    redis,
    redisKeyPatterns: [
      `tandem:lease:connector:${tenantId}:*`,
      `tandem:lease-fence:connector:${tenantId}:*`,
      `tandem:dedupe:hubspot-webhook|${portalId}|*`,
      `tandem:rate:hubspot:${portalId}*`,
      `tandem:rate-block:hubspot:${portalId}*`,
    ],
    skipKafkaRestart: options.skipKafkaRestart,
    say,
  });
  const workload = new Workload({ crm, customer, hubspot: world.hubspot, mappers }, seed);
  let passed = false;
  try {
    await workload.seedContacts(profile.seedContactsPerSystem);
    say(`${workload.emails.length} contacts in the three systems; starting the reconciler, connectors and appliers (${tenantId}, topics ${stack.prefix}.*)`);
    await stack.start();
    injector.startWatchdog();
    say(`services ready after ${seconds(started)} s; ${profile.operations} operations with faults`);

    const seeded = workload.ops.length;
    const chains = planFaults(random.fork('faults'), stack, profile.faultRounds, options.skipKafkaRestart);
    let faultsDone = false;
    const faultRun = Promise.all(chains.map((chain) => injector.runChain(chain, () => false))).finally(() => (faultsDone = true));
    const ops = () => workload.ops.length - seeded;
    let lastReport = Date.now();
    await Promise.all(
      Array.from({ length: profile.workers }, async (_, worker) => {
        const workerRandom = random.fork(`worker-${worker}`);
        while (ops() < profile.operations || !faultsDone) {
          await workload.step(workerRandom);
          if (worker === 0 && Date.now() - lastReport > 5_000) {
            lastReport = Date.now();
            say(`  ${ops()} operations, ${injector.injected} faults after ${seconds(started)} s`);
          }
          await new Promise((resolve) => setTimeout(resolve, workerRandom.int(...profile.opGapMs)));
        }
      }),
    );
    await faultRun;
    const workloadDoneMs = Date.now();
    say(`workload done: ${ops()} operations, ${injector.injected} faults; clearing faults and waiting for the system to settle`);
    await injector.clear();
    await settle({ stack, crm, customer, hubspot: world.hubspot, kafka, tenantId, timeoutMs: profile.settleTimeoutMs, quietMs: 7_000, say });
    await injector.stopWatchdog();
    const settledMs = Date.now();
    say(`settled after ${seconds(started)} s; checking every system`);

    const report = await check({ crm, customer, hubspot: world.hubspot, mappers, stack, kafka, tenantId, ops: workload.ops });
    const findings = [
      ...report.diverged.map((line) => `diverged: ${line}`),
      ...report.duplicated.map((line) => `duplicate: ${line}`),
      ...report.losses.map((loss) => `silent loss: op ${loss.op.id} (${loss.op.kind} in ${loss.op.system} of ${loss.op.email}) set ${loss.key} to ${loss.expected}; every system holds ${loss.found}, and no conflict records it`),
      ...report.offsetViolations.map((line) => `offset: ${line}`),
    ];
    for (const line of findings.slice(0, 60)) say(`  ${line}`);
    if (injector.unplannedExits > 0) say(`  ${injector.unplannedExits} services exited on their own and were restarted`);
    // Events HubSpot gave up delivering are found only by the safety-net poll and the contacts' history.
    const { dropped } = world.hubspot.webhookStats();
    if (dropped > 0) say(`  ${dropped} webhook events were given up after every retry`);
    const converged = report.diverged.length === 0;
    const result = {
      seed,
      entities: report.entities,
      ops: ops(),
      faults: injector.injected,
      converged,
      silent_losses: report.losses.length,
      duplicates: report.duplicates,
      pending_manual: report.pendingManual,
      seconds: Math.round((Date.now() - started) / 1000),
    };
    const ok = converged && report.losses.length === 0 && report.duplicates === 0 && report.offsetViolations.length === 0;
    if (!ok) say(`FAILED: ${report.diverged.length} diverged, ${report.losses.length} silent losses, ${report.duplicates} duplicates, ${report.offsetViolations.length} offset violations`);
    const page = runPagePath(seed);
    writeFileSync(page, renderRunPage({ result, passed: ok, startedMs: started, workloadDoneMs, settledMs, faults: injector.timeline, ops: workload.ops.slice(seeded), findings }));
    say(`the run as a page: ${page}`);
    console.log(JSON.stringify(result));
    passed = ok;
    return ok ? 0 : 1;
  } finally {
    await injector.stopWatchdog();
    await injector.clear().catch(() => undefined);
    await stack.stop().catch(() => undefined);
    await kafka.close().catch(() => undefined);
    await Promise.all([crm.end(), customer.end()]);
    redis.disconnect();
    await customerRelay.cut();
    await redisRelay.cut();
    // VERIFY_KEEP=1 keeps every run; VERIFY_KEEP=failed only a run that failed or broke off.
    const keep = process.env['VERIFY_KEEP'];
    if (keep === '1' || (keep === 'failed' && !passed)) keepForInvestigation(seed, world, tenantId, workload.ops);
    else await world.close();
  }
}

const RUNS_DIR = join(__dirname, '..', '..', '..', '.tandem', 'verify');

/** The page of a run: its faults and edits over time, its result and findings. */
function runPagePath(seed: number): string {
  mkdirSync(RUNS_DIR, { recursive: true });
  return join(RUNS_DIR, `seed-${seed}.html`);
}

/** Where a kept run's databases are, and every edit the workload made, to trace an entity's story. */
function keepForInvestigation(seed: number, world: ThreeWayWorld, tenantId: string, ops: readonly unknown[]): void {
  mkdirSync(RUNS_DIR, { recursive: true });
  const file = join(RUNS_DIR, `seed-${seed}.json`);
  const databases = { tandem: world.tandem.url, crm: world.crmDb.url, customer: world.customerDb.url };
  writeFileSync(file, JSON.stringify({ seed, tenantId, databases, ops }, null, 1));
  say(`kept: databases and the workload's edits in ${file}`);
}

function seconds(since: number): string {
  return ((Date.now() - since) / 1000).toFixed(0);
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    say(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
