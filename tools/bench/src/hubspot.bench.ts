import { createCrmHubSpotWorld, crmHubSpotSync, startCrmHubSpotStack, type CrmHubSpotWorld, type ServiceStack } from '@tandem/local-stack';
import { eventually } from '@tandem/testing';

/**
 * The CRM database and a simulated HubSpot account (at its default rate limit, 100 requests per
 * 10 s) kept in sync by the services as separate processes on the real broker. After an initial
 * sync, bursts of edits alternate between the sides: one CRM transaction updating a burst of
 * contacts, then a person editing as many contacts in HubSpot, then a quiet gap. Latency is measured per contact, from
 * the CRM commit to the write landing in HubSpot (the contact's modification time there), and from
 * the HubSpot edit to the applier's commit of the CRM row (webhook path). Every API call HubSpot
 * receives after the initial sync is counted, searches included. Progress goes to stderr; the last
 * line on stdout is the result.
 */
const CONTACTS = Number(process.env['BENCH_HUBSPOT_CONTACTS'] ?? 2_000);
const BURSTS = Number(process.env['BENCH_HUBSPOT_BURSTS'] ?? 10);
const BURST_SIZE = Number(process.env['BENCH_HUBSPOT_BURST_SIZE'] ?? 100);
/** Quiet time after each pair of bursts, so the run spans safety-net polls as real traffic would. */
const GAP_MS = Number(process.env['BENCH_HUBSPOT_GAP_MS'] ?? 3_000);

const say = (message: string) => process.stderr.write(`bench: ${message}\n`);

/** Every write to the CRM's contacts, stamped inside its transaction. */
const ARRIVALS = `
  CREATE UNLOGGED TABLE arrivals (email text, phone text, at timestamptz NOT NULL DEFAULT clock_timestamp());
  CREATE FUNCTION log_arrival() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN INSERT INTO arrivals (email, phone) VALUES (NEW.email, NEW.phone); RETURN NULL; END $$;
  CREATE TRIGGER log_arrival AFTER UPDATE ON contacts FOR EACH ROW EXECUTE FUNCTION log_arrival();`;

