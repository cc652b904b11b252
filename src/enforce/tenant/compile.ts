// Compiles a user's or url_map entry's `tenant:` section into a TenantPolicy: validation, tenant
// matchers and filters are done once here; per request only classification and the rewrite run.
import { FieldError, type ConfigPath } from '../../config/errors.ts';
import type { VmAccess } from '../../identify/jwt/index.ts';
import { compileWholeMatch, RegexError, type WholeMatcher } from '../../lib/regex.ts';
import type { CompiledTenant } from '../promql/index.ts';
import { dropPrefixParts } from '../../route/request-target.ts';
import { classifyRequest, type Endpoint } from './classify.ts';
import { parseTenantConfig, type TenantConfig } from './config.ts';
import type { TenantDecision, TenantPolicy, TenantRequest } from './policy.ts';
import { compileScope, enforcePromql } from './promql.ts';
import { refuse, TenantRefused } from './refusal.ts';
import { logsScope, metricsScope, type MetricsScope } from './scope.ts';
import { enforceVictoriaLogs } from './victorialogs.ts';
import { checkCluster, enforceVictoriaMetrics, TENANT_HEADERS, vmArgs, type VmArgs } from './victoriametrics.ts';

export interface TenantPolicyContext {
  /**
   * The route's drop_src_path_prefix_parts: the policy classifies the path the backend will
   * see. Without it, a route that drops prefix parts has every path refused (fail closed).
   */
  readonly dropSrcPathPrefixParts?: number;
}

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
  readonly #allow: readonly WholeMatcher[];
  readonly #drop: number;
  /** The scope without a token, compiled once; null when the config alone does not scope (JWT-only labels). */
  readonly #base: CompiledMetrics | null;
  readonly #claims = new LruCache<CompiledMetrics>(CLAIM_CACHE_SIZE);

  constructor(config: TenantConfig, allow: readonly WholeMatcher[], drop: number) {
    this.config = config;
    this.maxBodyBytes = config.maxBodyBytes;
    this.decodesWrites = config.enforce === 'promql' && config.mode !== 'read';
    this.#allow = allow;
    this.#drop = drop;
    this.#base = config.enforce !== 'victorialogs' && config.labels.size > 0 ? this.#compileMetrics(metricsScope(config, null)) : null;
  }

  #compileMetrics(scope: MetricsScope): CompiledMetrics {
    return {
      scope,
      promql: this.config.enforce === 'promql' ? compileScope(scope) : null,
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

  enforce(req: TenantRequest): TenantDecision {
    try {
      return this.#enforce(req);
    } catch (err) {
      if (err instanceof TenantRefused) return err.refusal;
      throw err;
    }
  }

  #enforce(req: TenantRequest): TenantDecision {
    const cfg = this.config;
    const path = this.#drop > 0 ? dropPrefixParts(req.path, this.#drop) : req.path;
    const method = req.method.toUpperCase();
    if (this.#allow.length > 0 && this.#allow.some((m) => m.test(path))) return this.#allowed(req, method);
    const ep = classifyRequest(cfg.enforce, path, method);
    if (ep === null) {
      return refuse(403, 'tenant_path_not_allowed', `${path || '/'} is not an endpoint tenantgate can scope to a tenant (enforce: ${cfg.enforce}); ask the operator to allow it with tenant.allow_paths if it exposes no tenant data`);
    }
    if (ep.api === 'admin') return refuse(403, 'tenant_admin_path', `${path} is an administrative endpoint and is not available to tenant users`);
    if (ep.api === 'logs_tenant_ids') return refuse(403, 'tenant_logs_tenant_ids', '/select/tenant_ids lists every tenant and is not available to tenant users');
    if (cfg.enforce === 'victoriametrics') checkCluster(ep, cfg, req);
    if (!ep.methods.includes(method)) return refuse(405, 'tenant_method_not_allowed', `${method} is not allowed on ${path}; use ${ep.methods.join(' or ')}`);
    if (cfg.enforce === 'victorialogs') {
      const scope = logsScope(cfg, req.access);
      this.#checkMode(ep, scope);
      return enforceVictoriaLogs(ep, cfg, scope, req);
    }
    const m = this.#metrics(req.access);
    this.#checkMode(ep, m.scope);
    if (cfg.enforce === 'victoriametrics') return enforceVictoriaMetrics(ep, cfg, m.vm!, req);
    return enforcePromql(ep, cfg, m.scope, m.promql!, req);
  }

  #checkMode(ep: Endpoint, scope: { readonly read: boolean; readonly write: boolean }): void {
    if (ep.access === 'read' && !scope.read) throw new TenantRefused(403, 'tenant_mode_forbids_read', 'this user may only write (tenant mode: write)');
    if (ep.access === 'write' && !scope.write) throw new TenantRefused(403, 'tenant_mode_forbids_write', 'this user may only read (tenant mode: read)');
  }

  /** An operator-allowed path: forwarded as sent, but still subject to the mode and tenant headers. */
  #allowed(req: TenantRequest, method: string): TenantDecision {
    const cfg = this.config;
    const write = !(method === 'GET' || method === 'HEAD');
    const access = write ? 'write' : 'read';
    if (cfg.enforce === 'victorialogs') {
      const scope = logsScope(cfg, req.access);
      this.#checkMode({ access, api: 'logs_read', methods: [], cluster: null }, scope);
      return { kind: 'forward', rawQuery: req.rawQuery, setHeaders: [['AccountID', String(scope.accountId)], ['ProjectID', String(scope.projectId)]], removeHeaders: TENANT_HEADERS.filter((h) => h !== 'accountid' && h !== 'projectid') };
    }
    const m = this.#metrics(req.access);
    this.#checkMode({ access, api: 'vm_read', methods: [], cluster: null }, m.scope);
    return { kind: 'forward', rawQuery: req.rawQuery, removeHeaders: TENANT_HEADERS };
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
    return new CompiledTenantPolicy(cfg, allow, Math.max(0, context.dropSrcPathPrefixParts ?? 0));
  } catch (err) {
    if (err instanceof TenantRefused) {
      const field = err.refusal.reason === 'tenant_claims_invalid' ? 'filters' : 'labels';
      throw new FieldError([...path, field], err.message);
    }
    throw err;
  }
}
