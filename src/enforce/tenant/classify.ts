// Request classification: an allow-list of the endpoints tenantgate knows how to scope for each
// kind of backend. Anything not listed is unknown and refused by the caller (fail closed). The
// path is the gateway's normalised path (percent-decoded, dot segments and `//` collapsed), so
// `/%2e%2e/api/v1/admin` or `//api/v1/query` arrive here already in canonical form.
import type { EnforceKind } from './config.ts';

export type Access = 'read' | 'write' | 'admin';

export type Api =
  // enforce: victoriametrics
  | 'vm_read' | 'vm_labels' | 'vm_write'
  // enforce: promql
  | 'query' | 'series' | 'rules' | 'alerts' | 'remote_write'
  // both metrics kinds: Grafana's data source needs them, they return no series data or are filtered
  | 'buildinfo' | 'format_query' | 'metadata'
  | 'am_alerts' | 'am_alerts_post' | 'am_silences' | 'am_silences_post' | 'am_silence_get' | 'am_silence_delete'
  // enforce: victorialogs
  | 'logs_read' | 'logs_write'
  // known, but never reachable by a tenant-scoped user
  | 'admin' | 'logs_tenant_ids';

export interface ClusterTenant {
  readonly accountId: number;
  readonly projectId: number;
}

export interface Endpoint {
  readonly access: Access;
  readonly api: Api;
  /** HTTP methods the endpoint accepts from a tenant. */
  readonly methods: readonly string[];
  /** VictoriaMetrics cluster tenant named in the path (`/select/<t>/…`), or null. */
  readonly cluster: ClusterTenant | 'multitenant' | null;
}

const GET_POST = ['GET', 'POST'] as const;
const GET = ['GET'] as const;
const POST = ['POST'] as const;
const PUT_POST = ['POST', 'PUT'] as const;

// Paths whose only purpose is administration or debugging, whatever the backend. Checked on the
// whole path and on the suffix after any known prefix.
const ADMIN = /^\/(?:api\/v1\/admin(?:\/.*)?|snapshot(?:\/.*)?|debug(?:\/.*)?|internal(?:\/.*)?|force_merge|force_flush|reset_rollup_result_cache|-(?:\/.*)?|api\/v1\/status\/metric_names_stats|tags\/delSeries|delete(?:\/.*)?|api\/v2\/status|api\/v2\/receivers)$/;

function admin(): Endpoint {
  return { access: 'admin', api: 'admin', methods: [], cluster: null };
}

function ep(access: Access, api: Api, methods: readonly string[], cluster: Endpoint['cluster'] = null): Endpoint {
  return { access, api, methods, cluster };
}

// --- VictoriaMetrics -------------------------------------------------------------------------

const VM_READ = new Set(['/api/v1/query', '/api/v1/query_range', '/api/v1/series', '/api/v1/export', '/api/v1/export/csv', '/api/v1/export/native', '/federate', '/api/v1/status/tsdb']);
const VM_WRITE = new Set([
  '/api/v1/write', '/api/v1/push', '/api/v1/import', '/api/v1/import/csv', '/api/v1/import/native', '/api/v1/import/prometheus',
  '/influx/write', '/influx/api/v2/write', '/write', '/api/v2/write',
  '/opentelemetry/v1/metrics', '/opentelemetry/api/v1/push',
  '/datadog/api/v1/series', '/datadog/api/v2/series', '/datadog/api/beta/sketches',
  '/newrelic/infra/v2/metrics/events/bulk',
  '/api/put', '/opentsdb/api/put',
]);
const LABEL_VALUES = /^\/api\/v1\/label\/[^/]+\/values$/;
const CLUSTER = /^\/(select|insert|delete)\/(\d+(?::\d+)?|multitenant)(\/.*)?$/;

/**
 * Read endpoints Grafana's Prometheus data source calls that carry no series data of their own
 * (build info, query formatting) or are filtered to the tenant (metadata, rules, alerts). Both
 * metric backends serve them under the same paths.
 */
const GRAFANA_READS: ReadonlyMap<string, Endpoint> = new Map([
  ['/api/v1/status/buildinfo', ep('read', 'buildinfo', GET)],
  ['/api/v1/format_query', ep('read', 'format_query', GET_POST)],
  ['/api/v1/metadata', ep('read', 'metadata', GET)],
]);

function vmSuffix(suffix: string, cluster: Endpoint['cluster'], part: 'select' | 'insert' | null): Endpoint | null {
  if (ADMIN.test(suffix)) return admin();
  if (part !== 'insert') {
    const g = GRAFANA_READS.get(suffix);
    if (g !== undefined) return { ...g, cluster };
    if (suffix === '/api/v1/rules') return ep('read', 'rules', GET, cluster);
    if (suffix === '/api/v1/alerts') return ep('read', 'alerts', GET, cluster);
    if (suffix === '/api/v1/query_exemplars') return ep('read', 'vm_read', GET_POST, cluster);
    if (VM_READ.has(suffix)) return ep('read', 'vm_read', GET_POST, cluster);
    if (suffix === '/api/v1/labels' || LABEL_VALUES.test(suffix)) return ep('read', 'vm_labels', GET_POST, cluster);
  }
  if (part !== 'select' && VM_WRITE.has(suffix)) return ep('write', 'vm_write', PUT_POST, cluster);
  return null;
}

