// Compiles a user's or url_map entry's `tenant:` section into a TenantPolicy: validation, tenant
// matchers and filters are done once here; per request only classification and the rewrite run.
import { FieldError, type ConfigPath } from '../../config/errors.ts';
import type { VmAccess } from '../../identify/jwt/index.ts';
import { compileWholeMatch, RegexError, type WholeMatcher } from '../../lib/regex.ts';
import type { CompiledTenant } from '../promql/index.ts';
import { dropPrefixParts } from '../../route/request-target.ts';
import { alertmanagerGuard } from '../alertmanager/guard.ts';
import { classifyRequest, type Endpoint } from './classify.ts';
import { parseTenantConfig, type TenantConfig } from './config.ts';
import { readBodyRefusal } from './params.ts';
import type { BodyLimit, TenantDecision, TenantPolicy, TenantPolicySource, TenantRequest } from './policy.ts';
import { BOUND_KEYS, writeDecodedLimit } from './bounds.ts';
import { readSnappyPreamble } from '../remote-write/snappy-decode.ts';
import { compileScope, enforcePromql } from './promql.ts';
import { refuse, refusalFormat, TenantRefused } from './refusal.ts';
import { logsScope, metricsScope, type MetricsScope } from './scope.ts';
import { enforceVictoriaLogs } from './victorialogs.ts';
import { checkCluster, enforceVictoriaMetrics, vmArgs, type VmArgs } from './victoriametrics.ts';
import { encodeQuery } from '../../lib/go-url.ts';
import { allowedWriteArgs, TENANT_HEADERS, victoriaLogsWriteHeadersToDrop } from './write-args.ts';

export interface TenantPolicyContext {
  /**
   * The route's drop_src_path_prefix_parts: the policy classifies the path the backend will
   * see. Without it, a route that drops prefix parts has every path refused (fail closed).
   */
  readonly dropSrcPathPrefixParts?: number;
}

/** Decoded remote-write bytes that cost what one byte of a parsed form or query costs. */
export const WRITE_BYTES_PER_WORK_BYTE = 16;

/** Scopes compiled for JWT claims, per policy; dashboards send the same few tokens again and again. */
const CLAIM_CACHE_SIZE = 128;

class LruCache<V> {
  readonly #max: number;
  readonly #map = new Map<string, V>();
  constructor(max: number) { this.#max = max; }
  get(key: string): V | undefined {
    const v = this.#map.get(key);
    if (v !== undefined) { this.#map.delete(key); this.#map.set(key, v); }
    return v;
  }
  set(key: string, v: V): void {
    if (this.#map.size >= this.#max) this.#map.delete(this.#map.keys().next().value!);
    this.#map.set(key, v);
  }
}

interface CompiledMetrics {
  readonly scope: MetricsScope;
  readonly promql: CompiledTenant | null;
  readonly vm: VmArgs | null;
}

export class CompiledTenantPolicy implements TenantPolicy {
  readonly maxBodyBytes: number;
  readonly decodesWrites: boolean;
  readonly config: TenantConfig;
  readonly source: TenantPolicySource;
  readonly #readLimit: BodyLimit;
  readonly #jsonLimit: BodyLimit;
  readonly #writeLimit: BodyLimit;
  readonly #allow: readonly WholeMatcher[];
  readonly #drop: number;
  /** The scope without a token, compiled once; null when the config alone does not scope (JWT-only labels). */
  readonly #base: CompiledMetrics | null;
  readonly #claims = new LruCache<CompiledMetrics>(CLAIM_CACHE_SIZE);

  constructor(config: TenantConfig, allow: readonly WholeMatcher[], drop: number, raw: unknown = null) {
    this.config = config;
    this.maxBodyBytes = config.maxBodyBytes;
    this.source = { key: JSON.stringify([raw, drop]), raw, dropSrcPathPrefixParts: drop };
    this.#readLimit = { bytes: config.bounds.maxReadBodyBytes, refusal: readBodyRefusal(config.bounds, null).refusal };
    this.#jsonLimit = {
      bytes: config.bounds.maxJsonBodyBytes,
      refusal: refuse(413, 'tenant_bound_json_body', `the request body is larger than ${config.bounds.maxJsonBodyBytes} bytes (${BOUND_KEYS.maxJsonBodyBytes}), the most a JSON body of this endpoint may be`),
    };
    this.#writeLimit = {
      bytes: config.maxBodyBytes,
      refusal: refuse(413, 'tenant_body_too_large', `the request body is larger than ${config.maxBodyBytes} bytes (tenant.max_body_size), the most tenant enforcement reads`),
    };
    this.decodesWrites = config.enforce === 'promql' && config.mode !== 'read';
    this.#allow = allow;
    this.#drop = drop;
    this.#base = config.enforce !== 'victorialogs' && config.labels.size > 0 ? this.#compileMetrics(metricsScope(config, null)) : null;
  }

  #compileMetrics(scope: MetricsScope): CompiledMetrics {
    return {
      scope,
      promql: this.config.enforce === 'promql' ? compileScope(scope) : this.config.enforce === 'victoriametrics' ? compileOptional(scope) : null,
      vm: this.config.enforce === 'victoriametrics' ? vmArgs(scope) : null,
    };
  }

