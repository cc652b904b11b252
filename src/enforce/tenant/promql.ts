// enforce: promql — for any Prometheus-compatible backend (Prometheus, Thanos, Mimir, Cortex) and
// Alertmanager. The backend knows nothing of tenants, so every parameter that selects data is
// rewritten here: PromQL queries and match[] selectors get the tenant matchers in every
// selector, rules/alerts/silences responses are filtered, writes get the tenant labels.
import { gunzipSync } from 'node:zlib';
import {
  alertmanagerFilterParams, checkSilenceOwnership, compileTenant, enforceQuery, enforceSeriesSelectors,
  filterAlertsResponse, filterRulesResponse, PromqlEnforceError, PromqlTenantError, type CompiledTenant,
} from '../promql/index.ts';
import { detectRemoteWriteVersion, enforceRemoteWrite, RemoteWriteError, writeLabelsForTenant, type RemoteWriteEncoding } from '../remote-write/index.ts';
import { encodeQuery, parseQuery } from '../../lib/go-url.ts';
import type { TenantConfig } from './config.ts';
import type { Endpoint } from './classify.ts';
import { add, allValues, checkWriteBody, encodeParams, readParams, stripParams, type RequestParams } from './params.ts';
import type { ResponseFilter, TenantForward, TenantRequest } from './policy.ts';
import { TenantRefused } from './refusal.ts';
import { combineFilterGroups, type MetricsScope } from './scope.ts';
import { TENANT_HEADERS } from './victoriametrics.ts';

/** Compiles a scope into the PromQL library's tenant; refusals name what is wrong. */
export function compileScope(scope: MetricsScope): CompiledTenant {
  const matchers = [...scope.labels].map(([label, values]) => ({ label, values }));
  try {
    return compileTenant({ matchers, filters: combineFilterGroups(scope.filterGroups) });
  } catch (err) {
    if (err instanceof PromqlTenantError) throw new TenantRefused(403, 'tenant_claims_invalid', `the tenant cannot be enforced on PromQL: ${err.message}`);
    throw err;
  }
}

function enforced<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof PromqlEnforceError) throw new TenantRefused(400, 'tenant_query_invalid', `${err.code}: ${err.message}`);
    throw err;
  }
}

/** `query` must appear exactly once: backends differ in which copy they read. */
function rewriteQuery(p: RequestParams, tenant: CompiledTenant): void {
  const inForm = p.form?.get('query') ?? [];
  const inUrl = p.url.get('query') ?? [];
  const n = inForm.length + inUrl.length;
  if (n === 0) throw new TenantRefused(400, 'tenant_missing_param', 'missing `query` parameter');
  if (n > 1) throw new TenantRefused(400, 'tenant_duplicate_param', '`query` is given more than once; send exactly one');
  const q = enforced(() => enforceQuery((inForm[0] ?? inUrl[0])!, tenant));
  (inForm.length > 0 ? p.form! : p.url).set('query', [q]);
}

function rewriteMatch(p: RequestParams, tenant: CompiledTenant): void {
  const match = allValues(p, 'match[]');
  const out = enforced(() => enforceSeriesSelectors(match, tenant));
  stripParams(p, ['match[]']);
  (p.form ?? p.url).set('match[]', out);
}

function jsonBody(body: Buffer): unknown {
  // The request went out without Accept-Encoding, but a backend may compress anyway.
  const raw = body.length >= 2 && body[0] === 0x1f && body[1] === 0x8b ? gunzipSync(body, { maxOutputLength: 256 * 1024 * 1024 }) : body;
  return JSON.parse(raw.toString('utf8'));
}

/** A filter for JSON API responses; error statuses carry no data and pass unchanged. */
function jsonFilter(maxBytes: number, fn: (json: unknown) => unknown): ResponseFilter {
  return {
    maxBytes,
    filter(status, _contentType, body) {
      if (status < 200 || status >= 300) return body;
      return Buffer.from(JSON.stringify(fn(jsonBody(body))), 'utf8');
    },
  };
}

