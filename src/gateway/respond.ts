// Plain-text error responses in the shape Go's http.Error writes them (vmauth's), each counted
// by its reason from the error catalogue.
import type { ServerResponse } from 'node:http';
import { REFUSALS, type RefusalCode } from '../errors/catalogue.ts';
import type { Metrics } from '../observe/metrics.ts';
import type { TenantRefusal } from '../enforce/tenant/policy.ts';
import { refusalBody } from '../enforce/tenant/refusal.ts';

export function refuse(res: ServerResponse, metrics: Metrics, code: RefusalCode, message: string, extraHeaders?: Record<string, string>): number {
  const { status, reason } = REFUSALS[code];
  metrics.requestError(reason);
  sendText(res, status, message, extraHeaders);
  return status;
}

export function sendText(res: ServerResponse, status: number, message: string, extraHeaders?: Record<string, string>): void {
  if (res.headersSent || res.destroyed) return;
  const body = message + '\n';
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'x-content-type-options': 'nosniff',
    'content-length': Buffer.byteLength(body),
    ...extraHeaders,
  });
  res.end(body);
}

/** A tenant policy's refusal, in the error format of the API the client called. */
export function sendTenantRefusal(res: ServerResponse, r: TenantRefusal): void {
  if (res.headersSent || res.destroyed) return;
  const { contentType, body } = refusalBody(r);
  res.writeHead(r.status, { 'content-type': contentType, 'x-content-type-options': 'nosniff', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
