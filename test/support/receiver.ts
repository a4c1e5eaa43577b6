import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';

export interface Received {
  headers: IncomingMessage['headers'];
  body: string;
  at: number;
}

/** What the receiver does with a request: answer with a status (after a delay), redirect, or never answer. */
export type Behaviour = { status: number; delayMs?: number } | { redirect: string } | { hang: true };

/**
 * A real HTTP receiver for webhook deliveries, started and stopped by a test. It records every
 * request and answers as told: by default 200; `next` queues behaviours for the coming requests.
 */
export class Receiver {
  readonly received: Received[] = [];
  private readonly queue: Behaviour[] = [];
  private readonly hanging: ServerResponse[] = [];
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(path = '/hooks'): Promise<Receiver> {
    const handlers: { handle?: (req: IncomingMessage, res: ServerResponse) => void } = {};
    const server = createServer((req, res) => handlers.handle!(req, res));
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const { port } = server.address() as AddressInfo;
    const receiver = new Receiver(server, `http://127.0.0.1:${port}${path}`);
    handlers.handle = (req, res) => receiver.handle(req, res);
    return receiver;
  }

  next(...behaviours: Behaviour[]): void {
    this.queue.push(...behaviours);
  }

  /** Waits until `n` requests have arrived (or fails after `ms`). */
  async waitFor(n: number, ms = 15_000): Promise<Received[]> {
    const deadline = Date.now() + ms;
    while (this.received.length < n) {
      if (Date.now() > deadline) throw new Error(`the receiver got ${this.received.length} of ${n} requests`);
      await new Promise((r) => setTimeout(r, 25));
    }
    return this.received;
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((done) => this.server.close(() => done()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      this.received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
      const behaviour = this.queue.shift() ?? { status: 200 };
      if ('hang' in behaviour) return void this.hanging.push(res);
      if ('redirect' in behaviour) {
        res.writeHead(302, { location: behaviour.redirect }).end();
        return;
      }
      setTimeout(
        () => res.writeHead(behaviour.status, { 'content-type': 'text/plain' }).end('ok'),
        behaviour.delayMs ?? 0,
      );
    });
  }
}