function classifyVictoriaMetrics(path: string): Endpoint | null {
  const m = CLUSTER.exec(path);
  if (m !== null) {
    const part = m[1] as 'select' | 'insert' | 'delete';
    if (part === 'delete') return admin();
    const cluster = parseClusterTenant(m[2]!);
    let rest = m[3] ?? '';
    // vmselect serves the Prometheus API under /prometheus; vminsert also accepts it there.
    if (rest.startsWith('/prometheus/')) rest = rest.slice('/prometheus'.length);
    else if (part === 'select') return ADMIN.test(rest) ? admin() : null;
    return vmSuffix(rest, cluster, part);
  }
  const rest = path.startsWith('/prometheus/') ? path.slice('/prometheus'.length) : path;
  return vmSuffix(rest, null, null);
}

function parseClusterTenant(s: string): Endpoint['cluster'] {
  if (s === 'multitenant') return 'multitenant';
  const [a, p] = s.split(':');
  return { accountId: Number(a), projectId: p === undefined ? 0 : Number(p) };
}

// --- Prometheus-compatible (PromQL) ----------------------------------------------------------

const PROM: ReadonlyMap<string, Endpoint> = new Map([
  ['/api/v1/query', ep('read', 'query', GET_POST)],
  ['/api/v1/query_range', ep('read', 'query', GET_POST)],
  ['/api/v1/query_exemplars', ep('read', 'query', GET_POST)],
  ['/api/v1/series', ep('read', 'series', GET_POST)],
  ['/api/v1/labels', ep('read', 'series', GET_POST)],
  ['/federate', ep('read', 'series', GET_POST)],
  ['/api/v1/rules', ep('read', 'rules', GET)],
  ['/api/v1/alerts', ep('read', 'alerts', GET)],
  ['/api/v1/write', ep('write', 'remote_write', POST)],
]);

/** Alertmanager silence ids are UUIDs; anything else is not a silence path the gateway forwards. */
export const SILENCE_ID = /^[0-9A-Fa-f-]{1,64}$/;
const SILENCE_BY_ID = /^\/api\/v2\/silence\/[0-9A-Fa-f-]{1,64}$/;

function classifyPromql(path: string, method: string): Endpoint | null {
  // Mimir serves the Prometheus API under /prometheus and Alertmanager under /alertmanager.
  let rest = path.startsWith('/prometheus/') ? path.slice('/prometheus'.length) : path;
  if (ADMIN.test(rest)) return admin();
  const known = PROM.get(rest) ?? GRAFANA_READS.get(rest);
  if (known !== undefined) return known;
  if (LABEL_VALUES.test(rest)) return ep('read', 'series', GET_POST);
  rest = path.startsWith('/alertmanager/') ? path.slice('/alertmanager'.length) : path;
  if (ADMIN.test(rest)) return admin();
  if (rest === '/api/v2/alerts') return method === 'POST' ? ep('write', 'am_alerts_post', POST) : ep('read', 'am_alerts', GET);
  if (rest === '/api/v2/alerts/groups') return ep('read', 'am_alerts', GET);
  if (rest === '/api/v2/silences') return method === 'POST' ? ep('write', 'am_silences_post', POST) : ep('read', 'am_silences', GET);
  // One silence by id: the owner may read and expire it; ownership is looked up first.
  if (SILENCE_BY_ID.test(rest)) return method === 'DELETE' ? ep('write', 'am_silence_delete', ['DELETE']) : ep('read', 'am_silence_get', GET);
  return null;
}

// --- VictoriaLogs ----------------------------------------------------------------------------

const LOGS_READ = /^\/select\/logsql\/(?:query|hits|facets|stats_query|stats_query_range|stream_ids|streams|stream_field_names|stream_field_values|field_names|field_values|tail)$/;
const LOGS_WRITE = new Set([
  '/insert/jsonline', '/insert/elasticsearch/_bulk', '/insert/loki/api/v1/push', '/insert/opentelemetry/v1/logs',
  '/insert/datadog/api/v2/logs', '/insert/journald/upload',
]);

function classifyVictoriaLogs(path: string): Endpoint | null {
  if (ADMIN.test(path)) return admin();
  if (path === '/select/tenant_ids') return ep('read', 'logs_tenant_ids', []);
  if (LOGS_READ.test(path)) return ep('read', 'logs_read', GET_POST);
  if (LOGS_WRITE.has(path)) return ep('write', 'logs_write', PUT_POST);
  return null;
}

/** The endpoint a normalised path names for a backend kind, or null when tenantgate does not know it. */
export function classifyRequest(kind: EnforceKind, path: string, method: string): Endpoint | null {
  switch (kind) {
    case 'victoriametrics': return classifyVictoriaMetrics(path);
    case 'promql': return classifyPromql(path, method);
    case 'victorialogs': return classifyVictoriaLogs(path);
  }
}
