// A small HTTP backend on 127.0.0.1 that records every request it receives (method, raw URL,
// raw headers, body) and answers with a configurable status, headers and body.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  readonly method: string;
  readonly url: string;
  readonly rawHeaders: readonly string[];
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
  /** The body bytes exactly as received. */
  readonly raw: Buffer;
}

export interface EchoBackend {
  readonly url: string;
  readonly port: number;
  readonly received: Received[];
  /** Replaces the responder; default answers 200 with `backend <name>`. */
  respond(fn: (req: Received, res: ServerResponse) => void): void;
  header(name: string, index?: number): string | undefined;
  close(): Promise<void>;
}

export async function startEchoBackend(name = 'echo', port = 0): Promise<EchoBackend> {
  const received: Received[] = [];
  let responder = (_r: Received, res: ServerResponse) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'x-backend': name });
    res.end(`backend ${name}`);
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const r: Received = { method: req.method ?? '', url: req.url ?? '', rawHeaders: req.rawHeaders, headers: req.headers, body: raw.toString('utf8'), raw };
      received.push(r);
      responder(r, res);
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actual}`,
    port: actual,
    received,
    respond: (fn) => { responder = fn; },
    header(hname, index = received.length - 1) {
      const r = received[index];
      const v = r?.headers[hname.toLowerCase()];
      return Array.isArray(v) ? v.join(', ') : v;
    },
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
