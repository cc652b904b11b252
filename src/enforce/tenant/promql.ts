// enforce: promql — for any Prometheus-compatible backend (Prometheus, Thanos, Mimir, Cortex) and
// Alertmanager. The backend knows nothing of tenants, so every parameter that selects data is
// rewritten here: PromQL queries and match[] selectors get the tenant matchers in every
// selector, rules/alerts/silences responses are filtered, writes get the tenant labels.
import {
  alertmanagerFilterConflict, alertmanagerFilterParams, checkSilenceOwnership, collectSelectors, compileTenant, describeConflict, enforceQuery,
  enforceSeriesSelectors, filterAlertsResponse, filterRulesResponse, findQueryConflict, parsePromql, PromqlEnforceError, PromqlTenantError,
  type CompiledTenant, type TenantConflict,
} from '../promql/index.ts';
import { detectRemoteWriteVersion, enforceRemoteWrite, RemoteWriteError, writeLabelsForTenant, type RemoteWriteEncoding } from '../remote-write/index.ts';
import { encodeQuery, parseQuery } from '../../lib/go-url.ts';
import { BOUND_KEYS, selectorsRefusal, writeDecodedMessage, writeDecodedLimit, type TenantBounds } from './bounds.ts';
import type { TenantConfig } from './config.ts';
import { SILENCE_ID, type Endpoint } from './classify.ts';
import { add, allValues, checkWriteBody, encodeParams, readParams, stripParams, type RequestParams } from './params.ts';
import type { LookupResult, ResponseFilter, TenantDecision, TenantForward, TenantLookup, TenantRefusal, TenantRequest } from './policy.ts';
import { TenantRefused } from './refusal.ts';
import { metadataFilter } from './metadata.ts';
import { jsonBody, jsonFilter } from './response-filter.ts';
import { combineFilterGroups, type MetricsScope } from './scope.ts';
import { allowedWriteArgs, TENANT_HEADERS } from './write-args.ts';

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

/** With `on_conflict: error`, a query whose tenant-label matchers exclude the tenant is a 400, not an empty answer. */
function refuseConflict(c: TenantConflict | null): void {
  if (c !== null) throw new TenantRefused(400, 'tenant_query_conflict', describeConflict(c));
}

/**
 * Refuses a query with more selectors than the bound allows. Every selector takes at least two
 * characters of the query (`a+a`), so shorter queries are not parsed twice to count them.
 */
function checkQuerySelectors(query: string, tenant: CompiledTenant, bounds: TenantBounds): void {
  if (query.length < 2 * bounds.maxSelectors - 1) return;
  const n = enforced(() => collectSelectors(parsePromql(query)).length);
  if (n > bounds.maxSelectors) throw selectorsRefusal(bounds, n);
}

/** `query` must appear exactly once: backends differ in which copy they read. */
function rewriteQuery(p: RequestParams, tenant: CompiledTenant, cfg: TenantConfig): void {
  const inForm = p.form?.get('query') ?? [];
  const inUrl = p.url.get('query') ?? [];
  const n = inForm.length + inUrl.length;
  if (n === 0) throw new TenantRefused(400, 'tenant_missing_param', 'missing `query` parameter');
  if (n > 1) throw new TenantRefused(400, 'tenant_duplicate_param', '`query` is given more than once; send exactly one');
  const query = (inForm[0] ?? inUrl[0])!;
  checkQuerySelectors(query, tenant, cfg.bounds);
  const q = enforced(() => enforceQuery(query, tenant));
  if (cfg.onConflict === 'error') refuseConflict(enforced(() => findQueryConflict(query, tenant)));
  (inForm.length > 0 ? p.form! : p.url).set('query', [q]);
}

