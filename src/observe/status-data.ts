// Gathers what the status page shows from the live gateway: the config snapshot in use, each
// user's counters and limits, each route's backends and their health, and recent refusals.
import { urlWithoutQuery } from './secrets.ts';
import type { CompiledUser, RouteOptions } from '../config/model.ts';
import { describeTenantScope } from '../enforce/tenant/describe.ts';
import type { Gateway } from '../gateway/gateway.ts';
import { VERSION } from '../version.ts';
import { configDigest } from './audit-reload.ts';
import { labelString, type Metrics } from './metrics.ts';
import type { RateLimits } from '../limit/config.ts';
import type { RouteStatus, StatusData, UserStatus } from './status-page.ts';

export interface StatusState {
  readonly source: string;
  readonly startedAt: number;
  loadedAt: number;
  lastReload: { at: number; result: string; error: string } | null;
  readonly text: () => string;
}

export function collectStatus(gateway: Gateway, metrics: Metrics, state: StatusState, query: URLSearchParams, processLabel: string): StatusData {
  const config = gateway.config;
  const now = Date.now();
  const all = config.unauthorizedUser !== null ? [...config.users, config.unauthorizedUser] : config.users;
  const users: UserStatus[] = all.map((u, i) => {
    const rt = gateway.userRuntime(u);
    const path = u === config.unauthorizedUser ? 'unauthorized_user' : `users[${i}]`;
    return {
      name: u.kind === 'unauthorized' ? 'unauthorized_user' : u.logName,
      kind: u.kind,
      requests: rt?.stats.requests ?? 0,
      errors: rt?.stats.errors ?? 0,
      backendErrors: rt?.stats.backendErrors ?? 0,
      inFlight: rt?.stats.current ?? 0,
      capacity: rt?.limit.capacity ?? 0,
      limitReached: rt?.stats.limitReached ?? 0,
      rateLimits: describeLimits(u.limits),
      rateLimited: u.limits === null ? [] : LIMIT_NAMES.map((l) => [l, metrics.counter(`tenantgate_user_rate_limited_total${labelString({ ...u.metricLabels, limit: l })}`)] as const),
      routes: routesOf(u, path, now),
    };
  });
  const authKey = query.get('authKey');
  return {
    version: VERSION,
    process: `pid ${process.pid}${processLabel}`,
    now,
    startedAt: state.startedAt,
    config: { source: state.source, sha256: configDigest(state.text()), loadedAt: state.loadedAt, lastReload: state.lastReload },
    global: gateway.globalSlots,
    users,
    refusals: gateway.refusals.list(),
    authQuery: authKey !== null ? new URLSearchParams({ authKey }).toString() : '',
    form: { user: query.get('user') ?? users[0]?.name ?? '', method: query.get('method') ?? 'GET', url: query.get('url') ?? '/api/v1/query?query=up' },
  };
}

function routesOf(u: CompiledUser, path: string, now: number): RouteStatus[] {
  const out: RouteStatus[] = [];
  for (const r of u.routes) {
    const match = [
      r.srcPaths.length > 0 ? `src_paths: ${r.srcPaths.length}` : '',
      r.srcHosts.length > 0 ? `src_hosts: ${r.srcHosts.length}` : '',
      r.srcQueryArgs.length > 0 ? `src_query_args: ${r.srcQueryArgs.map((q) => q.name).join(', ')}` : '',
      r.srcHeaders.length > 0 ? `src_headers: ${r.srcHeaders.map((h) => h.lower).join(', ')}` : '',
    ].filter((s) => s !== '').join('; ');
    out.push(route(`${path}.url_map[${r.index}]`, match, r, now));
  }
  if (u.fallback !== null) out.push(route(path, 'url_prefix', u.fallback, now));
  if (u.defaultUrl !== null) out.push(route(`${path}.default_url`, 'default_url', u.defaultUrl, now));
  return out;
}

function route(name: string, match: string, r: RouteOptions, now: number): RouteStatus {
  return {
    name,
    match,
    tenant: r.tenant !== null ? describeTenantScope(r.tenant) : '',
    policy: r.backends.policy,
    backends: r.backends.backends.map((b) => ({
      url: urlWithoutQuery(b.target.display, '?…'),
      healthy: b.brokenUntil === 0 || b.brokenUntil <= now,
      inFlight: b.inFlight,
      lastError: b.lastError,
      lastErrorAt: b.lastErrorAt,
      brokenUntil: b.brokenUntil,
    })),
  };
}


const LIMIT_NAMES = ['requests', 'queries', 'write_samples', 'write_bytes', 'concurrent_queries', 'store_unavailable'] as const;

/** `requests 100/s (burst 200), queries 20/s (burst 20), 8 concurrent queries; budget team-b`. */
function describeLimits(l: RateLimits | null): string {
  if (l === null) return '';
  const parts: string[] = [];
  for (const r of [l.requests, l.queries, l.writeSamples, l.writeBytes]) if (r !== null) parts.push(`${r.name} ${r.ratePerSecond}/s (burst ${r.burst})`);
  if (l.maxConcurrentQueries > 0) parts.push(`${l.maxConcurrentQueries} concurrent queries`);
  return `${parts.join(', ')}; budget ${l.key}`;
}