  #metrics(access: VmAccess | null): CompiledMetrics {
    if (access === null) {
      if (this.#base === null) throw new TenantRefused(403, 'tenant_unscoped', 'no tenant labels apply to this request (set tenant.labels)');
      return this.#base;
    }
    const scope = metricsScope(this.config, access);
    const hit = this.#claims.get(scope.key);
    if (hit !== undefined) return { ...hit, scope };
    const compiled = this.#compileMetrics(scope);
    this.#claims.set(scope.key, compiled);
    return compiled;
  }

  #path(path: string): string {
    return this.#drop > 0 ? dropPrefixParts(path, this.#drop) : path;
  }

  /**
   * Writes and operator-allowed paths may carry large bodies; JSON bodies that are parsed and
   * rebuilt (Alertmanager) have their own bound; everything else is a read and gets the read bound.
   */
  bodyLimit(method: string, rawPath: string): BodyLimit {
    const path = this.#path(rawPath);
    if (this.#allow.length > 0 && this.#allow.some((m) => m.test(path))) return this.#writeLimit;
    const ep = classifyRequest(this.config.enforce, path, method.toUpperCase());
    if (ep === null || ep.access !== 'write') return this.#readLimit;
    return ep.api === 'am_alerts_post' || ep.api === 'am_silences_post' ? this.#jsonLimit : this.#writeLimit;
  }

  workSize(req: TenantRequest): number {
    const body = req.body;
    let n = req.rawQuery.length;
    if (body === null) return n;
    const ep = classifyRequest(this.config.enforce, this.#path(req.path), req.method.toUpperCase());
    if (ep?.api !== 'remote_write') return n + body.length;
    // A remote write is decoded, rewritten and encoded again: the decoded size is the work,
    // counted at 1/16 because a decoded byte costs about that much less than a byte of form or
    // query to parse (bench/micro/offload-threshold.ts).
    const limit = writeDecodedLimit(this.config.bounds, body.length);
    const enc = (req.headers['content-encoding'] ?? '').trim().toLowerCase();
    let decoded = limit;
    if (enc === '' || enc === 'snappy') {
      // A block declaring more than the limit is refused before decoding: no work to move.
      try { const declared = readSnappyPreamble(body).length; decoded = declared > limit ? 0 : declared; } catch { decoded = 0; }
    }
    return n + Math.ceil(decoded / WRITE_BYTES_PER_WORK_BYTE);
  }

  enforce(req: TenantRequest): TenantDecision {
    let d: TenantDecision;
    try {
      d = this.#enforce(req);
    } catch (err) {
      if (err instanceof TenantRefused) d = err.refusal;
      else throw err;
    }
    if (d.kind === 'forward') return d;
    const path = this.#drop > 0 ? dropPrefixParts(req.path, this.#drop) : req.path;
    const format = refusalFormat(this.config.enforce, path);
    if (d.kind === 'refuse') return { ...d, format };
    // A lookup's own refusals are answered in the same format.
    const lookup = d;
    return { ...lookup, decide: (r) => { const x = lookup.decide(r); return x.kind === 'refuse' ? { ...x, format } : x; } };
  }

  #enforce(req: TenantRequest): TenantDecision {
    const cfg = this.config;
    const path = this.#path(req.path);
    const method = req.method.toUpperCase();
    if (this.#allow.length > 0 && this.#allow.some((m) => m.test(path))) return classified('allowed_path', this.#allowed(req, method));
    const ep = classifyRequest(cfg.enforce, path, method);
    if (ep === null) {
      return refuse(403, 'tenant_path_not_allowed', `${path || '/'} is not an endpoint tenantgate can scope to a tenant (enforce: ${cfg.enforce}); ask the operator to allow it with tenant.allow_paths if it exposes no tenant data`);
    }
    if (ep.api === 'admin') return refuse(403, 'tenant_admin_path', `${path} is an administrative endpoint and is not available to tenant users`);
    if (ep.api === 'logs_tenant_ids') return refuse(403, 'tenant_logs_tenant_ids', '/select/tenant_ids lists every tenant and is not available to tenant users');
    if (cfg.enforce === 'victoriametrics') checkCluster(ep, cfg, req);
    if (!ep.methods.includes(method)) return refuse(405, 'tenant_method_not_allowed', `${method} is not allowed on ${path}; use ${ep.methods.join(' or ')}`);
    return classified(ep.access, this.#enforceEndpoint(ep, path, req));
  }

  #enforceEndpoint(ep: Endpoint, path: string, req: TenantRequest): TenantDecision {
    const cfg = this.config;
    if (cfg.enforce === 'victorialogs') {
      const scope = logsScope(cfg, req.access);
      this.#checkMode(ep, scope);
      return enforceVictoriaLogs(ep, cfg, scope, req);
    }
    const m = this.#metrics(req.access);
    this.#checkMode(ep, m.scope);
    if (ep.api === 'am_alerts_post') {
      const unsafe = this.#alertPostRefusal(path, m.scope);
      if (unsafe !== null) return unsafe;
    }
    if (cfg.enforce === 'victoriametrics') return enforceVictoriaMetrics(ep, cfg, m.vm!, req, m.promql);
    return enforcePromql(ep, cfg, m.scope, m.promql!, req);
  }

  #checkMode(ep: Endpoint, scope: { readonly read: boolean; readonly write: boolean }): void {
    if (ep.access === 'read' && !scope.read) throw new TenantRefused(403, 'tenant_mode_forbids_read', 'this user may only write (tenant mode: write)');
    if (ep.access === 'write' && !scope.write) throw new TenantRefused(403, 'tenant_mode_forbids_write', 'this user may only read (tenant mode: read)');
  }

  /** Alert posts reach only Alertmanagers whose configuration keeps tenants apart (enforce/alertmanager). */
  #alertPostRefusal(path: string, scope: MetricsScope): TenantDecision | null {
    // The watcher reads <url_prefix>/api/v2/status; an Alertmanager under a further /alertmanager
    // prefix is a different one, whose configuration it never read.
    if (path.startsWith('/alertmanager/')) {
      return refuse(503, 'tenant_alertmanager_unchecked', 'alert posts under /alertmanager/ are refused: tenantgate checks the Alertmanager at url_prefix/api/v2/status only; point url_prefix at the Alertmanager and post to /api/v2/alerts');
    }
    const r = alertmanagerGuard.refusal(this, [...scope.labels.keys()]);
    return r === null ? null : refuse(r.status, r.reason, r.message);
  }

  /**
   * An operator-allowed path: forwarded as sent, but still subject to the mode and tenant headers;
   * a write keeps only the client args allowed by `write_args`, as on every write.
   */
  #allowed(req: TenantRequest, method: string): TenantDecision {
    const cfg = this.config;
    const write = !(method === 'GET' || method === 'HEAD');
    const access = write ? 'write' : 'read';
    const rawQuery = write ? encodeQuery(allowedWriteArgs(req.rawQuery, cfg.writeArgs)) : req.rawQuery;
    if (cfg.enforce === 'victorialogs') {
      const scope = logsScope(cfg, req.access);
      this.#checkMode({ access, api: 'logs_read', methods: [], cluster: null }, scope);
      const removeHeaders = write ? victoriaLogsWriteHeadersToDrop(req.headers, cfg.writeHeaders) : TENANT_HEADERS;
      return { kind: 'forward', rawQuery, setHeaders: [['AccountID', String(scope.accountId)], ['ProjectID', String(scope.projectId)]], removeHeaders };
    }
    const m = this.#metrics(req.access);
    this.#checkMode({ access, api: 'vm_read', methods: [], cluster: null }, m.scope);
    return { kind: 'forward', rawQuery, removeHeaders: TENANT_HEADERS };
  }
}

