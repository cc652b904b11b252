/**
 * Filters for Prometheus API responses the proxy cannot scope by rewriting
 * the request: /api/v1/rules and /api/v1/alerts. Input is the parsed JSON
 * body; output is a new object (the input is not modified).
 */
import { PromqlResponseError } from './errors.ts';
import { expressionPinsTenant, labelsPinTenant } from './pinning.ts';
import type { CompiledTenant } from './tenant.ts';

type Json = Record<string, unknown>;

export interface FilterRulesOptions {
  /**
   * Also show an alerting rule that is not pinned to the tenant when some of
   * its active alerts are; only those alerts are kept (like prom-label-proxy's
   * -rules-with-active-alerts). Default false.
   */
  readonly includeRulesWithTenantAlerts?: boolean;
}

function isObject(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Returns the `data` object of a success response, or null for an error response (passed through). */
function successData(resp: unknown): Json | null {
  if (!isObject(resp)) throw new PromqlResponseError('(body)', 'expected a JSON object');
  if (resp.status !== 'success') {
    if (resp.status === 'error' && !('data' in resp)) return null;
    throw new PromqlResponseError('status', `expected "success" or an error without data, got ${JSON.stringify(resp.status)}`);
  }
  if (!isObject(resp.data)) throw new PromqlResponseError('data', 'expected an object');
  return resp.data;
}

function alertState(alerts: readonly Json[]): string {
  if (alerts.some((a) => a.state === 'firing')) return 'firing';
  if (alerts.some((a) => a.state === 'pending')) return 'pending';
  return 'inactive';
}

function filterRule(rule: unknown, tenant: CompiledTenant, options: FilterRulesOptions): Json | null {
  if (!isObject(rule) || (rule.type !== 'alerting' && rule.type !== 'recording')) return null;
  if (labelsPinTenant(rule.labels, tenant) || expressionPinsTenant(rule.query, tenant)) return rule;
  if (rule.type !== 'alerting' || options.includeRulesWithTenantAlerts !== true || !Array.isArray(rule.alerts)) return null;
  const alerts = rule.alerts.filter((a): a is Json => isObject(a) && labelsPinTenant(a.labels, tenant));
  if (alerts.length === 0) return null;
  return { ...rule, alerts, state: alertState(alerts) };
}

/**
 * /api/v1/rules: keeps a rule when its `labels` pin the tenant (every tenant
 * label present with a tenant value) or every selector of its `query` has an
 * equality matcher on each tenant label with a tenant value. Groups left
 * without rules are removed. See docs/promql-enforcement.md.
 */
export function filterRulesResponse(resp: unknown, tenant: CompiledTenant, options: FilterRulesOptions = {}): unknown {
  const data = successData(resp);
  if (data === null) return resp;
  if (!Array.isArray(data.groups)) throw new PromqlResponseError('data.groups', 'expected an array');
  const groups: Json[] = [];
  data.groups.forEach((g: unknown, i: number) => {
    if (!isObject(g) || !Array.isArray(g.rules)) throw new PromqlResponseError(`data.groups[${i}].rules`, 'expected an array');
    const rules = g.rules.map((r: unknown) => filterRule(r, tenant, options)).filter((r): r is Json => r !== null);
    if (rules.length > 0) groups.push({ ...g, rules });
  });
  return { ...(resp as Json), data: { ...data, groups } };
}

/** /api/v1/alerts: keeps the alerts whose labels pin the tenant. */
export function filterAlertsResponse(resp: unknown, tenant: CompiledTenant): unknown {
  const data = successData(resp);
  if (data === null) return resp;
  if (!Array.isArray(data.alerts)) throw new PromqlResponseError('data.alerts', 'expected an array');
  const alerts = data.alerts.filter((a: unknown) => isObject(a) && labelsPinTenant(a.labels, tenant));
  return { ...(resp as Json), data: { ...data, alerts } };
}