function rewriteMatch(p: RequestParams, tenant: CompiledTenant, cfg: TenantConfig): void {
  const bounds = cfg.bounds;
  const match = allValues(p, 'match[]');
  // Each match[] is one selector, emitted once per tenant filter.
  const n = match.length * tenant.injections.length;
  if (n > bounds.maxSelectors) throw selectorsRefusal(bounds, n);
  const out = enforced(() => enforceSeriesSelectors(match, tenant));
  if (cfg.onConflict === 'error') for (const m of match) refuseConflict(enforced(() => findQueryConflict(m, tenant)));
  stripParams(p, ['match[]']);
  (p.form ?? p.url).set('match[]', out);
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
  const b = cfg.bounds;
  const size = req.body.length;
  try {
    const version = detectRemoteWriteVersion(req.headers['content-type']);
    const out = enforceRemoteWrite(req.body, encHeader as RemoteWriteEncoding, labels, {
      maxCompressedBytes: cfg.maxBodyBytes,
      maxDecodedBytes: writeDecodedLimit(b, size),
      maxSeries: b.maxWriteSeries,
      maxLabelsPerSeries: b.maxWriteLabels,
    }, { version });
    return { kind: 'forward', rawQuery: writeQuery(req, cfg), body: Buffer.from(out.body.buffer, out.body.byteOffset, out.body.byteLength), removeHeaders: TENANT_HEADERS, writeSamples: out.samples };
  } catch (err) {
    if (err instanceof RemoteWriteError) {
      switch (err.code) {
        case 'ERR_RW_DECODED_TOO_LARGE': throw new TenantRefused(413, 'tenant_bound_write_decoded', writeDecodedMessage(b, size, err.message));
        case 'ERR_RW_TOO_MANY_SERIES': throw new TenantRefused(422, 'tenant_bound_write_series', `${err.message}; the limit is ${BOUND_KEYS.maxWriteSeries}=${b.maxWriteSeries}`);
        case 'ERR_RW_TOO_MANY_LABELS': throw new TenantRefused(422, 'tenant_bound_write_labels', `${err.message}; the limit is ${BOUND_KEYS.maxWriteLabels}=${b.maxWriteLabels}`);
      }
      if (err.status === 413) throw new TenantRefused(413, 'tenant_remote_write_too_large', `${err.message} (tenant.max_body_size)`);
      if (err.status === 403) throw new TenantRefused(403, 'tenant_multi_value_write', err.message);
      throw new TenantRefused(err.status === 500 ? 500 : err.status, 'tenant_remote_write_invalid', `${err.code}: ${err.message}`);
    }
    throw err;
  }
}

/** Client args on a write: only those allowed by name (a VictoriaMetrics behind `promql` reads extra_label from the URL). */
function writeQuery(req: TenantRequest, cfg: TenantConfig): string {
  return encodeQuery(allowedWriteArgs(req.rawQuery, cfg.writeArgs));
}

