// Path refusals applied after routing, before anything reaches a backend:
//  - `deny_paths` of a url_map entry (vmauth ≥ 1.152): the entry matched, but this path is
//    excluded from it; refused with 403 and no fall-through to later entries;
//  - secure defaults for vmauth-style tenants: a route whose url_prefix pins `extra_label` or
//    `extra_filters` is a tenant, so the known endpoints that VictoriaMetrics / VictoriaLogs do
//    NOT scope by those args, and every admin/debug/snapshot/internal/delete path, are refused.
// This is a deny-list of known-unsafe paths, not the fail-closed allow-list of `tenant:`: the
// backend behind a vmauth-style user may be anything, and every other path is proxied as vmauth
// proxies it. `-tenantDefaults=vmauth` turns the second part off (exact vmauth behaviour).
import type { WholeMatcher } from '../lib/regex.ts';
import { dropPrefixParts } from '../route/request-target.ts';

/** `-tenantDefaults`: `secure` refuses unscoped endpoints for pinned users; `vmauth` does not. */
export type TenantDefaults = 'secure' | 'vmauth';

/** Query args whose presence in a url_prefix makes its user a tenant. */
export const PINNING_ARGS = ['extra_label', 'extra_filters', 'extra_filters[]'] as const;

/**
 * Client headers that select a tenant on VictoriaMetrics cluster (≥ 1.150 by default, including
 * `AccountID: multitenant`) and VictoriaLogs. A tenant-scoped route never forwards the client's.
 */
export const TENANT_SELECTING_HEADERS = ['AccountID', 'ProjectID'] as const;

export type GuardReason = 'path_denied' | 'tenant_unscoped_endpoint' | 'tenant_admin_endpoint';

export interface GuardRefusal {
  readonly reason: GuardReason;
  readonly message: string;
}

/** What makes a route a vmauth-style tenant: the pinned args, for messages and the start-up log. */
export interface PinnedTenant {
  /** e.g. `extra_label=tenant=a`, as written in url_prefix. */
  readonly args: readonly string[];
  /** Decoded url_prefix paths of the route's backends (the request path is appended to these). */
  readonly basePaths: readonly string[];
  readonly dropParts: number;
}

export interface RouteGuard {
  /** url_map `deny_paths`, matched like `src_paths` (whole path, with or without trailing slash). */
  readonly denyPaths: readonly WholeMatcher[];
  /** Set when secure defaults protect this route as a tenant. */
  readonly tenant: PinnedTenant | null;
}

// Admin, debug, snapshot, internal and delete endpoints of VictoriaMetrics (single, vmselect,
// vminsert, vmstorage, vmagent) and VictoriaLogs. Matched on the path after any
// `/select|insert/<tenant>` and `/prometheus|/graphite` prefix.
const ADMIN = new RegExp('^/(?:' + [
  'api/v1/admin(?:/.*)?', 'admin(?:/.*)?', 'snapshot(?:/.*)?', 'debug(?:/.*)?', 'internal(?:/.*)?', 'delete(?:/.*)?', '-/.*',
  'force_merge', 'force_flush', 'reset_rollup_result_cache', 'resetRollupResultCache',
  'tags/delSeries', 'api/v1/status/metric_names_stats', 'flags',
  'metric-relabel-debug', 'target-relabel-debug',
].join('|') + ')/?$');

// Endpoints that answer for every tenant because they ignore extra_label / extra_filters
// (checked against VictoriaMetrics' handlers: none of these reads the extra filters), or that
// write series without them.
const UNSCOPED = new RegExp('^/(?:' + [
  'api/v1/status/(?:top_queries|active_queries|config|remotewrite-relabel-config|remotewrite-url-relabel-config)',
  'api/v1/series/count', 'api/v1/metadata',
  'metrics/(?:find|expand|index\\.json)',
  // Graphite tags: /tags and /tags/<name> list every tag; autoComplete and findSeries honour the filters.
  'tags', 'tags/(?!autoComplete/tags/?$|autoComplete/values/?$|findSeries/?$)[^/]+',
  'api/v1/targets', 'targets', 'service-discovery', 'target_response', 'config',
  'remotewrite-relabel-config', 'remotewrite-url-relabel-config',
  'api/v1/rules', 'rules', 'api/v1/alerts', 'alerts', 'api/v1/notifiers', 'notifiers', 'vmalert(?:/.*)?',
  // VictoriaLogs: the list of every tenant.
  'select/tenant_ids',
].join('|') + ')/?$');

const CLUSTER_PART = /^\/(select|insert|delete)\/([^/]+)(\/.*)?$/;

/** Paths the backend may serve the request path as, with known routing prefixes removed. */
function candidates(path: string): string[] {
  const out = [path];
  const m = CLUSTER_PART.exec(path);
  if (m !== null) out.push(m[3] ?? '/');
  for (const p of [...out]) {
    if (p.startsWith('/prometheus/')) out.push(p.slice('/prometheus'.length));
    else if (p.startsWith('/graphite/')) out.push(p.slice('/graphite'.length));
  }
  return out;
}

/** The path the backend will receive: url_prefix path + request path after drop_src_path_prefix_parts. */
function backendPath(basePath: string, path: string, dropParts: number): string {
  const src = dropParts > 0 ? dropPrefixParts(path, dropParts) : path;
  let base = basePath;
  if (base.endsWith('/') && src.startsWith('/')) base = base.slice(0, -1);
  const joined = base + src;
  return joined.startsWith('/') ? joined : '/' + joined;
}

/** Why a pinned tenant may not call this backend path, or null when it may. */
export function unsafeForTenant(path: string): GuardRefusal | null {
  const m = CLUSTER_PART.exec(path);
  if (m !== null && m[1] === 'delete') return admin(path);
  if (m !== null && m[2] === 'multitenant') {
    return { reason: 'tenant_unscoped_endpoint', message: `${path} reads or writes every VictoriaMetrics tenant at once; refused for a tenant-scoped user` };
  }
  for (const c of candidates(path)) {
    if (ADMIN.test(c)) return admin(path);
    if (UNSCOPED.test(c)) {
      return { reason: 'tenant_unscoped_endpoint', message: `${path} is not scoped by extra_label/extra_filters and would answer for every tenant; refused for a tenant-scoped user` };
    }
  }
  return null;
}

function admin(path: string): GuardRefusal {
  return { reason: 'tenant_admin_endpoint', message: `${path} is an admin/debug endpoint; refused for a tenant-scoped user` };
}

/** Checks a routed request path (normalised, before drop_src_path_prefix_parts) against a route's guard. */
export function checkRouteGuard(guard: RouteGuard, path: string): GuardRefusal | null {
  if (guard.denyPaths.length > 0) {
    const alt = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path + '/';
    for (const d of guard.denyPaths) {
      if (d.test(path) || d.test(alt)) return { reason: 'path_denied', message: `access to ${path} is denied by deny_paths` };
    }
  }
  const t = guard.tenant;
  if (t === null) return null;
  for (const base of t.basePaths) {
    const r = unsafeForTenant(backendPath(base, path, t.dropParts));
    if (r !== null) return r;
  }
  return null;
}

/** The pinning args of a url_prefix query (name=value as configured), empty when it pins none. */
export function pinningArgs(query: ReadonlyMap<string, readonly string[]>): string[] {
  const out: string[] = [];
  for (const name of PINNING_ARGS) for (const v of query.get(name) ?? []) out.push(`${name}=${v}`);
  return out;
}
