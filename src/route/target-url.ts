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
  const own = pinnedArgs(backend, mergeArgs);
  const query = req.rawQuery === '' ? own.rawQuery : mergeQuery(own, req.rawQuery, mergeArgs);
  return query === '' ? path : `${path}?${query}`;
}

/**
 * Arg names vmselect reads as one list: every value of `extra_filters` and of `extra_filters[]`
 * is ORed (searchutil.GetExtraTagFilters), and for each name the URL's values are used, or the
 * urlencoded form body's when the URL has none. Pinning one name alone leaves the other open to
 * the client, in the URL or in a POST form, and one more ORed filter widens access.
 */
const ARG_FAMILIES: readonly (readonly string[])[] = [['extra_filters', 'extra_filters[]']];

interface PrefixArgs {
  readonly rawQuery: string;
  readonly query: QueryValues;
}

/** Completed prefix args per backend and merge_query_args set (both live as long as their config). */
const pinnedCache = new WeakMap<BackendTarget, WeakMap<ReadonlySet<string>, PrefixArgs>>();

/**
 * The url_prefix args with every pinned family complete: a name of the family the prefix does
 * not set gets the pinned values too (ORing a filter with itself selects the same series), so the
 * URL holds every name (the form fallback never applies) and client copies of every name lose.
 * A family with a name in merge_query_args is left as configured: the operator lets clients add.
 */
function pinnedArgs(backend: BackendTarget, mergeArgs: ReadonlySet<string>): PrefixArgs {
  const own = backend.query;
  if (own.size === 0) return backend;
  let completed: QueryValues | null = null;
  for (const family of ARG_FAMILIES) {
    let values: string[] | undefined;
    let missing = false;
    let merged = false;
    for (const name of family) {
      const v = own.get(name);
      if (v === undefined) missing = true; else values ??= v;
      if (mergeArgs.has(name)) merged = true;
    }
    if (values === undefined || !missing || merged) continue;
    if (completed === null) {
      const hit = pinnedCache.get(backend)?.get(mergeArgs);
      if (hit !== undefined) return hit;
      completed = new Map([...own].map(([k, v]) => [k, [...v]]));
    }
    for (const name of family) if (!completed.has(name)) completed.set(name, [...values]);
  }
  if (completed === null) return backend;
  const out = { rawQuery: encodeQuery(completed), query: completed };
  let perMerge = pinnedCache.get(backend);
  if (perMerge === undefined) { perMerge = new WeakMap(); pinnedCache.set(backend, perMerge); }
  perMerge.set(mergeArgs, out);
  return out;
}

function mergeQuery(backend: PrefixArgs, rawQuery: string, mergeArgs: ReadonlySet<string>): string {
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