function tenantPairs(scope: MetricsScope): Array<[string, string]> {
  try {
    return writeLabelsForTenant(Object.fromEntries(scope.labels));
  } catch (err) {
    if (err instanceof RemoteWriteError) throw new TenantRefused(403, 'tenant_multi_value_write', err.message);
    throw err;
  }
}

function remoteWrite(req: TenantRequest, cfg: TenantConfig, scope: MetricsScope): TenantForward {
  const labels = tenantPairs(scope);
  if (req.body === null || req.body.length === 0) throw new TenantRefused(400, 'tenant_remote_write_invalid', 'remote write needs a body');
  // Read the body as the backend will: Prometheus, Mimir and VictoriaMetrics take a body without
  // Content-Encoding as snappy, and none reads `identity` as raw protobuf (VictoriaMetrics tries
  // snappy, then zstd). Checking one reading and forwarding bytes the backend decodes another
  // way would let a crafted body pass unchecked, so only snappy and zstd are accepted.
  const encHeader = (req.headers['content-encoding'] ?? '').trim().toLowerCase() || 'snappy';
  if (encHeader !== 'snappy' && encHeader !== 'zstd') {
    throw new TenantRefused(415, 'tenant_remote_write_invalid', `unsupported remote-write Content-Encoding ${JSON.stringify(encHeader)}; expected snappy or zstd`);
  }
  try {
    const version = detectRemoteWriteVersion(req.headers['content-type']);
    const out = enforceRemoteWrite(req.body, encHeader as RemoteWriteEncoding, labels, {
      maxCompressedBytes: cfg.maxBodyBytes,
      maxDecodedBytes: Math.min(cfg.maxBodyBytes * 8, 512 * 1024 * 1024),
    }, { version });
    return { kind: 'forward', rawQuery: req.rawQuery, body: Buffer.from(out.body.buffer, out.body.byteOffset, out.body.byteLength), removeHeaders: TENANT_HEADERS, writeSamples: out.samples };
  } catch (err) {
    if (err instanceof RemoteWriteError) {
      if (err.status === 413) throw new TenantRefused(413, 'tenant_remote_write_too_large', err.message);
      if (err.status === 403) throw new TenantRefused(403, 'tenant_multi_value_write', err.message);
      throw new TenantRefused(err.status === 500 ? 500 : err.status, 'tenant_remote_write_invalid', `${err.code}: ${err.message}`);
    }
    throw err;
  }
}