/** Marks a forward decision with the endpoint's classification, for the audit trail. */
function classified(access: string, d: TenantDecision): TenantDecision {
  return d.kind === 'forward' ? { ...d, access } : d;
}

/**
 * The PromQL form of a VictoriaMetrics scope, used only to filter rules and alerts; a filter
 * VictoriaMetrics accepts but the PromQL library cannot compile leaves those two endpoints refused.
 */
function compileOptional(scope: MetricsScope): CompiledTenant | null {
  try {
    return compileScope(scope);
  } catch (err) {
    if (err instanceof TenantRefused) return null;
    throw err;
  }
}

export function compileTenantPolicy(raw: unknown, path: ConfigPath, context: TenantPolicyContext = {}): TenantPolicy {
  const cfg = parseTenantConfig(raw, path);
  const allow = cfg.allowPaths.map((p, i) => {
    try {
      return compileWholeMatch(p);
    } catch (err) {
      if (err instanceof RegexError) throw new FieldError([...path, 'allow_paths', i], err.message);
      throw err;
    }
  });
  try {
    return new CompiledTenantPolicy(cfg, allow, Math.max(0, context.dropSrcPathPrefixParts ?? 0), raw);
  } catch (err) {
    if (err instanceof TenantRefused) {
      const field = err.refusal.reason === 'tenant_claims_invalid' ? 'filters' : 'labels';
      throw new FieldError([...path, field], err.message);
    }
    throw err;
  }
}
