// Builds the backend request path+query exactly as vmauth's mergeURLs does: the url_prefix
// path plus the (optionally shortened) request path; url_prefix query args win over client
// args of the same name unless the name is in merge_query_args, so a client can never
// override `extra_label`, `extra_filters` or any other arg the config pins.
import { encodeQuery, escapePath, parseQuery, queryEscape, type QueryValues } from '../lib/go-url.ts';
import type { BackendTarget } from '../forward/backend-set.ts';
import { dropPrefixParts, targetString, type RequestTarget } from './request-target.ts';

export function buildTargetPath(backend: BackendTarget, req: RequestTarget, dropParts: number, mergeArgs: ReadonlySet<string>): string {
  const src = dropParts > 0 ? dropPrefixParts(req.path, dropParts) : req.path;
  let base = backend.basePath;
  if (src.charCodeAt(0) === 47 && base.endsWith('/')) base = base.slice(0, -1);
  const path = escapePath(base + src) || '/';
  const query = req.rawQuery === '' ? backend.rawQuery : mergeQuery(backend, req.rawQuery, mergeArgs);
  return query === '' ? path : `${path}?${query}`;
}

function mergeQuery(backend: BackendTarget, rawQuery: string, mergeArgs: ReadonlySet<string>): string {
  const client = parseQuery(rawQuery);
  if (client.size === 0) return backend.rawQuery;
  const own = backend.query;
  // Go's Values.Encode order: keys sorted, each key's values in order (url_prefix's first).
  const keys = own.size === 0 ? [...client.keys()] : [...new Set([...own.keys(), ...client.keys()])];
  keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  let out = '';
  for (const k of keys) {
    const ek = queryEscape(k);
    const mine = own.get(k);
    if (mine !== undefined) for (const v of mine) out += (out === '' ? '' : '&') + ek + '=' + queryEscape(v);
    if (mine !== undefined && !mergeArgs.has(k)) continue;
    for (const v of client.get(k) ?? []) out += (out === '' ? '' : '&') + ek + '=' + queryEscape(v);
  }
  return out;
}

/** default_url: the backend URL unchanged, with the original request in `request_path`. */
export function buildDefaultUrlPath(backend: BackendTarget, req: RequestTarget): string {
  const q: QueryValues = new Map();
  for (const [k, v] of backend.query) q.set(k, [...v]);
  q.set('request_path', [targetString(req)]);
  return `${escapePath(backend.basePath) || '/'}?${encodeQuery(q)}`;
}
