import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { Socket } from 'node:net';
import { type ApiAnswer, errorAnswer, rateLimitAnswer, validationAnswer } from './api-answer.util';
import { API_PREFIX, type ApiRoutes, type RouteMatch } from './api-routes.util';
import type { CallLedger } from './call-ledger.service';
import { HubSpotSimulatorError, HubSpotSimulatorErrorCode } from './hubspot-simulator.error';
import type { AccountRateLimits } from './rate-limit.service';
import type { SeededRandom } from './seeded-random.util';
import { type ActiveFaults, NO_FAULTS } from './simulator-faults.interface';

const LOOPBACK = '127.0.0.1';
/** How long a request picked by `timeoutRate` stays unanswered before its connection is dropped. */
const HANG_MS = 30_000;

export interface ApiServerDependencies {
  host: string;
  routes: ApiRoutes;
  limits: AccountRateLimits;
  ledger: CallLedger;
  accessToken: string;
  random: SeededRandom;
}

/**
 * The HTTP side: counts every call under /crm/v3, applies faults, authentication and rate limits, then
 * hands the request to its route. The listener can be closed and reopened on the same port (an outage).
 */
export class ApiServer {
  private server: Server | null = null;
  private port = 0;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private faults: ActiveFaults = { ...NO_FAULTS };

  constructor(private readonly deps: ApiServerDependencies) {}

  /** A wildcard address is not one a client can call; the loopback reaches it from this machine. */
  get baseUrl(): string {
    const { host } = this.deps;
    const reachable = host === '0.0.0.0' || host === '::' ? LOOPBACK : host.includes(':') ? `[${host}]` : host;
    return `http://${reachable}:${this.port}`;
  }

  async listen(port: number): Promise<void> {
    this.port = port;
    await this.open();
  }

  async setFaults(faults: ActiveFaults): Promise<void> {
    this.faults = faults;
    if (faults.outage === 'refuse') await this.shut();
    else await this.open();
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await this.shut();
  }

  private open(): Promise<void> {
    if (this.server) return Promise.resolve();
    const server = createServer((request, response) => {
      // A defect in the simulator answers 500 with its message rather than leaving the client hanging.
      this.handle(request, response).catch((error: unknown) =>
        send(response, errorAnswer(500, 'INTERNAL_ERROR', `simulator defect: ${describe(error)}`)),
      );
    });
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    return new Promise((resolve, reject) => {
      server.once('error', (cause) =>
        reject(
          new HubSpotSimulatorError(
            HubSpotSimulatorErrorCode.ListenFailed,
            `the simulator could not listen on ${this.deps.host}:${this.port}`,
            { cause },
          ),
        ),
      );
      server.listen(this.port, this.deps.host, () => {
        const address = server.address();
        if (address && typeof address === 'object') this.port = address.port;
        this.server = server;
        resolve();
      });
    });
  }

  /** Closes the listener and drops every open connection, so clients see refused and reset connections. */
  private shut(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return Promise.resolve();
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const receivedAt = Date.now();
    const method = request.method ?? 'GET';
    const url = new URL(request.url ?? '/', this.baseUrl);
    const rawBody = await readBody(request);
    if (!url.pathname.startsWith(API_PREFIX)) {
      send(response, errorAnswer(404, 'OBJECT_NOT_FOUND', `No API at ${method} ${url.pathname}`));
      return;
    }
    const match = this.deps.routes.match(method, url.pathname);
    this.deps.ledger.record(match?.route.key ?? `${method} ${url.pathname}`, match?.route.isSearch ?? false, receivedAt);
    const faults = this.faults;
    const hang = this.deps.random.chance(faults.timeoutRate);
    const answer = this.answer(request, match, url, rawBody, receivedAt, faults);
    if (hang) {
      this.after(HANG_MS, () => request.socket.destroy());
      return;
    }
    if (faults.latencyMs > 0) await new Promise<void>((resolve) => this.after(faults.latencyMs, resolve));
    send(response, answer);
  }

  private answer(
    request: IncomingMessage,
    match: RouteMatch | null,
    url: URL,
    rawBody: string,
    receivedAt: number,
    faults: ActiveFaults,
  ): ApiAnswer {
    if (faults.outage === 'unavailable') {
      return errorAnswer(503, 'SERVICE_UNAVAILABLE', 'HubSpot is temporarily unavailable. Please try again later.');
    }
    if (this.deps.random.chance(faults.serverErrorRate)) {
      const status = this.deps.random.pick([500, 502, 503] as const);
      return errorAnswer(status, 'INTERNAL_ERROR', `Internal error (simulated ${status}).`);
    }
    const authorization = request.headers.authorization;
    if (authorization !== `Bearer ${this.deps.accessToken}`) {
      return errorAnswer(
        401,
        'INVALID_AUTHENTICATION',
        authorization
          ? 'Authentication credentials not valid: the access token is not recognised.'
          : 'Authentication credentials not found. This API supports OAuth 2.0 and private app access tokens.',
      );
    }
    if (!match) return errorAnswer(404, 'OBJECT_NOT_FOUND', `No API at ${request.method} ${url.pathname}`);
    const isSearch = match.route.isSearch;
    if (faults.rateLimitStorm) {
      const headers = isSearch ? {} : { ...this.deps.limits.headers(receivedAt), 'X-HubSpot-RateLimit-Remaining': '0' };
      return rateLimitAnswer('TEN_SECONDLY_ROLLING', headers);
    }
    let rateHeaders: Record<string, string> = {};
    if (isSearch) {
      const admission = this.deps.limits.admitSearch(receivedAt);
      if (!admission.admitted) {
        this.deps.ledger.recordRateLimited();
        return rateLimitAnswer(admission.policyName);
      }
    } else {
      const admission = this.deps.limits.admit(receivedAt);
      if (!admission.admitted) {
        this.deps.ledger.recordRateLimited();
        return rateLimitAnswer(admission.policyName, admission.headers);
      }
      rateHeaders = admission.headers;
    }
    const body = parseJson(rawBody);
    const answer = body.ok
      ? match.route.handle({
          method: request.method ?? 'GET',
          params: match.params,
          query: url.searchParams,
          body: body.value,
          baseUrl: this.baseUrl,
          receivedAt,
        })
      : validationAnswer(`Invalid input JSON: ${body.reason}`);
    return { ...answer, headers: { ...rateHeaders, ...answer.headers } };
  }

  private after(delayMs: number, run: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      run();
    }, delayMs);
    this.timers.add(timer);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    // A client that hangs up mid-body gets no answer anyway.
    request.on('error', () => resolve(''));
  });
}

function parseJson(raw: string): { ok: true; value: unknown } | { ok: false; reason: string } {
  if (raw.trim() === '') return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(raw) as unknown };
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : String(error) };
  }
}

function send(response: ServerResponse, answer: ApiAnswer): void {
  if (response.destroyed || response.headersSent) return;
  const headers: Record<string, string> = { ...answer.headers };
  if (answer.body === undefined) {
    response.writeHead(answer.status, headers).end();
    return;
  }
  const payload = JSON.stringify(answer.body);
  headers['Content-Type'] = 'application/json;charset=utf-8';
  headers['Content-Length'] = String(Buffer.byteLength(payload));
  response.writeHead(answer.status, headers).end(payload);
}
