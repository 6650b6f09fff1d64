export interface HealthCheck {
  name: string;
  /** Rejects when the dependency is not usable. */
  check(): Promise<void>;
}

export interface HealthReport {
  status: 'ok' | 'unavailable';
  checks: Record<string, { status: 'ok' | 'unavailable'; error?: string }>;
  details: Record<string, unknown>;
}

/**
 * Readiness: every registered dependency answers. Liveness only says the event loop runs, so an
 * outage of a dependency pauses a service instead of getting it restarted in a loop.
 */
export class HealthService {
  private readonly checks: HealthCheck[] = [];
  private readonly detailSources = new Map<string, () => unknown>();

  register(check: HealthCheck): void {
    this.checks.push(check);
  }

  /** Extra facts for the health page: assignments, breaker state, lag. */
  detail(name: string, source: () => unknown): void {
    this.detailSources.set(name, source);
  }

  async readiness(): Promise<HealthReport> {
    const results = await Promise.all(
      this.checks.map(async (check) => {
        try {
          await withTimeout(check.check(), 2_000);
          return [check.name, { status: 'ok' as const }] as const;
        } catch (error) {
          return [check.name, { status: 'unavailable' as const, error: (error as Error).message }] as const;
        }
      }),
    );
    const checks = Object.fromEntries(results);
    const details = Object.fromEntries([...this.detailSources].map(([name, source]) => [name, source()]));
    const status = results.every(([, result]) => result.status === 'ok') ? 'ok' : 'unavailable';
    return { status, checks, details };
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    promise.then(
      (value) => (clearTimeout(timer), resolve(value)),
      (error) => (clearTimeout(timer), reject(error)),
    );
  });
}
