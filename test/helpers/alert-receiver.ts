import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What a receiver does with a request: answer 200 (or another status), or never answer. */
export type ReceiverBehaviour = { status: number; headers?: Record<string, string> } | 'hang';

export interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The status answered, or null when the request was left hanging. */
  answered: number | null;
  at: number;
}

/**
 * A webhook receiver on a loopback port, for tests: records every request, and answers each path
 * by its script (one behaviour per request, in order; 200 once the script runs out).
 */
export class AlertReceiver {
  readonly requests: ReceivedRequest[] = [];
  readonly #scripts = new Map<string, ReceiverBehaviour[]>();
  readonly #hanging = new Set<ServerResponse>();
  #server: Server | null = null;
  #url = '';

  /** Answer the next requests to `path` like this, in order. */
  script(path: string, behaviours: ReceiverBehaviour[]): void {
    this.#scripts.set(path, [...behaviours]);
  }

  async start(): Promise<string> {
    this.#server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const path = request.url ?? '/';
        const behaviour = this.#scripts.get(path)?.shift() ?? { status: 200 };
        const received: ReceivedRequest = {
          path,
          headers: request.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          answered: behaviour === 'hang' ? null : behaviour.status,
          at: Date.now(),
        };
        this.requests.push(received);
        if (behaviour === 'hang') {
          this.#hanging.add(response);
          return;
        }
        response.writeHead(behaviour.status, { 'content-type': 'text/plain', ...behaviour.headers });
        response.end(behaviour.status < 300 ? 'ok' : 'receiver error');
      });
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    this.#url = `http://127.0.0.1:${(this.#server!.address() as AddressInfo).port}`;
    return this.#url;
  }

  get url(): string {
    return this.#url;
  }

  /** Requests to `path` the receiver accepted (2xx), their bodies parsed. */
  accepted(path: string): { request: ReceivedRequest; body: unknown }[] {
    return this.requests
      .filter((r) => r.path === path && r.answered !== null && r.answered < 300)
      .map((r) => ({ request: r, body: JSON.parse(r.body) as unknown }));
  }

  async stop(): Promise<void> {
    for (const response of this.#hanging) response.destroy();
    this.#server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }
}

/** Wait until `check` holds (real time), or fail with what it last saw. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== null && value !== false) return value;
      last = value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${String(last)})`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
