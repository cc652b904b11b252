// Request parameters as Go backends read them: URL query args plus, for POST/PUT/PATCH with an
// `application/x-www-form-urlencoded` body, the form (Go's Request.ParseForm). Both are parsed
// and re-encoded with Go's rules (src/lib/go-url.ts), so what the policy checks is what the
// backend reads. Bodies a backend could read parameters from but tenantgate does not rewrite
// (multipart forms) are refused rather than forwarded.
import type { IncomingHttpHeaders } from 'node:http';
import { encodeQuery, parseQuery, type QueryValues } from '../../lib/go-url.ts';
import type { TenantRequest } from './policy.ts';
import { BOUND_KEYS, checkReadValues, type TenantBounds } from './bounds.ts';
import { TenantRefused } from './refusal.ts';

export interface RequestParams {
  readonly url: QueryValues;
  /** The urlencoded form body, or null when the request has none. */
  readonly form: QueryValues | null;
}

/** The media type of Content-Type, lower-cased without parameters; '' when absent. */
export function mediaType(headers: IncomingHttpHeaders): string {
  const ct = headers['content-type'];
  if (ct === undefined) return '';
  const semi = ct.indexOf(';');
  return (semi < 0 ? ct : ct.slice(0, semi)).trim().toLowerCase();
}

const FORM_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/**
 * Parameters of a read request. A body is accepted only as a urlencoded form on POST/PUT/PATCH;
 * a multipart form (which Go's FormValue also reads) or any other body is refused, so no
 * parameter can reach the backend without passing through the policy.
 */
export function readParams(req: TenantRequest, bounds: TenantBounds): RequestParams {
  const body = req.body;
  const type = mediaType(req.headers);
  if (body === null || body.length === 0) {
    if (type.startsWith('multipart/')) throw new TenantRefused(415, 'tenant_body_unsupported', 'multipart bodies are not accepted on this endpoint; send parameters in the URL or as application/x-www-form-urlencoded');
    return checked({ url: parseQuery(req.rawQuery), form: null }, bounds);
  }
  if (!FORM_METHODS.has(req.method)) throw new TenantRefused(400, 'tenant_body_unsupported', `a ${req.method} request to this endpoint must not have a body`);
  if (type !== 'application/x-www-form-urlencoded') {
    throw new TenantRefused(415, 'tenant_body_unsupported', `this endpoint accepts parameters in the URL or as an application/x-www-form-urlencoded body, not ${type === '' ? 'a body without Content-Type' : type}`);
  }
  // The gateway stops reading at this bound already; checked again for callers that did not.
  if (body.length > bounds.maxReadBodyBytes) throw readBodyRefusal(bounds, body.length);
  return checked({ url: parseQuery(req.rawQuery), form: parseQuery(body.toString('utf8')) }, bounds);
}

export function readBodyRefusal(bounds: TenantBounds, size: number | null): TenantRefused {
  return new TenantRefused(413, 'tenant_bound_read_body',
    `the request body ${size === null ? 'is larger than' : `is ${size} bytes; the limit is`} ${bounds.maxReadBodyBytes} bytes (${BOUND_KEYS.maxReadBodyBytes}) on read endpoints; send fewer or shorter parameters`);
}

function checked(p: RequestParams, bounds: TenantBounds): RequestParams {
  checkReadValues(bounds, allValues(p, 'match[]'), allValues(p, 'query'));
  return p;
}

/** Refuses write bodies a Go backend would parse as a form (and so read query args from). */
export function checkWriteBody(req: TenantRequest): void {
  const type = mediaType(req.headers);
  if (type === 'application/x-www-form-urlencoded' || type.startsWith('multipart/')) {
    throw new TenantRefused(415, 'tenant_body_unsupported', `${type} bodies are not accepted on write endpoints`);
  }
}

/** Removes every value of `keys` from the URL args and the form. */
export function stripParams(p: RequestParams, keys: readonly string[]): void {
  for (const k of keys) {
    p.url.delete(k);
    p.form?.delete(k);
  }
}

/** All values of `key`, form values first (Go's Request.Form order), then URL values. */
export function allValues(p: RequestParams, key: string): string[] {
  return [...(p.form?.get(key) ?? []), ...(p.url.get(key) ?? [])];
}

export function encodeParams(p: RequestParams): { rawQuery: string; body?: Buffer } {
  const rawQuery = encodeQuery(p.url);
  return p.form === null ? { rawQuery } : { rawQuery, body: Buffer.from(encodeQuery(p.form), 'utf8') };
}

export function add(values: QueryValues, key: string, value: string): void {
  const list = values.get(key);
  if (list === undefined) values.set(key, [value]); else list.push(value);
}
