// url_map matching: the first entry whose every given src_* list has a match wins (within a
// list, any entry may match); otherwise the user's own url_prefix; otherwise nothing.
import type { IncomingMessage } from 'node:http';
import { parseQuery, type QueryValues } from '../lib/go-url.ts';
import type { CompiledRoute, CompiledUser, HeaderMatcher, QueryArgMatcher, RouteOptions } from '../config/model.ts';
import type { WholeMatcher } from '../lib/regex.ts';

function anyMatch(list: readonly WholeMatcher[], v: string): boolean {
  if (list.length === 0) return true;
  for (const m of list) if (m.test(v)) return true;
  return false;
}

function anyQueryArg(list: readonly QueryArgMatcher[], args: QueryValues): boolean {
  if (list.length === 0) return true;
  for (const qa of list) {
    const vs = args.get(qa.name);
    if (vs === undefined) continue;
    for (const v of vs) if (qa.value.test(v)) return true;
  }
  return false;
}

function anyHeader(list: readonly HeaderMatcher[], rawHeaders: readonly string[]): boolean {
  if (list.length === 0) return true;
  // Raw header lines, not Node's joined values: `X-A: 1` and `X-A: 2` are two values, as in Go.
  for (const h of list) {
    for (let i = 0; i < rawHeaders.length; i += 2) {
      const name = rawHeaders[i] as string;
      if (name.length === h.lower.length && name.toLowerCase() === h.lower && rawHeaders[i + 1] === h.value) return true;
    }
  }
  return false;
}

export interface RouteMatch {
  readonly route: RouteOptions;
  readonly entry: CompiledRoute | null;
}

export function matchRoute(user: CompiledUser, path: string, rawQuery: string, req: IncomingMessage): RouteMatch | null {
  let query: QueryValues | undefined;
  const host = req.headers.host ?? '';
  for (const r of user.routes) {
    if (!anyMatch(r.srcHosts, host)) continue;
    if (!anyMatch(r.srcPaths, path)) continue;
    if (r.srcQueryArgs.length > 0) {
      query ??= parseQuery(rawQuery);
      if (!anyQueryArg(r.srcQueryArgs, query)) continue;
    }
    if (!anyHeader(r.srcHeaders, req.rawHeaders)) continue;
    return { route: r, entry: r };
  }
  return user.fallback !== null ? { route: user.fallback, entry: null } : null;
}
