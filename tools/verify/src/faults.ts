import type { HubSpotSimulator } from '@tandem/hubspot-simulator';
import type { ServiceProcess, ServiceStack } from '@tandem/local-stack';
import type { TcpRelay } from '@tandem/testing';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Redis } from 'ioredis';
import type { FaultSpan } from './run-page.util';
import type { SeededRandom } from './seeded-random.util';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '../../..');
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

export type FaultKind =
  | 'kill'
  | 'kafka-restart'
  | 'target-outage'
  | 'hubspot-rate-limit-storm'
  | 'hubspot-outage'
  | 'hubspot-slow'
  | 'redis-restart';

export interface PlannedFault {
  kind: FaultKind;
  /** The service killed, for `kill`. */
  service?: string;
  /** Wait before it, from the end of the previous fault in its chain. */
  gapMs: number;
  /** How long the fault lasts (a killed service stays down this long). */
  durationMs: number;
}

export interface FaultContext {
  stack: ServiceStack;
  hubspot: HubSpotSimulator;
  customerRelay: TcpRelay;
  redisRelay: TcpRelay;
  redis: Redis;
  /** Key patterns of every Redis key this run's services use. */
  redisKeyPatterns: string[];
  skipKafkaRestart: boolean;
  say: (message: string) => void;
}

/**
 * The run's faults, from the seed: per round, a kill -9 and restart of every service (three chains)
 * and each infrastructure fault (a fourth chain, concurrent with them), in seeded order with seeded
 * gaps and durations.
 */
export function planFaults(random: SeededRandom, stack: ServiceStack, rounds: number, skipKafkaRestart: boolean): PlannedFault[][] {
  // Restarting a service takes seconds on a small machine: the kills run in three chains at once.
  const kills: PlannedFault[][] = [[], [], []];
  const infra: PlannedFault[] = [];
  for (let round = 0; round < rounds; round += 1) {
    for (const [index, service] of random.shuffle(stack.services().map((s) => s.name)).entries()) {
      kills[index % kills.length]!.push({ kind: 'kill', service, gapMs: random.int(1_000, 5_000), durationMs: random.int(200, 3_000) });
    }
    const kinds: FaultKind[] = ['target-outage', 'hubspot-rate-limit-storm', 'hubspot-outage', 'hubspot-slow', 'redis-restart'];
    if (!skipKafkaRestart) kinds.push('kafka-restart');
    for (const kind of random.shuffle(kinds)) infra.push({ kind, gapMs: random.int(1_000, 6_000), durationMs: random.int(2_000, 6_000) });
  }
  return [...kills, infra];
}

/** The timeline lane of each kind of fault other than a kill (those get a lane per service). */
const FAULT_LANES: Record<Exclude<FaultKind, 'kill'>, string> = {
  'kafka-restart': 'Kafka broker restart',
  'target-outage': 'customer database cut off',
  'hubspot-rate-limit-storm': 'HubSpot 429 storm',
  'hubspot-outage': 'HubSpot down',
  'hubspot-slow': 'HubSpot slow',
  'redis-restart': 'Redis restart',
};

/** Injects planned faults and keeps every service running, as an orchestrator would. */
export class FaultInjector {
  injected = 0;
  unplannedExits = 0;
  /** Every fault injected, with when it held. */
  readonly timeline: FaultSpan[] = [];
  private readonly faultedServices = new Set<string>();
  private watching = false;
  private watchdog: Promise<void> = Promise.resolve();

  constructor(private readonly context: FaultContext) {}

  async runChain(chain: readonly PlannedFault[], stopping: () => boolean): Promise<void> {
    for (const fault of chain) {
      if (stopping()) return;
      await sleep(fault.gapMs);
      await this.inject(fault);
    }
  }

  /** Restarts any service that exited on its own (a crash an orchestrator would restart). */
  startWatchdog(): void {
    this.watching = true;
    this.watchdog = (async () => {
      while (this.watching) {
        for (const service of this.context.stack.services()) {
          if (service.running || this.faultedServices.has(service.name)) continue;
          this.unplannedExits += 1;
          this.context.say(`  ! ${this.short(service.name)} exited on its own; restarting it (see ${service.logFile})`);
          this.faultedServices.add(service.name);
          await this.restart(service).finally(() => this.faultedServices.delete(service.name));
        }
        await sleep(1_000);
      }
    })();
  }

  async stopWatchdog(): Promise<void> {
    this.watching = false;
    await this.watchdog;
  }

  /** Ends every fault still in effect. */
  async clear(): Promise<void> {
    await this.context.hubspot.clearFaults();
    await this.context.customerRelay.restore();
    await this.context.redisRelay.restore();
  }

