// The built-in endpoints vmauth serves itself instead of proxying: /health, /ping, /metrics,
// /flags, /-/reload, /-/healthy, /-/ready, /robots.txt, favicon. Secure by default: without
// -reloadAuthKey / -flagsAuthKey, /-/reload and /flags answer only loopback clients.
import { timingSafeEqual, createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { clientIp } from './client-address.ts';
import { parseQuery } from '../lib/go-url.ts';
import type { Metrics } from '../observe/metrics.ts';
import { sendText } from '../gateway/respond.ts';
import type { ExplainInput, Explanation } from '../explain/explain-request.ts';
import { renderExplanation } from '../explain/render.ts';
import { escapeHtml, page, STATUS_CSP } from '../observe/status-page.ts';

export interface InternalRoutesOptions {
  readonly metrics: Metrics;
  readonly metricsAuthKey: string;
  readonly reloadAuthKey: string;
  readonly flagsAuthKey: string;
  /** -statusAuthKey: the status page and /-/explain. */
  readonly statusAuthKey: string;
  /** The status page's HTML for the given query args. */
  readonly status: (query: URLSearchParams) => string;
  /** What the gateway would do with a request (tenantgate explain). */
  readonly explain: (input: ExplainInput) => Promise<Explanation>;
  /** -httpAuth.username / -httpAuth.password: Basic auth for endpoints whose auth key is unset. */
  readonly basicAuth: { readonly username: string; readonly password: string } | null;
  readonly describeFlags: () => string[];
  /** Reload the config; the argument is the requesting client's IP, for the log and audit trail. */
  readonly reload: (clientIp: string) => Promise<boolean>;
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

const INTERNAL_PATHS: ReadonlySet<string> = new Set(['/health', '/ping', '/-/healthy', '/-/ready', '/robots.txt', '/metrics', '/flags', '/-/reload', '/status', '/-/explain']);

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
  // vmauth answers 200 with VictoriaMetrics' icon; tenantgate ships no icon, so the body is empty.
  if (path.endsWith('/favicon.ico')) { res.writeHead(200, { 'cache-control': 'max-age=3600', 'content-length': 0 }); res.end(); return true; }
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
      o.reload(clientIp(req)).then((ok) => {
        if (ok) { res.writeHead(200); res.end(); } else sendText(res, 400, 'config reload failed; the previous config stays in use (see the log for the error)');
      }, (err: Error) => sendText(res, 500, err.message));
      return true;
    case '/status': {
      if (!authorized(req, res, o.statusAuthKey, 'statusAuthKey', true, o)) return true;
      const html = o.status(queryOf(req));
      res.writeHead(200, { ...PAGE_HEADERS, 'content-length': Buffer.byteLength(html) });
      res.end(html);
      return true;
    }
    case '/-/explain':
      if (!authorized(req, res, o.statusAuthKey, 'statusAuthKey', true, o)) return true;
      serveExplain(req, res, o);
      return true;
    default:
      return false;
  }
}

const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': STATUS_CSP,
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
} as const;

/** Longest path-and-query /-/explain takes; more is refused before any work. */
const EXPLAIN_URL_MAX = 16 * 1024;

function queryOf(req: IncomingMessage): URLSearchParams {
  const u = req.url ?? '';
  const q = u.indexOf('?');
  return new URLSearchParams(q < 0 ? '' : u.slice(q + 1));
}

/**
 * GET /-/explain?user=NAME&method=GET&url=/api/v1/query?query=up[&header=K: V…][&format=json|text|html].
 * Credentials are never taken from query args (they would land in access logs): a user is named.
 */
function serveExplain(req: IncomingMessage, res: ServerResponse, o: InternalRoutesOptions): void {
  const q = queryOf(req);
  const url = q.get('url') ?? '';
  const method = (q.get('method') ?? 'GET').toUpperCase();
  const user = q.get('user') ?? '';
  const format = q.get('format') ?? 'json';
  if (!url.startsWith('/') || url.length > EXPLAIN_URL_MAX || !/^[A-Z]{1,16}$/.test(method) || user === '' || !['json', 'text', 'html'].includes(format)) {
    sendText(res, 400, `expected user=NAME, method=GET|POST|…, url=/path?query (at most ${EXPLAIN_URL_MAX} bytes) and format=json|text|html`);
    return;
  }
  const headers: [string, string][] = [];
  for (const h of q.getAll('header')) {
    const c = h.indexOf(':');
    if (c > 0) headers.push([h.slice(0, c).trim(), h.slice(c + 1).trim()]);
  }
  o.explain({ method, url, headers, body: null, userName: user }).then((e) => {
    if (format === 'json') {
      const body = JSON.stringify(e, null, 2) + '\n';
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
      res.end(body);
      return;
    }
    const text = renderExplanation(e, 'auth.config');
    if (format === 'text') { res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }); res.end(text); return; }
    const authKey = q.get('authKey');
    const back = `/status?${new URLSearchParams({ ...(authKey !== null ? { authKey } : {}), user, method, url }).toString()}#explain`;
    const html = page('tenantgate explain', `<h1>Explain</h1><p><a href="${escapeHtml(back)}">back to the status page</a></p><pre id="explanation" data-decision="${e.decision}">${escapeHtml(text)}</pre>`);
    res.writeHead(200, { ...PAGE_HEADERS, 'content-length': Buffer.byteLength(html) });
    res.end(html);
  }, (err: Error) => sendText(res, 500, `cannot explain: ${err.message}`));
}