async function main(): Promise<void> {
  if (CONTACTS < 2 * BURST_SIZE) throw new Error(`BENCH_HUBSPOT_CONTACTS must be at least twice BENCH_HUBSPOT_BURST_SIZE`);
  const world = await createCrmHubSpotWorld('bench_hs_');
  const rateWindowMs = world.hubspot.options.rateLimit.windowMs;
  let stack: ServiceStack | null = null;
  try {
    await world.crm.query(ARRIVALS);
    await world.crm.query(
      `INSERT INTO contacts (full_name, email, phone) SELECT 'Bench Person' || i, 'b' || i || '@example.com', '0' FROM generate_series(1, ${CONTACTS}) AS i`,
    );
    say(`starting reconciler, connectors and appliers; ${CONTACTS} contacts in the CRM, HubSpot empty`);
    // The product's default poll cadence: the webhook path is what is measured.
    stack = await startCrmHubSpotStack(world, {
      config: crmHubSpotSync({ baseUrl: world.hubspot.url, pollIntervalMs: 30_000, searchLagMs: 10_000 }),
      env: { LOG_LEVEL: 'warn' },
    });

    const initialStart = Date.now();
    await waitFor(`initial sync of ${CONTACTS} contacts`, () => world.hubspot.contacts().length, CONTACTS, initialStart);
    await quiet(world, stack);
    const initialCalls = world.hubspot.callCount();
    const initialPeak = world.hubspot.maxRequestsInWindow(rateWindowMs);
    say(`  initial sync: ${initialCalls} API calls in ${((Date.now() - initialStart) / 1000).toFixed(1)} s, at most ${initialPeak} per 10 s`);
    world.hubspot.resetCalls();

    const { rows: ids } = await world.crm.query<{ id: number; email: string }>(`SELECT id, email FROM contacts ORDER BY id`);
    const hubspotIds = new Map(world.hubspot.contacts().map((contact) => [contact.properties['email']!, contact.id]));
    // Each side edits its own half, so a burst never meets the other side's edits to the same contact.
    const crmSide = ids.slice(0, Math.floor(ids.length / 2));
    const hubspotSide = ids.slice(Math.floor(ids.length / 2));
    const toHubSpot: number[] = [];
    const toCrm: number[] = [];
    const measureStart = Date.now();

    for (let burst = 0; burst < BURSTS; burst += 1) {
      const crmBurst = window(crmSide, burst);
      const crmValue = `c${burst}`;
      await world.crm.query(`UPDATE contacts SET phone = $1 WHERE id = ANY($2::int[])`, [crmValue, crmBurst.map((row) => row.id)]);
      const committedAt = Date.now();
      const landed = await eventually(
        () => {
          const times = crmBurst.map((row) => {
            const contact = world.hubspot.getContact(hubspotIds.get(row.email) ?? '');
            return contact?.properties['phone'] === crmValue ? Date.parse(contact.updatedAt) : null;
          });
          if (times.some((time) => time === null)) throw new Error(`CRM burst ${burst}: ${times.filter((t) => t === null).length} not in HubSpot yet`);
          return times as number[];
        },
        { timeoutMs: 60_000, intervalMs: 20 },
      );
      toHubSpot.push(...landed.map((at) => at - committedAt));

      const hubspotBurst = window(hubspotSide, burst);
      const hubspotValue = `h${burst}`;
      const editedAt = new Map<string, number>();
      for (const row of hubspotBurst) {
        world.hubspot.updateContact(hubspotIds.get(row.email)!, { phone: hubspotValue });
        editedAt.set(row.email, Date.now());
      }
      const arrived = await eventually(
        async () => {
          const { rows } = await world.crm.query<{ email: string; at: Date }>(`SELECT email, min(at) AS at FROM arrivals WHERE phone = $1 GROUP BY email`, [hubspotValue]);
          if (rows.length < hubspotBurst.length) throw new Error(`HubSpot burst ${burst}: ${rows.length} of ${hubspotBurst.length} in the CRM`);
          return rows;
        },
        { timeoutMs: 60_000, intervalMs: 20 },
      );
      toCrm.push(...arrived.map((row) => row.at.getTime() - editedAt.get(row.email)!));
      say(`  burst ${burst + 1}/${BURSTS}: ${BURST_SIZE} CRM edits and ${BURST_SIZE} HubSpot edits synced; ${world.hubspot.callCount()} API calls so far`);
      await new Promise((resolve) => setTimeout(resolve, GAP_MS));
    }
    await quiet(world, stack);
    const seconds = (Date.now() - measureStart) / 1000;

    const changes = toHubSpot.length + toCrm.length;
    const apiCalls = world.hubspot.callCount();
    const calls = Object.entries(world.hubspot.calls())
      .map(([key, count]) => `${key} ${count}`)
      .join(', ');
    say(`API calls over ${changes} changes in ${seconds.toFixed(1)} s: ${calls}`);
    const crmToHubSpot = [...toHubSpot].sort((a, b) => a - b);
    const hubSpotToCrm = [...toCrm].sort((a, b) => a - b);
    say(`CRM commit -> HubSpot: ${describe(crmToHubSpot)}`);
    say(`HubSpot edit -> CRM row (webhooks): ${describe(hubSpotToCrm)}`);
    say(`rate: at most ${world.hubspot.maxRequestsInWindow(rateWindowMs)} calls per 10 s during the bursts (limit ${world.hubspot.options.rateLimit.limit}) (${initialPeak} during the initial sync); ${world.hubspot.rateLimited()} answered 429`);

    say('checking both systems');
    const { lost, duplicated } = await compare(world);
    const all = [...toHubSpot, ...toCrm].sort((a, b) => a - b);
    const result = {
      changes,
      api_calls: apiCalls,
      calls_per_change: Math.round((apiCalls / changes) * 10_000) / 10_000,
      p50_ms: percentile(all, 0.5),
      p99_ms: percentile(all, 0.99),
      max_rate_per_10s: Math.max(initialPeak, world.hubspot.maxRequestsInWindow(rateWindowMs)),
      lost,
      duplicated,
    };
    const limit = world.hubspot.options.rateLimit.limit;
    const verdict = (met: boolean) => (met ? 'met' : 'MISSED');
    say(
      `targets: calls_per_change <= 0.05 ${verdict(result.calls_per_change <= 0.05)}; p99 <= 2000 ms each way ` +
        `${verdict(percentile(crmToHubSpot, 0.99) <= 2_000 && percentile(hubSpotToCrm, 0.99) <= 2_000)}; ` +
        `max_rate_per_10s <= ${limit} ${verdict(result.max_rate_per_10s <= limit)}`,
    );
    console.log(JSON.stringify(result));
  } finally {
    await stack?.stop();
    await world.close();
  }
}

