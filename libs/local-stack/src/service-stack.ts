import { createPgSqlClient, migrate, SyncConfigRepository, type PgSqlClient } from '@tandem/state';
import { SyncConfigSchema, type SyncConfig } from '@tandem/sync-config';
import { TEST_KAFKA_BROKERS, TEST_REDIS_URL, uniqueSuffix } from '@tandem/testing';
import { deleteKafkaNamespace } from './kafka-namespace.util';
import { ServiceProcess } from './service-process';

export interface StackSystem {
  id: string;
  /** What the system's connector and applier need to reach it (SYSTEM_DATABASE_URL, SYSTEM_ACCESS_TOKEN, ...). */
  env: Record<string, string>;
}

/**
 * The production topology on one machine: a reconciler, and a connector and an applier per linked
 * system, each its own process, on a fresh topic prefix of the real Kafka broker.
 */
export class ServiceStack {
  readonly prefix = `e2e${uniqueSuffix()}`;
  readonly reconciler: ServiceProcess;
  readonly connectors = new Map<string, ServiceProcess>();
  readonly appliers = new Map<string, ServiceProcess>();
  readonly db: PgSqlClient;

  constructor(
    tandemUrl: string,
    private readonly config: SyncConfig,
    systems: StackSystem[],
    extraEnv: Record<string, string> = {},
  ) {
    this.db = createPgSqlClient(tandemUrl);
    const base = {
      KAFKA_BROKERS: TEST_KAFKA_BROKERS.join(','),
      DATABASE_URL: tandemUrl,
      TOPIC_PREFIX: this.prefix,
      TOPIC_PARTITIONS: '4',
      LOG_LEVEL: 'info',
      ...extraEnv,
    };
    this.reconciler = new ServiceProcess('reconciler', `${this.prefix}-reconciler`, base);
    for (const system of systems) {
      const env = { ...base, ...system.env, SYSTEM_ID: system.id };
      this.connectors.set(
        system.id,
        new ServiceProcess('connector', `${this.prefix}-connector-${system.id}`, { REDIS_URL: TEST_REDIS_URL, POLL_INTERVAL_MS: '200', ...env }),
      );
      this.appliers.set(
        system.id,
        new ServiceProcess('applier', `${this.prefix}-applier-${system.id}`, { REDIS_URL: TEST_REDIS_URL, BREAKER_RESET_MS: '1000', ...env }),
      );
    }
  }

  /**
   * Installs the sync configuration, then starts every service and waits until each is ready. If one
   * fails to start, those already running are stopped, so no process outlives the stack.
   */
  async start(): Promise<void> {
    await migrate(this.db);
    await new SyncConfigRepository(this.db, (raw) => SyncConfigSchema.parse(raw)).save(this.config);
    try {
      await this.reconciler.start();
      await Promise.all([...this.appliers.values()].map((service) => service.start()));
      await Promise.all([...this.connectors.values()].map((service) => service.start()));
    } catch (error) {
      await Promise.all(this.services().map((service) => service.kill()));
      throw error;
    }
  }

  services(): ServiceProcess[] {
    return [this.reconciler, ...this.connectors.values(), ...this.appliers.values()];
  }

  /** Stops every service, then deletes the stack's topics and consumer groups. */
  async stop(): Promise<void> {
    await Promise.all(this.services().map((service) => service.stop()));
    await this.db.close();
    await deleteKafkaNamespace(TEST_KAFKA_BROKERS, this.prefix);
  }
}
