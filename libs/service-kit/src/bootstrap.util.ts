import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ConfigError } from '@tandem/config';
import type { Logger } from 'pino';
import { NestPinoLogger } from './logger.util';

export interface ServiceBootstrap {
  service: string;
  module: Parameters<typeof NestFactory.create>[0];
  port: number;
  logger: Logger;
}

/**
 * Starts a service: HTTP for health, graceful shutdown on SIGTERM/SIGINT (Nest calls each provider's
 * shutdown hook, where consumers finish their batch and commit), and a clear exit on bad configuration.
 */
export async function bootstrapService({ service, module, port, logger }: ServiceBootstrap): Promise<INestApplication> {
  // Raw bodies are kept for webhook signatures, which cover the exact bytes received.
  const app = await NestFactory.create(module, { logger: new NestPinoLogger(logger), abortOnError: false, rawBody: true });
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  await app.listen(port, '0.0.0.0');
  logger.info({ port }, `${service} started; health on http://127.0.0.1:${port}/health/ready`);
  return app;
}

/** Runs `main`, turning a configuration error into one readable message and exit code 2. */
export function runMain(service: string, main: () => Promise<unknown>): void {
  main().catch((error: unknown) => {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`${service} failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
