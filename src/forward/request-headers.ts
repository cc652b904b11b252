// The header list sent to a backend: the client's headers minus hop-by-hop ones, X-Forwarded-For
// extended with the client IP, `User-Agent: vmauth` (what backends behind vmauth see), then the
// route's `headers` (set, or remove when empty).
import type { IncomingMessage } from 'node:http';
import type { HeaderOp } from '../config/model.ts';
import { connectionTokens, HOP_BY_HOP } from './hop-by-hop.ts';

export interface RequestHeaderOptions {
  readonly clientIp: string;
  readonly removeXffValue: boolean;
  readonly host: string;
  /** The body is sent from memory: undici sets Content-Length itself, so the client's must go. */
  readonly bodyInMemory: boolean;
}

export function buildRequestHeaders(req: IncomingMessage, ops: readonly HeaderOp[], opts: RequestHeaderOptions): string[] {
  const raw = req.rawHeaders;
  const conn = connectionTokens(req.headers.connection);
  const out: string[] = ['host', opts.host];
  let xff = '';
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || lower === 'host' || lower === 'expect' || lower === 'user-agent') continue;
    if (opts.bodyInMemory && lower === 'content-length') continue;
    if (lower === 'x-forwarded-for') { xff = xff === '' ? (raw[i + 1] as string) : `${xff}, ${raw[i + 1] as string}`; continue; }
    if (conn !== null && conn.has(lower)) continue;
    if (ops.length > 0 && ops.some((o) => o.lower === lower)) continue;
    out.push(name, raw[i + 1] as string);
  }
  const hasOp = (lower: string) => ops.length > 0 && ops.some((o) => o.lower === lower);
  if (!hasOp('x-forwarded-for')) {
    out.push('x-forwarded-for', xff !== '' && !opts.removeXffValue ? `${xff}, ${opts.clientIp}` : opts.clientIp);
  }
  if (!hasOp('user-agent')) out.push('user-agent', 'vmauth');
  for (const o of ops) if (o.value !== '') out.push(o.name, o.value);
  return out;
}
