// The built-in endpoints vmauth serves itself instead of proxying: /health, /ping, /metrics,
// /flags, /-/reload, /-/healthy, /-/ready, /robots.txt, favicon. Secure by default: without
// -reloadAuthKey / -flagsAuthKey, /-/reload and /flags answer only loopback clients.
import { timingSafeEqual, createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { clientIp } from './client-address.ts';
import { parseQuery } from '../lib/go-url.ts';
import type { Metrics } from '../observe/metrics.ts';
import { sendText } from '../gateway/respond.ts';

export interface InternalRoutesOptions {
  readonly metrics: Metrics;
  readonly metricsAuthKey: string;
  readonly reloadAuthKey: string;
  readonly flagsAuthKey: string;
  /** -httpAuth.username / -httpAuth.password: Basic auth for endpoints whose auth key is unset. */
  readonly basicAuth: { readonly username: string; readonly password: string } | null;
  readonly describeFlags: () => string[];
  readonly reload: () => Promise<boolean>;
  /** Epoch ms until which /health reports the shutdown delay, or 0. */
  readonly shutdownDeadline: () => number;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

function keyMatches(given: string | undefined, expected: string): boolean {
  return given !== undefined && timingSafeEqual(digest(given), digest(expected));
}

/**
 * The client's address as the PROXY protocol header gave it, not the TCP peer: behind a
 * same-host proxy every connection comes from loopback.
 */
function isLoopback(req: IncomingMessage): boolean {
  const ip = clientIp(req);
  return ip === '::1' || ip.startsWith('127.');
}

/** Checks `authKey`; without a configured key, `loopbackOnly` endpoints answer only local clients. */
function basicAuthMatches(req: IncomingMessage, expected: { readonly username: string; readonly password: string }): boolean {
  const h = req.headers.authorization ?? '';
  const want = `Basic ${Buffer.from(`${expected.username}:${expected.password}`).toString('base64')}`;
  return timingSafeEqual(digest(h), digest(want));
}

function authorized(req: IncomingMessage, res: ServerResponse, key: string, flagName: string, loopbackOnly: boolean, o: InternalRoutesOptions): boolean {
  const metrics = o.metrics;
  if (key === '' && o.basicAuth !== null) {
    if (basicAuthMatches(req, o.basicAuth)) return true;
    metrics.requestError('internal_auth');
    sendText(res, 401, 'Unauthorized', { 'www-authenticate': 'Basic realm="tenantgate"' });
    return false;
  }
  if (key === '') {
    if (!loopbackOnly || isLoopback(req)) return true;
    metrics.requestError('internal_auth');
    sendText(res, 401, `set -${flagName} to use this endpoint from a non-loopback address`);
    return false;
  }
  const q = (req.url ?? '').indexOf('?');
  const given = q < 0 ? undefined : parseQuery((req.url ?? '').slice(q + 1)).get('authKey')?.[0];
  if (keyMatches(given, key)) return true;
  metrics.requestError('internal_auth');
  sendText(res, 401, `The provided authKey doesn't match -${flagName}`);
  return false;
}

const INTERNAL_PATHS: ReadonlySet<string> = new Set(['/health', '/ping', '/-/healthy', '/-/ready', '/robots.txt', '/metrics', '/flags', '/-/reload']);

/**
 * Cheap pre-check on the raw request target (no decoding): could this be a built-in endpoint?
 * Proxied requests skip the full parse here and are parsed once, by the gateway.
 */
export function mayBeInternal(url: string): boolean {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  return INTERNAL_PATHS.has(path) || path.endsWith('/favicon.ico') || path.indexOf('%') >= 0 || path.indexOf('/.') >= 0 || path.indexOf('//') >= 0;
}

/** Returns true when the request was one of the built-in endpoints and has been answered. */
export function handleInternal(path: string, req: IncomingMessage, res: ServerResponse, o: InternalRoutesOptions): boolean {
  if (path.endsWith('/favicon.ico')) { res.writeHead(204, { 'cache-control': 'max-age=3600' }); res.end(); return true; }
  switch (path) {
    case '/health': {
      const left = o.shutdownDeadline() - Date.now();
      if (o.shutdownDeadline() > 0) sendText(res, 503, `The server is in delayed shutdown mode, which will end in ${(Math.max(left, 0) / 1000).toFixed(3)}s`);
      else { res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }); res.end('OK'); }
      return true;
    }
    case '/ping': res.writeHead(204); res.end(); return true;
    case '/-/healthy': res.writeHead(200); res.end('tenantgate is Healthy.\n'); return true;
    case '/-/ready': res.writeHead(200); res.end('tenantgate is Ready.\n'); return true;
    case '/robots.txt': res.writeHead(200, { 'content-type': 'text/plain' }); res.end('User-agent: *\nDisallow: /\n'); return true;
    case '/metrics':
      if (!authorized(req, res, o.metricsAuthKey, 'metricsAuthKey', false, o)) return true;
      o.metrics.render().then((text) => {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
        res.end(text);
      }, (err: Error) => sendText(res, 500, `cannot render metrics: ${err.message}`));
      return true;
    case '/flags':
      if (!authorized(req, res, o.flagsAuthKey, 'flagsAuthKey', true, o)) return true;
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(o.describeFlags().join('\n') + '\n');
      return true;
    case '/-/reload':
      if (!authorized(req, res, o.reloadAuthKey, 'reloadAuthKey', true, o)) return true;
      o.metrics.inc('vmauth_http_requests_total{path="/-/reload"}');
      o.reload().then((ok) => {
        if (ok) { res.writeHead(200); res.end(); } else sendText(res, 400, 'config reload failed; the previous config stays in use (see the log for the error)');
      }, (err: Error) => sendText(res, 500, err.message));
      return true;
    default:
      return false;
  }
}
