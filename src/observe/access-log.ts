// vmauth's access log line (`access_log request_host=… request_uri=… status_code=… …`), with
// secrets removed: credential-looking query args are masked, and no header value is logged
// except User-Agent and Referer.
import type { IncomingMessage } from 'node:http';
import type { Logger } from './logger.ts';
import { clientIp, clientPort } from '../listen/client-address.ts';

const SECRET_ARG = /(^|_|-|\b)(auth_?key|authkey|password|passwd|pass|token|access_token|id_token|secret|api_?key|apikey|signature|sig|credential|credentials)$/i;
const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key', 'x-auth-token']);

/** Masks the values of query args whose names look like credentials. */
export function redactUri(uri: string): string {
  const q = uri.indexOf('?');
  if (q < 0) return uri;
  const parts = uri.slice(q + 1).split('&').map((p) => {
    const eq = p.indexOf('=');
    if (eq < 0) return p;
    let name = p.slice(0, eq);
    try { name = decodeURIComponent(name.replace(/\+/g, ' ')); } catch { /* keep raw */ }
    return SECRET_ARG.test(name) ? `${p.slice(0, eq)}=***` : p;
  });
  return uri.slice(0, q + 1) + parts.join('&');
}

export function redactHeaders(raw: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const lower = name.toLowerCase();
    const secret = SECRET_HEADERS.has(lower) || httpAuthHeaders.has(lower);
    out.push(`${name}: ${secret ? '***' : raw[i + 1] as string}`);
  }
  return out;
}

/** Headers configured with -httpAuthHeader carry credentials too. */
export const httpAuthHeaders = new Set<string>();

/** `reason`: why tenantgate refused the request itself (e.g. `rate_limited:requests`), when it did. */
export function logAccess(log: Logger, req: IncomingMessage, status: number, durationMs: number, username: string, reason?: string): void {
  const remote = `${clientIp(req)}:${clientPort(req)}`;
  const xff = req.headers['x-forwarded-for'];
  log.info('access_log', {
    request_host: req.headers.host ?? '',
    request_uri: redactUri(req.url ?? ''),
    status_code: status,
    remote_addr: xff !== undefined ? `${remote}, X-Forwarded-For: ${String(xff)}` : remote,
    user_agent: req.headers['user-agent'] ?? '',
    referer: req.headers.referer ?? '',
    duration_ms: Math.round(durationMs),
    username,
    ...(reason !== undefined ? { reason } : {}),
  });
}
