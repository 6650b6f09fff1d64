import 'reflect-metadata';
import { ApplierModule } from '@tandem/applier-service';
import { ConnectorModule } from '@tandem/connector-service';
import { ReconcilerModule } from '@tandem/reconciler-service';
import { runMain } from '@tandem/service-kit';
import { SyncConfigRepository } from '@tandem/state';
import { SyncConfigSchema } from '@tandem/sync-config';
import { mkdirSync, openSync } from 'node:fs';
import { dirname, join } from 'node:path';
import pino from 'pino';
import { claimDataDir } from './data-dir-lock.util';
import { openDemoCrm } from './demo-crm.util';
import { startDemoHubSpot } from './demo-hubspot.util';
import { DemoScenario } from './demo-scenario.service';
import { seedCrm, seedHubSpot } from './demo-seed.util';
import { DEMO_HUBSPOT, demoSync } from './demo-sync.config';
import { openInfrastructure } from './process-infrastructure.util';
import { startService, waitUntilReady, type RunningService } from './service-app.util';
import { ShutdownStack } from './shutdown-stack.util';
import { applierConfig, connectorConfig, parseTandemConfig, reconcilerConfig } from './tandem-env.schema';
import { TerminalStatus } from './terminal-status.util';

const STATUS_REFRESH_MS = 3_000;
const READY_TIMEOUT_MS = 60_000;

