import { ConfigError } from '@tandem/config';
import pino from 'pino';
import { SIMULATOR_SERVICE, parseSimulatorEnv } from './simulator.env';
import { startSimulatorServer } from './simulator-server.service';

async function main(): Promise<void> {
  const config = parseSimulatorEnv();
  const logger = pino({ name: SIMULATOR_SERVICE, level: config.LOG_LEVEL, base: { service: SIMULATOR_SERVICE }, timestamp: pino.stdTimeFunctions.isoTime });
  const server = await startSimulatorServer(config, logger);
  const stop = (signal: NodeJS.Signals) => {
    logger.info({ signal }, 'stopping');
    server.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ error: String(error) }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`${SIMULATOR_SERVICE} failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
