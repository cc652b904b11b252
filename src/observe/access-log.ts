// vmauth's access log line (`access_log request_host=… request_uri=… status_code=… …`), with
// secrets removed: credential-looking query args are masked (the list in ./secrets.ts), and no
// header value is logged except User-Agent and Referer.
import type { IncomingMessage } from 'node:http';
import type { Logger } from './logger.ts';
import { clientIp, clientPort } from '../listen/client-address.ts';
import { addSecretName, redactHeaders, redactUri } from './secrets.ts';

/** Headers configured with -httpAuthHeader carry credentials too. */
export const httpAuthHeaders = {
  add(name: string): void { addSecretName(name); },
};

export { redactHeaders, redactUri };

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
