import { HubSpotSimulator } from '@tandem/hubspot-simulator';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { SimulatorEnv } from './simulator.env';

/** How long a stop waits for webhook deliveries already queued. */
const WEBHOOK_FLUSH_MS = 5_000;

export type SimulatorServerConfig = Pick<
  SimulatorEnv,
  'HOST' | 'PORT' | 'HEALTH_PORT' | 'ACCESS_TOKEN' | 'CLIENT_SECRET' | 'PORTAL_ID' | 'WEBHOOK_URL' | 'RATE_LIMIT' | 'RATE_LIMIT_WINDOW_MS'
>;

export interface SimulatorServer {
  readonly simulator: HubSpotSimulator;
  /** The API's base URL, as a client on this machine calls it. */
  readonly url: string;
  readonly healthUrl: string;
  /** Graceful: readiness fails at once, queued webhooks are delivered, then both listeners close. */
  stop(): Promise<void>;
}

/** The simulator's API, and a health listener beside it. Port 0 picks a free port (tests). */
export async function startSimulatorServer(config: SimulatorServerConfig, logger: Logger): Promise<SimulatorServer> {
  const simulator = await HubSpotSimulator.start({
    host: config.HOST,
    port: config.PORT,
    accessToken: config.ACCESS_TOKEN,
    clientSecret: config.CLIENT_SECRET,
    portalId: config.PORTAL_ID,
    rateLimit: { limit: config.RATE_LIMIT, windowMs: config.RATE_LIMIT_WINDOW_MS },
    webhooks: { targetUrl: config.WEBHOOK_URL ?? null },
  });
  let stopping = false;
  const health = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://health').pathname;
    const answer = (status: number, body: Record<string, unknown>) =>
      response.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
    if (request.method !== 'GET') return answer(405, { error: 'only GET' });
    if (path === '/health/live') return answer(200, { status: 'ok' });
    if (path !== '/health/ready') return answer(404, { error: `no ${path}; try /health/live or /health/ready` });
    if (stopping) return answer(503, { status: 'unavailable', error: 'stopping' });
    void apiAnswers(simulator.url).then((error) =>
      error === null
        ? answer(200, { status: 'ok', api: simulator.url, webhooks: simulator.webhookStats() })
        : answer(503, { status: 'unavailable', api: simulator.url, error }),
    );
  });
  try {
    await listen(health, config.HEALTH_PORT, config.HOST);
  } catch (error) {
    await simulator.close();
    throw error;
  }
  const healthPort = (health.address() as AddressInfo).port;
  const healthUrl = `http://127.0.0.1:${healthPort}`;
  logger.info(
    { api: simulator.url, health: healthUrl, host: config.HOST, portalId: config.PORTAL_ID, webhooks: config.WEBHOOK_URL ?? null },
    `HubSpot simulator listening; API on port ${new URL(simulator.url).port}, health on ${healthPort}`,
  );
  return {
    simulator,
    url: simulator.url,
    healthUrl,
    stop: async () => {
      stopping = true;
      try {
        await simulator.flushWebhooks(WEBHOOK_FLUSH_MS);
      } catch (error) {
        logger.warn({ pending: simulator.webhookStats().pending, error: String(error) }, 'stopping with webhook deliveries undelivered');
      }
      await simulator.close();
      const closed = new Promise<void>((resolve) => health.close(() => resolve()));
      // Probes keep their connections open; close() alone would wait for them.
      health.closeAllConnections();
      await closed;
      logger.info('HubSpot simulator stopped');
    },
  };
}

/**
 * Whether the API listener answers, by a call outside the API's path: it is never counted or rate
 * limited, and any HTTP answer (a 404) proves the listener serves requests. Null when it does.
 */
async function apiAnswers(baseUrl: string): Promise<string | null> {
  try {
    await fetch(`${baseUrl}/`, { signal: AbortSignal.timeout(2_000) });
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
