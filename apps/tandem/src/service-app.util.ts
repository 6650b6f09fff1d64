import type { DynamicModule, INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestPinoLogger } from '@tandem/service-kit';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { ShutdownStack } from './shutdown-stack.util';

export interface RunningService {
  name: string;
  app: INestApplication;
  /** Base URL of its HTTP endpoints (health, webhooks). */
  url: string;
}

/**
 * Starts one service as its own Nest application on a loopback port. Unlike a service started
 * alone, it does not take the process's signals: this process stops every service, in order.
 */
export async function startService(name: string, module: DynamicModule, port: number, logger: Logger, shutdown: ShutdownStack): Promise<RunningService> {
  // Raw bodies are kept for webhook signatures, which cover the exact bytes received.
  const app = await NestFactory.create(module, { logger: new NestPinoLogger(logger), abortOnError: false, rawBody: true });
  shutdown.push(name, () => app.close());
  await app.listen(port, '127.0.0.1');
  const address = app.getHttpServer().address() as AddressInfo;
  return { name, app, url: `http://127.0.0.1:${address.port}` };
}

/** Waits until the service's readiness endpoint answers 200 (its database, broker and system reachable). */
export async function waitUntilReady(service: RunningService, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${service.url}/health/ready`);
      if (response.ok) return;
      last = `${response.status} ${await response.text()}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${service.name} not ready after ${timeoutMs} ms: ${last}`);
}
