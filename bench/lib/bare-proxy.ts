// The floor: the least a Node reverse proxy can do on this platform — node:http in, undici
// `dispatch` out over a keep-alive pool, no authentication, routing, limits or metrics. Whatever
// tenantgate costs above this row is its own code; whatever this row costs is the platform.
// Usage: node bench/lib/bare-proxy.ts <port> <backend origin>
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Pool, type Dispatcher } from 'undici';

const [portArg, origin] = process.argv.slice(2);
if (portArg === undefined || origin === undefined) throw new Error('usage: bare-proxy.ts <port> <backend origin>');

const pool = new Pool(origin, { connections: 128, pipelining: 1 });
const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authorization', 'proxy-connection', 'host']);

function forward(req: IncomingMessage, res: ServerResponse): void {
  const headers: string[] = [];
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) if (!HOP.has((raw[i] as string).toLowerCase())) headers.push(raw[i] as string, raw[i + 1] as string);
  const handler: Dispatcher.DispatchHandler = {
    onRequestStart() {},
    onResponseStart(_c, status, h) {
      const out: Record<string, string | string[]> = {};
      for (const k in h) if (!HOP.has(k) && h[k] !== undefined) out[k] = h[k] as string | string[];
      res.writeHead(status, out);
    },
    onResponseData(c, chunk) { if (!res.write(chunk)) { c.pause(); res.once('drain', () => c.resume()); } },
    onResponseEnd() { res.end(); },
    onResponseError(_c, err) { if (res.headersSent) res.destroy(err); else { res.statusCode = 502; res.end(String(err.message)); } },
  };
  const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
  pool.dispatch({ method: req.method ?? 'GET', path: req.url ?? '/', headers, body: hasBody ? req : null }, handler);
}

createServer({ keepAliveTimeout: 60_000 }, forward).listen(Number(portArg), '127.0.0.1');