  private async inject(fault: PlannedFault): Promise<void> {
    const lane = fault.kind === 'kill' ? `kill -9 ${this.short(fault.service ?? '')}` : FAULT_LANES[fault.kind];
    const startMs = Date.now();
    try {
      await this.injectNow(fault);
    } finally {
      this.timeline.push({ lane, label: `${lane}, ${((Date.now() - startMs) / 1000).toFixed(1)} s`, startMs, endMs: Date.now() });
    }
  }

  private async injectNow(fault: PlannedFault): Promise<void> {
    const { hubspot, customerRelay, redisRelay, say } = this.context;
    this.injected += 1;
    const seconds = (fault.durationMs / 1000).toFixed(1);
    switch (fault.kind) {
      case 'kill': {
        const service = this.context.stack.services().find((s) => s.name === fault.service)!;
        // The watchdog may be restarting it: two restarts at once would leave one process unwatched.
        if (this.faultedServices.has(service.name)) return say(`  fault: kill -9 ${this.short(service.name)} skipped, it is being restarted`);
        this.faultedServices.add(service.name);
        try {
          say(`  fault: kill -9 ${this.short(service.name)}, restart after ${seconds} s`);
          await service.kill();
          await sleep(fault.durationMs);
          await this.restart(service);
        } finally {
          this.faultedServices.delete(service.name);
        }
        return;
      }
      case 'kafka-restart':
        say('  fault: Kafka broker restart (scripts/kafka stop + start)');
        await this.restartKafka();
        return;
      case 'target-outage':
        say(`  fault: customer database unreachable for ${seconds} s`);
        await customerRelay.cut();
        await sleep(fault.durationMs);
        await customerRelay.restore();
        return;
      case 'hubspot-rate-limit-storm':
        say(`  fault: HubSpot answers 429 to every call for ${seconds} s`);
        await hubspot.setFaults({ rateLimitStorm: true });
        await sleep(fault.durationMs);
        await hubspot.setFaults({ rateLimitStorm: false });
        return;
      case 'hubspot-outage':
        say(`  fault: HubSpot down (503, then connections refused) for ${seconds} s`);
        await hubspot.setFaults({ outage: 'unavailable' });
        await sleep(fault.durationMs / 2);
        await hubspot.setFaults({ outage: 'refuse' });
        await sleep(fault.durationMs / 2);
        await hubspot.setFaults({ outage: false });
        return;
      case 'hubspot-slow':
        say(`  fault: HubSpot answers 1.5 s late for ${seconds} s`);
        await hubspot.setFaults({ latencyMs: 1_500 });
        await sleep(fault.durationMs);
        await hubspot.setFaults({ latencyMs: 0 });
        return;
      case 'redis-restart': {
        say(`  fault: Redis restart: unreachable for ${seconds} s, and the run's leases, dedupe windows and rate-limit history dropped`);
        await redisRelay.cut();
        const dropped = await this.dropRedisKeys();
        await sleep(fault.durationMs);
        await redisRelay.restore();
        say(`    (${dropped} Redis keys dropped)`);
        return;
      }
    }
  }

  private async restart(service: ServiceProcess): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await service.start();
        return;
      } catch (error) {
        if (attempt >= 6) throw error;
        this.context.say(`    ${this.short(service.name)} did not start (${error instanceof Error ? error.message : String(error)}); retrying`);
        await service.kill();
        await sleep(2_000);
      }
    }
  }

  private async restartKafka(): Promise<void> {
    const { stdout } = await run('bash', [resolve(ROOT, 'scripts/kafka/stop.sh')], { cwd: ROOT });
    if (!/kafka: stopped/.test(stdout)) {
      throw new Error(`the Kafka broker was not stopped (${stdout.trim()}); only a broker started by scripts/kafka/start.sh can be restarted`);
    }
    await run('bash', [resolve(ROOT, 'scripts/kafka/start.sh')], { cwd: ROOT, timeout: 180_000 });
  }

  /** What a restart of a Redis without persistence loses, limited to this run's keys. */
  private async dropRedisKeys(): Promise<number> {
    const { redis, redisKeyPatterns } = this.context;
    let dropped = 0;
    for (const pattern of redisKeyPatterns) {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
        cursor = next;
        if (keys.length > 0) dropped += await redis.del(...keys);
      } while (cursor !== '0');
    }
    return dropped;
  }

  /** A service's name without the run's prefix. */
  private short(name: string): string {
    return name.replace(`${this.context.stack.prefix}-`, '');
  }
}
