import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { startSimulatorServer, type SimulatorServer, type SimulatorServerConfig } from './simulator-server.service';

const logger = pino({ level: 'silent' });
const config: SimulatorServerConfig = {
  HOST: '127.0.0.1',
  PORT: 0,
  HEALTH_PORT: 0,
  ACCESS_TOKEN: 'app-token',
  CLIENT_SECRET: 'app-secret',
  PORTAL_ID: 4711,
  WEBHOOK_URL: undefined,
  RATE_LIMIT: 3,
  RATE_LIMIT_WINDOW_MS: 10_000,
};

async function status(url: string): Promise<number> {
  return (await fetch(url)).status;
}

describe('standalone HubSpot simulator', () => {
  let server: SimulatorServer | undefined;
  afterEach(() => server?.stop());

  it('serves the API with the configured token and rate limit, and health beside it', async () => {
    server = await startSimulatorServer(config, logger);
    expect(await status(`${server.healthUrl}/health/live`)).toBe(200);
    const ready = await fetch(`${server.healthUrl}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ok', api: server.url });
    expect(await status(`${server.healthUrl}/elsewhere`)).toBe(404);

    const call = () => fetch(`${server!.url}/crm/v3/objects/contacts`, { headers: { Authorization: 'Bearer app-token' } });
    expect((await fetch(`${server.url}/crm/v3/objects/contacts`)).status).toBe(401);
    for (let allowed = 0; allowed < 3; allowed += 1) expect((await call()).status).toBe(200);
    expect((await call()).status).toBe(429);
    // Health probes are not API calls: never counted, never rate limited.
    expect(server.simulator.callCount()).toBe(5);
  });

  it('delivers webhooks, signed for the configured account, to WEBHOOK_URL', async () => {
    const bodies: string[] = [];
    const receiver: Server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => (bodies.push(body), response.writeHead(204).end()));
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const port = (receiver.address() as AddressInfo).port;
      server = await startSimulatorServer({ ...config, WEBHOOK_URL: `http://127.0.0.1:${port}/webhooks/hubspot` }, logger);
      server.simulator.createContact({ email: 'ada@example.com' });
      await server.simulator.flushWebhooks(5_000);
      expect(bodies).toHaveLength(1);
      expect(JSON.parse(bodies[0]!)).toEqual([expect.objectContaining({ subscriptionType: 'contact.creation', portalId: 4711 })]);
    } finally {
      await new Promise((resolve) => receiver.close(resolve));
    }
  });

  it('stops both listeners', async () => {
    const started = await startSimulatorServer(config, logger);
    await started.stop();
    await expect(fetch(`${started.healthUrl}/health/live`)).rejects.toThrow();
    await expect(fetch(`${started.url}/crm/v3/objects/contacts`)).rejects.toThrow();
  });

  it('fails to start when the health port is taken', async () => {
    server = await startSimulatorServer(config, logger);
    const taken = Number(new URL(server.healthUrl).port);
    await expect(startSimulatorServer({ ...config, HEALTH_PORT: taken }, logger)).rejects.toThrow(/EADDRINUSE/);
  });
});