/** The burst's contacts: consecutive windows of the side's contacts, wrapping around. */
function window<T>(side: T[], burst: number): T[] {
  return Array.from({ length: BURST_SIZE }, (_, index) => side[(burst * BURST_SIZE + index) % side.length]!);
}

async function waitFor(what: string, current: () => number, target: number, since: number): Promise<void> {
  let lastReport = 0;
  await eventually(
    () => {
      const value = current();
      if (Date.now() - lastReport > 2_000) {
        lastReport = Date.now();
        say(`  ${what}: ${value} of ${target} after ${((Date.now() - since) / 1000).toFixed(1)} s`);
      }
      if (value < target) throw new Error(`${what}: ${value} of ${target}`);
    },
    { timeoutMs: 600_000, intervalMs: 500 },
  );
}

/** Webhooks delivered, the inbox empty, and no service logging work any more. */
async function quiet(world: CrmHubSpotWorld, stack: ServiceStack): Promise<void> {
  await world.hubspot.flushWebhooks(60_000);
  const count = async (sql: string) => Number((await stack.db.query<{ n: string }>(sql)).rows[0]!.n);
  let last = -1;
  await eventually(
    async () => {
      const [notices, logged] = await Promise.all([count(`SELECT count(*) AS n FROM tandem_source_inbox`), count(`SELECT count(*) AS n FROM tandem_sync_log`)]);
      const settled = notices === 0 && logged === last;
      last = logged;
      if (!settled) throw new Error('still working');
    },
    { timeoutMs: 120_000, intervalMs: 1_000 },
  );
}

/**
 * Reads both systems directly: every CRM contact must be in HubSpot with equal values and every
 * HubSpot contact in the CRM; each email once on each side.
 */
async function compare(world: CrmHubSpotWorld): Promise<{ lost: number; duplicated: number }> {
  const { rows } = await world.crm.query<{ full_name: string; email: string; phone: string }>(`SELECT full_name, email, phone FROM contacts`);
  const crm = group(rows.map((row) => ({ email: row.email.trim().toLowerCase(), value: `${row.full_name}|${row.phone}` })));
  const hubspot = group(
    world.hubspot.contacts().map(({ properties: p }) => ({ email: (p['email'] ?? '').trim().toLowerCase(), value: `${p['firstname']} ${p['lastname']}|${p['phone']}` })),
  );
  let lost = 0;
  let duplicated = 0;
  for (const [from, to] of [
    [crm, hubspot],
    [hubspot, crm],
  ] as const) {
    for (const [email, values] of from) {
      const copies = to.get(email) ?? [];
      if (!values.every((value) => copies.includes(value))) lost += 1;
      duplicated += Math.max(0, values.length - 1);
    }
  }
  return { lost, duplicated };
}

function group(entries: Array<{ email: string; value: string }>): Map<string, string[]> {
  const byEmail = new Map<string, string[]>();
  for (const { email, value } of entries) byEmail.set(email, [...(byEmail.get(email) ?? []), value]);
  return byEmail;
}

function describe(sorted: number[]): string {
  return `p50 ${percentile(sorted, 0.5)} ms, p99 ${percentile(sorted, 0.99)} ms, max ${sorted.at(-1) ?? 0} ms over ${sorted.length} changes`;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