function parseJsonRequest(req: TenantRequest): unknown {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') throw new TenantRefused(415, 'tenant_body_unsupported', 'expected an application/json body');
  try {
    return JSON.parse((req.body ?? Buffer.alloc(0)).toString('utf8'));
  } catch {
    throw new TenantRefused(400, 'tenant_body_unsupported', 'the body is not valid JSON');
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * A new silence, rebuilt from the fields Alertmanager knows with their exact names: Go's JSON
 * decoder matches keys case-insensitively, so `"Matchers"` next to `"matchers"` must not survive.
 */
function silenceBody(req: TenantRequest, tenant: CompiledTenant): Buffer {
  const s = parseJsonRequest(req);
  if (!isObject(s)) throw new TenantRefused(400, 'tenant_body_unsupported', 'a silence must be a JSON object');
  for (const k of Object.keys(s)) {
    if (k.toLowerCase() === 'id') throw new TenantRefused(403, 'tenant_silence_update', 'updating an existing silence is not allowed through the tenant gateway; create a new silence instead');
  }
  if (!Array.isArray(s.matchers)) throw new TenantRefused(400, 'tenant_body_unsupported', 'a silence needs a matchers array');
  const matchers = s.matchers.map((m) => {
    if (!isObject(m)) throw new TenantRefused(400, 'tenant_body_unsupported', 'each matcher must be an object');
    return { name: m.name, value: m.value, isRegex: m.isRegex, ...(m.isEqual !== undefined ? { isEqual: m.isEqual } : {}) };
  });
  const clean = { matchers, startsAt: s.startsAt, endsAt: s.endsAt, createdBy: s.createdBy, comment: s.comment };
  const own = checkSilenceOwnership(clean, tenant);
  if (!own.owned) throw new TenantRefused(403, 'tenant_silence_not_owned', own.reason);
  return Buffer.from(JSON.stringify(clean), 'utf8');
}

/** Alerts posted to Alertmanager get the tenant labels, whatever the client set. */
function alertsBody(req: TenantRequest, scope: MetricsScope): Buffer {
  const labels = tenantPairs(scope);
  const list = parseJsonRequest(req);
  if (!Array.isArray(list)) throw new TenantRefused(400, 'tenant_alerts_invalid', 'expected a JSON array of alerts');
  const out = list.map((a) => {
    if (!isObject(a) || !isObject(a.labels)) throw new TenantRefused(400, 'tenant_alerts_invalid', 'each alert must be an object with a labels object');
    const l: Record<string, unknown> = { ...a.labels };
    for (const [name, value] of labels) l[name] = value;
    return { labels: l, annotations: a.annotations, startsAt: a.startsAt, endsAt: a.endsAt, generatorURL: a.generatorURL };
  });
  return Buffer.from(JSON.stringify(out), 'utf8');
}

function withFilters(req: TenantRequest, tenant: CompiledTenant): string {
  if (req.body !== null && req.body.length > 0) throw new TenantRefused(400, 'tenant_body_unsupported', 'this endpoint takes no body');
  const url = parseQuery(req.rawQuery);
  // Alertmanager ANDs `filter` values, so the tenant's matchers can only narrow the client's.
  for (const f of alertmanagerFilterParams(tenant)) add(url, 'filter', f);
  return encodeQuery(url);
}

export function enforcePromql(ep: Endpoint, cfg: TenantConfig, scope: MetricsScope, tenant: CompiledTenant, req: TenantRequest): TenantForward {
  const removeHeaders = TENANT_HEADERS;
  const maxBytes = cfg.maxResponseBytes;
  switch (ep.api) {
    case 'query': {
      const p = readParams(req);
      rewriteQuery(p, tenant);
      return { kind: 'forward', ...encodeParams(p), removeHeaders };
    }
    case 'series': {
      const p = readParams(req);
      rewriteMatch(p, tenant);
      return { kind: 'forward', ...encodeParams(p), removeHeaders };
    }
    case 'rules': {
      const p = readParams(req);
      const opts = { includeRulesWithTenantAlerts: cfg.rulesWithTenantAlerts };
      return { kind: 'forward', ...encodeParams(p), removeHeaders, responseFilter: jsonFilter(maxBytes, (j) => filterRulesResponse(j, tenant, opts)) };
    }
    case 'alerts': {
      const p = readParams(req);
      return { kind: 'forward', ...encodeParams(p), removeHeaders, responseFilter: jsonFilter(maxBytes, (j) => filterAlertsResponse(j, tenant)) };
    }
    case 'remote_write':
      checkWriteBody(req);
      return remoteWrite(req, cfg, scope);
    case 'am_alerts':
      return { kind: 'forward', rawQuery: withFilters(req, tenant), removeHeaders };
    case 'am_silences':
      return {
        kind: 'forward', rawQuery: withFilters(req, tenant), removeHeaders,
        // Defence in depth: only silences the tenant owns, even if the backend ignored `filter`.
        responseFilter: jsonFilter(maxBytes, (j) => {
          if (!Array.isArray(j)) throw new Error('unexpected /api/v2/silences response: not an array');
          return j.filter((s) => checkSilenceOwnership(s, tenant).owned);
        }),
      };
    case 'am_silences_post':
      return { kind: 'forward', rawQuery: req.rawQuery, body: silenceBody(req, tenant), removeHeaders };
    case 'am_alerts_post':
      return { kind: 'forward', rawQuery: req.rawQuery, body: alertsBody(req, scope), removeHeaders };
    default:
      throw new Error(`internal: ${ep.api} is not a promql endpoint`);
  }
}
