import { createServer } from 'node:net';

/** Below Linux's ephemeral range (32768 and up), where outgoing connections take their local ports. */
const PORT_RANGE = { from: 20_000, to: 32_000 } as const;

/**
 * A port no process listens on now, drawn at random from a wide range and checked by listening on
 * it: stacks started side by side (a test run and a benchmark) drew from one small range before, and
 * a service that lost the race for its port looked ready through the other stack's service on it. The
 * range lies below the ephemeral ports, so that the port is still free when the service restarts: a
 * port the system handed out could meanwhile serve as an outgoing connection's local port.
 */
/**
 * Ports already handed out by this process: a service given one may not listen on it yet (a port
 * chosen ahead for a webhook URL), or be down between a kill and its restart, and a second service
 * drawn the same port would take it for good.
 */
const handedOut = new Set<number>();

export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const port = PORT_RANGE.from + Math.floor(Math.random() * (PORT_RANGE.to - PORT_RANGE.from));
    if (handedOut.has(port) || !(await canListen(port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error(`no free port found between ${PORT_RANGE.from} and ${PORT_RANGE.to}`);
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, () => server.close(() => resolve(true)));
  });
}
