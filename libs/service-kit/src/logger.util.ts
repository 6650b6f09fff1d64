import type { LoggerService } from '@nestjs/common';
import pino, { type Logger } from 'pino';

/** Structured JSON logs on stdout, one line an event, tagged with the service. */
export function createLogger(service: string, level = process.env['LOG_LEVEL'] ?? 'info'): Logger {
  return pino({ name: service, level, base: { service }, timestamp: pino.stdTimeFunctions.isoTime });
}

/** Routes Nest's own log lines into the same structured logger. */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}
  log(message: unknown, context?: string): void {
    this.logger.info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string): void {
    this.logger.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string): void {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string): void {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string): void {
    this.logger.trace({ context }, String(message));
  }
}

/** Adapts a pino logger to the small logging interfaces the libraries declare. */
export function contextLogger(logger: Logger) {
  return {
    info: (message: string, context: Record<string, unknown> = {}) => logger.info(context, message),
    warn: (message: string, context: Record<string, unknown> = {}) => logger.warn(context, message),
    error: (message: string, context: Record<string, unknown> = {}) => logger.error(context, message),
  };
}
