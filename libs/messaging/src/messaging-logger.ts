/** The logging the messaging layer needs; services pass their structured logger. */
export interface MessagingLogger {
  info(message: string, context?: Record<string, unknown>): void;
  warn(message: string, context?: Record<string, unknown>): void;
  error(message: string, context?: Record<string, unknown>): void;
}
