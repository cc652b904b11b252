/** The two entry points the HTTP proxy and the rule compiler call. */
import { PromqlEnforceError } from './errors.ts';
import { enforceExpr, enforceSelector } from './inject.ts';
import type { ParseLimits } from './parse.ts';
import { DEFAULT_PARSE_LIMITS, parsePromql } from './parse.ts';
import { printExpr, printVectorSelector } from './print.ts';
import type { CompiledTenant } from './tenant.ts';
import { CACHEABLE_QUERY_LENGTH, CompiledTenant as CompiledTenantClass, tenantSelectors } from './tenant.ts';

export type EnforceLimits = ParseLimits;

function checkTenant(tenant: CompiledTenant): void {
  // A structurally similar object could carry unvalidated matchers.
  if (!(tenant instanceof CompiledTenantClass)) throw new TypeError('tenant must come from compileTenant()');
}

/**
 * Returns `query` rewritten so every selector carries the tenant's matchers
 * (and filter matchers). Throws PromqlEnforceError for anything that does not
 * parse completely.
 */
export function enforceQuery(query: string, tenant: CompiledTenant, limits: EnforceLimits = DEFAULT_PARSE_LIMITS): string {
  checkTenant(tenant);
  if (typeof query !== 'string') throw new PromqlEnforceError('ERR_PROMQL_PARSE', 'PromQL query must be a string');
  if (!tenant.queryable) {
    throw new PromqlEnforceError(
      'ERR_PROMQL_FILTERS_UNSUPPORTED',
      'this tenant has several filters that cannot be expressed in one PromQL selector; queries are refused',
    );
  }
  const useCache = tenant.cacheSize > 0 && query.length <= CACHEABLE_QUERY_LENGTH && limits === DEFAULT_PARSE_LIMITS;
  if (useCache) {
    const hit = tenant.cache.get(query);
    if (hit !== undefined) {
      tenant.cache.delete(query);
      tenant.cache.set(query, hit);
      return hit;
    }
  }
  const expr = parsePromql(query, limits);
  const out = printExpr(enforceExpr(expr, tenant.injections[0]!, tenant));
  if (useCache) {
    if (tenant.cache.size >= tenant.cacheSize) tenant.cache.delete(tenant.cache.keys().next().value!);
    tenant.cache.set(query, out);
  }
  return out;
}

/**
 * For `match[]` of /api/v1/series, /api/v1/labels, /api/v1/label/<n>/values
 * and /federate. match[] entries are ORed by Prometheus, so with several
 * filters each selector is emitted once per filter (cross product). An empty
 * list yields the tenant's own selector(s), so the endpoint is always scoped.
 */
export function enforceSeriesSelectors(match: readonly string[], tenant: CompiledTenant, limits: EnforceLimits = DEFAULT_PARSE_LIMITS): string[] {
  checkTenant(tenant);
  if (!Array.isArray(match)) throw new PromqlEnforceError('ERR_PROMQL_NOT_SELECTOR', 'match[] must be an array of series selectors');
  if (match.length === 0) return tenantSelectors(tenant);
  const out: string[] = [];
  const seen = new Set<string>();
  match.forEach((m, i) => {
    if (typeof m !== 'string') throw new PromqlEnforceError('ERR_PROMQL_NOT_SELECTOR', `match[${i}] must be a string`);
    const expr = parsePromql(m, limits);
    if (expr.kind !== 'vector') {
      throw new PromqlEnforceError('ERR_PROMQL_NOT_SELECTOR', `match[${i}] must be a series selector like up{job="x"}, not a ${expr.kind} expression`, 0);
    }
    for (const injected of tenant.injections) {
      const s = printVectorSelector(enforceSelector(expr, injected, tenant));
      if (!seen.has(s)) {
        seen.add(s);
        out.push(s);
      }
    }
  });
  return out;
}
