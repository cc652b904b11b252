// Splits and normalises the request target the way vmauth sees it: Go decodes the path, then
// vmauth cleans it (no `.`/`..` segments, no `//`), keeps a trailing slash, and treats `/` as
// empty. Routing rules match this normalised path, so `/%2e%2e/admin` or `//admin` cannot
// slip past a `src_paths` rule.
import { posix } from 'node:path';
import { escapePath, unescape } from '../lib/go-url.ts';

export interface RequestTarget {
  /** Decoded, cleaned path; '' for `/`. */
  readonly path: string;
  /** The raw query string without `?`. */
  readonly rawQuery: string;
}

/** Returns null when the target cannot be decoded (Go's server answers 400 then). */
export function parseRequestTarget(url: string): RequestTarget | null {
  let u = url;
  if (u.charCodeAt(0) !== 47 /* / */) {
    // absolute-form (`GET http://host/path`), sent to proxies
    const m = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*/.exec(u);
    if (m === null) return null;
    u = u.slice(m[0].length);
  }
  const q = u.indexOf('?');
  const rawPath = q < 0 ? u : u.slice(0, q);
  const rawQuery = q < 0 ? '' : u.slice(q + 1);
  const decoded = unescape(rawPath, false);
  if (decoded === null) return null;
  return { path: cleanPath(decoded), rawQuery };
}

export function cleanPath(decoded: string): string {
  // Fast path: nothing to clean in the common `/api/v1/query` shape.
  if (decoded.length > 1 && decoded.charCodeAt(0) === 47 && !/\/\.{1,2}(\/|$)|\/\//.test(decoded)) return decoded;
  let p = posix.normalize(decoded === '' ? '/' : decoded);
  if (p === '.' || p === './') p = '/';
  if (p.charCodeAt(0) !== 47) p = '/' + p;
  return p === '/' ? '' : p;
}

/** vmauth's drop_src_path_prefix_parts: drops that many `/`-delimited leading parts. */
export function dropPrefixParts(path: string, parts: number): string {
  let p = path;
  for (let i = 0; i < parts; i++) {
    if (p.charCodeAt(0) === 47) p = p.slice(1);
    const n = p.indexOf('/');
    if (n < 0) return '';
    p = p.slice(n);
  }
  return p;
}

/** The normalised URL as Go's url.String() prints it (used for `request_path` and messages). */
export function targetString(t: RequestTarget): string {
  return escapePath(t.path) + (t.rawQuery !== '' ? '?' + t.rawQuery : '');
}
