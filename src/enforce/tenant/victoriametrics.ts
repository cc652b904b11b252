// enforce: victoriametrics — VictoriaMetrics enforces the tenant itself from `extra_label` and
// `extra_filters[]` query args; tenantgate sets them and removes every client copy (from the URL
// and from urlencoded bodies), because vmselect ORs extra_filters: one client filter widens access.
import type { TenantConfig } from './config.ts';
import type { ClusterTenant, Endpoint } from './classify.ts';
import { add, allValues, checkWriteBody, encodeParams, readParams, stripParams } from './params.ts';
import type { TenantForward, TenantRequest } from './policy.ts';
import { TenantRefused } from './refusal.ts';
import { combineFilterGroups, type MetricsScope } from './scope.ts';
import { encodeQuery } from '../../lib/go-url.ts';
import { allowedWriteArgs, TENANT_HEADERS } from './write-args.ts';
import { escapeRegex, quotePromqlString } from '../promql/strings.ts';
import { filterAlertsResponse, filterRulesResponse, type CompiledTenant } from '../promql/index.ts';
import { metadataFilter } from './metadata.ts';
import { jsonFilter } from './response-filter.ts';

/** Query args vmselect and vminsert read tenant scoping from. */
export const VM_TENANT_ARGS = ['extra_label', 'extra_filters', 'extra_filters[]'] as const;
export { TENANT_HEADERS } from './write-args.ts';

/** The args a scope turns into: single-valued labels as extra_label, the rest as extra_filters[]. */
export interface VmArgs {
  readonly extraLabels: readonly string[];
  readonly filters: readonly string[];
  /** The labels as written (`name=value`), or null when some label has several values. */
  readonly writeLabels: readonly string[] | null;
}

export function vmArgs(scope: MetricsScope): VmArgs {
  const extraLabels: string[] = [];
  const groups = [...scope.filterGroups];
  let multi = false;
  for (const [name, values] of scope.labels) {
    if (values.length === 1) extraLabels.push(`${name}=${values[0]!}`);
    else {
      // "one of" has no extra_label form; as a filter it is ANDed into every other filter.
      multi = true;
      groups.push([`{${name}=~${quotePromqlString(values.map(escapeRegex).join('|'))}}`]);
    }
  }
  return { extraLabels, filters: combineFilterGroups(groups), writeLabels: multi ? null : extraLabels };
}

/** A cluster tenant in the path must be this user's: a client may not pick `/select/<other>/…`. */
export function checkCluster(ep: Endpoint, cfg: TenantConfig, req: TenantRequest): void {
  if (ep.cluster === null) return;
  if (ep.cluster === 'multitenant') throw new TenantRefused(403, 'tenant_cluster_path', 'multitenant paths read every tenant and are refused');
  const want: ClusterTenant[] = [];
  if (cfg.clusterTenant !== null) want.push(cfg.clusterTenant);
  if (req.access !== null && req.access.metricsTenantGiven) want.push({ accountId: req.access.metricsAccountId, projectId: req.access.metricsProjectId });
  if (want.length === 0) {
    throw new TenantRefused(403, 'tenant_cluster_path',
      'the path names a VictoriaMetrics cluster tenant, which a client may not choose; put the tenant in url_prefix (or set tenant.cluster_tenant)');
  }
  for (const w of want) {
    if (w.accountId !== ep.cluster.accountId || w.projectId !== ep.cluster.projectId) {
      throw new TenantRefused(403, 'tenant_cluster_path', 'the path names a VictoriaMetrics cluster tenant other than this user\'s');
    }
  }
}

/** A selector matching every series: vmselect can be told to skip extra filters on labels APIs without match[]. */
const ALL_SERIES = '{__name__=~".+"}';

export function enforceVictoriaMetrics(ep: Endpoint, cfg: TenantConfig, args: VmArgs, req: TenantRequest, tenant: CompiledTenant | null): TenantForward {
  const removeHeaders = TENANT_HEADERS;
  if (ep.access === 'write') {
    checkWriteBody(req);
    if (args.writeLabels === null) throw new TenantRefused(403, 'tenant_multi_value_write', 'a tenant with several values for a label cannot write: which one would the data belong to?');
    // Only args the operator allows by name; vminsert lets extra_label override labels in the body.
    const url = allowedWriteArgs(req.rawQuery, cfg.writeArgs);
    for (const l of args.writeLabels) add(url, 'extra_label', l);
    return { kind: 'forward', rawQuery: encodeQuery(url), removeHeaders };
  }
  const p = readParams(req, cfg.bounds);
  stripParams(p, VM_TENANT_ARGS);
  if (ep.api === 'vm_labels' && allValues(p, 'match[]').length === 0) add(p.url, 'match[]', ALL_SERIES);
  // Metadata does not read match[]; the metric-name lookup must not get a client's.
  if (ep.api === 'metadata') stripParams(p, ['match[]']);
  for (const l of args.extraLabels) add(p.url, 'extra_label', l);
  for (const f of args.filters) add(p.url, 'extra_filters[]', f);
  const fwd: TenantForward = { kind: 'forward', ...encodeParams(p), removeHeaders };
  switch (ep.api) {
    case 'metadata':
      return { ...fwd, responseFilter: metadataFilter(cfg.maxResponseBytes, encodeQuery(new Map([['match[]', [ALL_SERIES]]]))) };
    // vmselect answers these from vmalert (-vmalert.proxyURL), unscoped: filtered like Prometheus'.
    case 'rules':
    case 'alerts': {
      if (tenant === null) throw new TenantRefused(403, 'tenant_claims_invalid', 'the tenant\'s labels cannot be checked against rules and alerts');
      const opts = { includeRulesWithTenantAlerts: cfg.rulesWithTenantAlerts };
      return { ...fwd, responseFilter: jsonFilter(cfg.maxResponseBytes, ep.api === 'rules' ? (j) => filterRulesResponse(j, tenant, opts) : (j) => filterAlertsResponse(j, tenant)) };
    }
    default:
      return fwd;
  }
}