runMain('tandem', async () => {
  const config = parseTandemConfig(process.env);
  const { env } = config;
  const dataDir = env.TANDEM_DATA_DIR;
  mkdirSync(dataDir, { recursive: true });
  const shutdown = new ShutdownStack();
  const terminal = new TerminalStatus(process.stdout);

  const logFile = join(dataDir, 'logs', 'tandem.log');
  mkdirSync(dirname(logFile), { recursive: true });
  // Opened here, so the log can be flushed at any moment, even when start-up fails at once.
  const logDestination = pino.destination({ dest: openSync(logFile, 'a'), sync: false });
  const rootLogger = pino({ level: env.LOG_LEVEL, timestamp: pino.stdTimeFunctions.isoTime }, logDestination);
  const logger = (service: string) => rootLogger.child({ name: service, service });
  const log = logger('tandem');

  // Every role shares one process: a signal stops them all in order, once start-up has settled.
  let starting: Promise<void> = Promise.resolve();
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      terminal.say(`${signal} again: exiting without a clean shutdown`);
      process.exit(1);
    }
    stopping = true;
    terminal.say(`${signal}: stopping every service…`);
    void starting
      .catch(() => undefined)
      .then(() => shutdown.closeAll((name, error) => log.error({ error: String(error) }, `${name} did not close cleanly`)))
      .then((failed) => {
        log.info({ signal }, 'stopped');
        logDestination.flushSync();
        terminal.say(failed.length === 0 ? 'stopped' : `stopped; did not close cleanly: ${failed.join(', ')} (see ${logFile})`);
        process.exit(failed.length === 0 ? 0 : 1);
      });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);

  starting = (async () => {
    claimDataDir(dataDir, shutdown);
    terminal.say(`Tandem: every service in one process; logs in ${logFile} (LOG_LEVEL=${env.LOG_LEVEL})`);
    const infrastructure = await openInfrastructure(env, log, shutdown);
    terminal.say(`  Tandem's database   ${infrastructure.where.database}`);
    terminal.say(`  broker              ${infrastructure.where.broker}`);
    terminal.say(`  coordination        ${infrastructure.where.coordination}`);

    const crm = await openDemoCrm(dataDir, env.DEMO_CRM_PORT, logger('demo-crm'), shutdown);
    const hubspot = await startDemoHubSpot(dataDir, env.DEMO_HUBSPOT_PORT, logger('demo-hubspot'), shutdown);
    const seededCrm = await seedCrm(crm.pool);
    const seededHubSpot = hubspot.restored ? 0 : seedHubSpot(hubspot.simulator);
    await hubspot.save();
    if (seededCrm + seededHubSpot > 0) terminal.say(`  seeded              ${seededCrm} CRM contacts and ${seededHubSpot} HubSpot contacts (some people in both, linked by email)`);
    terminal.say(`  demo CRM            ${crm.url} (table contacts; PGlite in ${crm.dataDir})`);
    terminal.say(`  simulated HubSpot   ${hubspot.simulator.url} (token ${DEMO_HUBSPOT.accessToken}; contacts saved in ${hubspot.stateFile})`);

    // Stored on every start: the simulated account's URL changes when its port is picked freely.
    await new SyncConfigRepository(infrastructure.db, (raw) => SyncConfigSchema.parse(raw)).save(demoSync(hubspot.simulator.url));

    const port = (offset: number) => (env.HTTP_PORT === 0 ? 0 : env.HTTP_PORT + offset);
    const crmAccess = { SYSTEM_ID: 'crm', SYSTEM_DATABASE_URL: crm.url };
    const hubspotAccess = { SYSTEM_ID: 'hubspot', SYSTEM_ACCESS_TOKEN: DEMO_HUBSPOT.accessToken, SYSTEM_WEBHOOK_SECRET: DEMO_HUBSPOT.clientSecret };
    const start = (name: string, module: Parameters<typeof startService>[1], listenPort: number) => startService(name, module, listenPort, logger(name), shutdown);
    // Consumers before producers: the reconciler and appliers are listening when the connectors publish.
    const services: RunningService[] = [
      await start('reconciler', ReconcilerModule.forRoot(reconcilerConfig(config, port(0)), logger('reconciler'), infrastructure), port(0)),
      await start('applier-crm', ApplierModule.forRoot(applierConfig(config, crmAccess, port(3)), logger('applier-crm'), infrastructure), port(3)),
      await start('applier-hubspot', ApplierModule.forRoot(applierConfig(config, hubspotAccess, port(4)), logger('applier-hubspot'), infrastructure), port(4)),
      await start('connector-crm', ConnectorModule.forRoot(connectorConfig(config, crmAccess, port(1)), logger('connector-crm'), infrastructure), port(1)),
      await start('connector-hubspot', ConnectorModule.forRoot(connectorConfig(config, hubspotAccess, port(2)), logger('connector-hubspot'), infrastructure), port(2)),
    ];
    const webhooks = `${services.find((service) => service.name === 'connector-hubspot')!.url}/webhooks/hubspot`;
    hubspot.simulator.setWebhookTarget(webhooks);
    // Deliveries stop before the connector that takes them.
    shutdown.push('HubSpot webhooks', async () => hubspot.simulator.setWebhookTarget(null));
    await Promise.all(services.map((service) => waitUntilReady(service, READY_TIMEOUT_MS)));
    for (const service of services) terminal.say(`  ${service.name.padEnd(20)}${service.url}/health/ready`);
    terminal.say(`  HubSpot webhooks    → ${webhooks}`);

    if (env.DEMO_SCENARIO) {
      const scenario = new DemoScenario({ crm: crm.pool, hubspot: hubspot.simulator, say: (line) => terminal.say(line) });
      scenario.start();
      shutdown.push('demo scenario', () => scenario.stop());
    } else {
      terminal.say('  live scenario       off (DEMO_SCENARIO=false): edit the CRM database or HubSpot yourself');
    }
    terminal.watch(infrastructure.db, STATUS_REFRESH_MS, (error) => log.warn({ error: String(error) }, 'sync counts could not be read'));
    shutdown.push('status line', async () => terminal.stop());

    const urls = [`crm=${crm.url}`, `hubspot=${hubspot.simulator.url}`, ...services.map((service) => `${service.name}=${service.url}`)];
    terminal.say(`ready: ${urls.join(' ')}`);
  })();

  try {
    await starting;
  } catch (error) {
    // What did open closes (databases flushed) before the error is reported.
    await shutdown.closeAll((name, closeError) => log.error({ error: String(closeError) }, `${name} did not close cleanly`));
    logDestination.flushSync();
    throw error;
  }
});