function parseJsonRequest(req: TenantRequest, bounds: TenantBounds): unknown {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') throw new TenantRefused(415, 'tenant_body_unsupported', 'expected an application/json body');
  const size = req.body?.length ?? 0;
  if (size > bounds.maxJsonBodyBytes) {
    throw new TenantRefused(413, 'tenant_bound_json_body', `the request body is ${size} bytes; the limit is ${bounds.maxJsonBodyBytes} bytes (${BOUND_KEYS.maxJsonBodyBytes})`);
  }
  try {
    return JSON.parse((req.body ?? Buffer.alloc(0)).toString('utf8'));
  } catch {
    throw new TenantRefused(400, 'tenant_body_unsupported', 'the body is not valid JSON');
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * A silence, rebuilt from the fields Alertmanager knows with their exact names: Go's JSON decoder
 * matches keys case-insensitively, so `"Matchers"` next to `"matchers"` must not survive. Returns
 * the rebuilt silence and its id (an update) or null (a new silence).
 */
function silenceBody(req: TenantRequest, tenant: CompiledTenant, bounds: TenantBounds): { body: Buffer; id: string | null } {
  const s = parseJsonRequest(req, bounds);
  if (!isObject(s)) throw new TenantRefused(400, 'tenant_body_unsupported', 'a silence must be a JSON object');
  for (const k of Object.keys(s)) {
    if (k !== 'id' && k.toLowerCase() === 'id') throw new TenantRefused(400, 'tenant_body_unsupported', `the silence field ${JSON.stringify(k)} is ambiguous; write "id"`);
  }
  let id: string | null = null;
  if (s.id !== undefined && s.id !== '') {
    if (typeof s.id !== 'string' || !SILENCE_ID.test(s.id)) throw new TenantRefused(400, 'tenant_body_unsupported', 'a silence id must be a UUID');
    id = s.id;
  }
  if (!Array.isArray(s.matchers)) throw new TenantRefused(400, 'tenant_body_unsupported', 'a silence needs a matchers array');
  const matchers = s.matchers.map((m) => {
    if (!isObject(m)) throw new TenantRefused(400, 'tenant_body_unsupported', 'each matcher must be an object');
    return { name: m.name, value: m.value, isRegex: m.isRegex, ...(m.isEqual !== undefined ? { isEqual: m.isEqual } : {}) };
  });
  const clean = { ...(id !== null ? { id } : {}), matchers, startsAt: s.startsAt, endsAt: s.endsAt, createdBy: s.createdBy, comment: s.comment };
  const own = checkSilenceOwnership(clean, tenant);
  if (!own.owned) throw new TenantRefused(403, 'tenant_silence_not_owned', own.reason);
  return { body: Buffer.from(JSON.stringify(clean), 'utf8'), id };
}

/** Largest silence a lookup reads; one silence is a few KiB. */
const MAX_SILENCE_BYTES = 1024 * 1024;

/**
 * Decides a request on an existing silence once the gateway has read it from Alertmanager:
 * forwarded only when the silence is the tenant's. Another tenant's silence and a missing one get
 * the same 404, so ids cannot be probed. Alertmanager never changes an active silence's matchers
 * in place (an update with new matchers expires it and creates another id), so the silence read
 * is the silence acted on.
 */
function silenceLookup(silencePath: string, id: string, tenant: CompiledTenant, then: () => TenantForward): TenantLookup {
  return {
    kind: 'lookup',
    path: silencePath,
    rawQuery: '',
    removeHeaders: TENANT_HEADERS,
    maxBytes: MAX_SILENCE_BYTES,
    decide(result: LookupResult): TenantRefusal | TenantForward {
      try {
        const notFound = new TenantRefused(404, 'tenant_silence_not_owned', `silence ${id} not found`).refusal;
        if (result.status === 404) return notFound;
        if (result.status !== 200) return new TenantRefused(502, 'tenant_lookup_failed', `cannot check who owns silence ${id}: Alertmanager answered ${result.status}`).refusal;
        let silence: unknown;
        try { silence = jsonBody(result.body); } catch { return new TenantRefused(502, 'tenant_lookup_failed', `cannot check who owns silence ${id}: the answer is not JSON`).refusal; }
        if (!isObject(silence) || silence.id !== id) return new TenantRefused(502, 'tenant_lookup_failed', `cannot check who owns silence ${id}: unexpected answer`).refusal;
        return checkSilenceOwnership(silence, tenant).owned ? then() : notFound;
      } catch (err) {
        if (err instanceof TenantRefused) return err.refusal;
        throw err;
      }
    },
  };
}

/** The path of one silence, next to the client's path (keeping any prefix such as `/alertmanager`). */
function silencePathFor(clientPath: string, suffix: string, id: string): string {
  return `${clientPath.slice(0, clientPath.length - suffix.length)}/api/v2/silence/${id}`;
}

/** Alerts posted to Alertmanager get the tenant labels, whatever the client set. */
function alertsBody(req: TenantRequest, scope: MetricsScope, bounds: TenantBounds): Buffer {
  const labels = tenantPairs(scope);
  const list = parseJsonRequest(req, bounds);
  if (!Array.isArray(list)) throw new TenantRefused(400, 'tenant_alerts_invalid', 'expected a JSON array of alerts');
  const out = list.map((a) => {
    if (!isObject(a) || !isObject(a.labels)) throw new TenantRefused(400, 'tenant_alerts_invalid', 'each alert must be an object with a labels object');
    const l: Record<string, unknown> = { ...a.labels };
    for (const [name, value] of labels) l[name] = value;
    return { labels: l, annotations: a.annotations, startsAt: a.startsAt, endsAt: a.endsAt, generatorURL: a.generatorURL };
  });
  return Buffer.from(JSON.stringify(out), 'utf8');
}

function withFilters(req: TenantRequest, tenant: CompiledTenant, cfg: TenantConfig): string {
  if (req.body !== null && req.body.length > 0) throw new TenantRefused(400, 'tenant_body_unsupported', 'this endpoint takes no body');
  const url = parseQuery(req.rawQuery);
  if (cfg.onConflict === 'error') refuseConflict(alertmanagerFilterConflict(url.get('filter') ?? [], tenant));
  // Alertmanager ANDs `filter` values, so the tenant's matchers can only narrow the client's.
  for (const f of alertmanagerFilterParams(tenant)) add(url, 'filter', f);
  return encodeQuery(url);
}

/** A silence by id: the id is the path's last segment (checked by classification). */
function silenceId(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Silences the tenant owns, even if the backend ignored `filter`. */
function ownSilencesFilter(maxBytes: number, tenant: CompiledTenant): ResponseFilter {
  return jsonFilter(maxBytes, (j) => {
    if (!Array.isArray(j)) throw new Error('unexpected /api/v2/silences response: not an array');
    return j.filter((s) => checkSilenceOwnership(s, tenant).owned);
  });
}

export function enforcePromql(ep: Endpoint, cfg: TenantConfig, scope: MetricsScope, tenant: CompiledTenant, req: TenantRequest): TenantDecision {
  const removeHeaders = TENANT_HEADERS;
  const maxBytes = cfg.maxResponseBytes;
  switch (ep.api) {
    case 'query': {
      const p = readParams(req, cfg.bounds);
      rewriteQuery(p, tenant, cfg);
      return { kind: 'forward', ...encodeParams(p), removeHeaders };
    }
    case 'series': {
      const p = readParams(req, cfg.bounds);
      rewriteMatch(p, tenant, cfg);
      return { kind: 'forward', ...encodeParams(p), removeHeaders };
    }
    case 'rules': {
      const p = readParams(req, cfg.bounds);
      const opts = { includeRulesWithTenantAlerts: cfg.rulesWithTenantAlerts };
      return { kind: 'forward', ...encodeParams(p), removeHeaders, responseFilter: jsonFilter(maxBytes, (j) => filterRulesResponse(j, tenant, opts)) };
    }
    case 'alerts': {
      const p = readParams(req, cfg.bounds);
      return { kind: 'forward', ...encodeParams(p), removeHeaders, responseFilter: jsonFilter(maxBytes, (j) => filterAlertsResponse(j, tenant)) };
    }
    case 'buildinfo':
    case 'format_query': {
      // Build info and a query's canonical text: nothing of any tenant's data.
      const p = readParams(req, cfg.bounds);
      return { kind: 'forward', ...encodeParams(p), removeHeaders };
    }
    case 'metadata': {
      const p = readParams(req, cfg.bounds);
      // match[] would widen the metric-name lookup below; metadata itself does not read it.
      stripParams(p, ['match[]']);
      const names = encodeQuery(new Map([['match[]', enforced(() => enforceSeriesSelectors([], tenant))]]));
      return { kind: 'forward', ...encodeParams(p), removeHeaders, responseFilter: metadataFilter(maxBytes, names) };
    }
    case 'remote_write':
      checkWriteBody(req);
      return remoteWrite(req, cfg, scope);
    case 'am_alerts':
      return { kind: 'forward', rawQuery: withFilters(req, tenant, cfg), removeHeaders };
    case 'am_silences':
      return { kind: 'forward', rawQuery: withFilters(req, tenant, cfg), removeHeaders, responseFilter: ownSilencesFilter(maxBytes, tenant) };
    case 'am_silences_post': {
      const { body, id } = silenceBody(req, tenant, cfg.bounds);
      const forward: TenantForward = { kind: 'forward', rawQuery: writeQuery(req, cfg), body, removeHeaders };
      if (id === null) return forward;
      // An update: the silence being replaced must be the tenant's too.
      return silenceLookup(silencePathFor(req.path, '/api/v2/silences', id), id, tenant, () => forward);
    }
    case 'am_silence_get': {
      if (req.body !== null && req.body.length > 0) throw new TenantRefused(400, 'tenant_body_unsupported', 'this endpoint takes no body');
      const id = silenceId(req.path);
      return silenceLookup(req.path, id, tenant, () => ({
        kind: 'forward', rawQuery: '', removeHeaders,
        // Checked again on the answer itself, so the client never sees a silence that is not the tenant's.
        responseFilter: jsonFilter(maxBytes, (j) => {
          if (!checkSilenceOwnership(j, tenant).owned) throw new Error('the silence is no longer the tenant\'s');
          return j;
        }),
      }));
    }
    case 'am_silence_delete': {
      if (req.body !== null && req.body.length > 0) throw new TenantRefused(400, 'tenant_body_unsupported', 'this endpoint takes no body');
      const id = silenceId(req.path);
      return silenceLookup(req.path, id, tenant, () => ({ kind: 'forward', rawQuery: writeQuery(req, cfg), body: null, removeHeaders }));
    }
    case 'am_alerts_post':
      return { kind: 'forward', rawQuery: writeQuery(req, cfg), body: alertsBody(req, scope, cfg.bounds), removeHeaders };
    default:
      throw new Error(`internal: ${ep.api} is not a promql endpoint`);
  }
}
