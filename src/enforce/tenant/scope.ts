// The tenant a request is scoped to: the config's `tenant:` section, narrowed by the caller's JWT
// `vm_access` claim when there is one. The config can narrow a token, never widen it:
//   - labels present in both are intersected (no common value: refused);
//   - filters of the config and of the token are ANDed (each side's filters are ORed);
//   - the mode is what both allow;
//   - a logs tenant id set in both must agree.
import type { VmAccess } from '../../identify/jwt/index.ts';
import type { LabelMatcher } from '../promql/index.ts';
import { parsePromql, PromqlEnforceError } from '../promql/index.ts';
import { printMatcher } from '../promql/print.ts';
import type { TenantConfig } from './config.ts';
import { TenantRefused } from './refusal.ts';

export interface MetricsScope {
  /** label → sorted, de-duplicated values ("one of"). */
  readonly labels: ReadonlyMap<string, readonly string[]>;
  /** Groups of series selectors: each group is ORed, the groups are ANDed. */
  readonly filterGroups: readonly (readonly string[])[];
  readonly read: boolean;
  readonly write: boolean;
  /** Identifies the scope's content, for caches of compiled forms. */
  readonly key: string;
}

export interface LogsScope {
  readonly accountId: number;
  readonly projectId: number;
  readonly extraFilters: readonly string[];
  readonly extraStreamFilters: readonly string[];
  readonly read: boolean;
  readonly write: boolean;
}

/** At most this many selectors come out of ANDing filter groups, so a claim cannot blow up a request. */
const MAX_COMBINED_FILTERS = 64;

function modeAllows(cfg: TenantConfig, access: VmAccess | null): { read: boolean; write: boolean } {
  const read = cfg.mode !== 'write' && (access === null || access.mode !== 'write');
  const write = cfg.mode !== 'read' && (access === null || access.mode !== 'read');
  return { read, write };
}

function tokenLabels(access: VmAccess): Map<string, string> {
  const out = new Map<string, string>();
  for (const pair of access.metricsExtraLabels) {
    const eq = pair.indexOf('=');
    const name = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    if (name.startsWith('__')) throw new TenantRefused(403, 'tenant_claims_invalid', `the token's label ${name} is reserved and cannot scope a tenant`);
    if (value === '') throw new TenantRefused(403, 'tenant_claims_invalid', `the token's label ${name} has an empty value and cannot scope a tenant`);
    const prev = out.get(name);
    // vmselect ANDs repeated extra_label args, so two values of one label select nothing.
    if (prev !== undefined && prev !== value) throw new TenantRefused(403, 'tenant_claims_conflict', `the token gives label ${name} two different values`);
    out.set(name, value);
  }
  return out;
}

export function metricsScope(cfg: TenantConfig, access: VmAccess | null): MetricsScope {
  const { read, write } = modeAllows(cfg, access);
  const labels = new Map(cfg.labels);
  const groups: (readonly string[])[] = [];
  if (cfg.filters.length > 0) groups.push(cfg.filters);
  if (access !== null) {
    for (const [name, value] of tokenLabels(access)) {
      const own = labels.get(name);
      if (own === undefined) labels.set(name, [value]);
      else if (own.includes(value)) labels.set(name, [value]);
      else throw new TenantRefused(403, 'tenant_claims_conflict', `the token's ${name}="${value}" is outside what the configuration allows for this user`);
    }
    if (access.metricsExtraFilters.length > 0) groups.push(access.metricsExtraFilters);
  }
  if (labels.size === 0) throw new TenantRefused(403, 'tenant_unscoped', 'no tenant labels apply to this request (set tenant.labels, or give the token metrics_extra_labels)');
  const sorted = [...labels.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return { labels: new Map(sorted), filterGroups: groups, read, write, key: JSON.stringify([sorted, groups]) };
}

export function logsScope(cfg: TenantConfig, access: VmAccess | null): LogsScope {
  const { read, write } = modeAllows(cfg, access);
  const logs = cfg.logs;
  let accountId = logs?.accountId ?? null;
  let projectId = logs?.projectId ?? null;
  if (access !== null && access.logsTenantGiven) {
    // A token that names a logs tenant must name this user's (when the configuration fixes one);
    // a token without logs_account_id adds nothing, so it never lands in tenant 0 by default.
    if (accountId !== null && access.logsAccountId !== accountId) {
      throw new TenantRefused(403, 'tenant_claims_conflict', "the token's logs_account_id differs from this user's configured logs.account_id");
    }
    if (projectId !== null && access.logsProjectGiven && access.logsProjectId !== projectId) {
      throw new TenantRefused(403, 'tenant_claims_conflict', "the token's logs_project_id differs from this user's configured logs.project_id");
    }
    accountId ??= access.logsAccountId;
    if (access.logsProjectGiven) projectId ??= access.logsProjectId;
  }
  if (accountId === null) throw new TenantRefused(403, 'tenant_unscoped', 'no VictoriaLogs tenant applies to this request (set tenant.logs.account_id, or use a token with logs_account_id)');
  return {
    accountId,
    projectId: projectId ?? 0,
    extraFilters: [...(logs?.extraFilters ?? []), ...(access?.logsExtraFilters ?? [])],
    extraStreamFilters: [...(logs?.extraStreamFilters ?? []), ...(access?.logsExtraStreamFilters ?? [])],
    read,
    write,
  };
}

function selectorMatchers(filter: string): LabelMatcher[] {
  let expr;
  try {
    expr = parsePromql(filter);
  } catch (err) {
    if (err instanceof PromqlEnforceError) throw new TenantRefused(403, 'tenant_claims_invalid', `filter ${JSON.stringify(filter)} cannot be combined with the other filters: ${err.message}`);
    throw err;
  }
  if (expr.kind !== 'vector') throw new TenantRefused(403, 'tenant_claims_invalid', `filter ${JSON.stringify(filter)} is not a plain series selector`);
  return expr.metric !== null ? [{ name: '__name__', op: '=', value: expr.metric }, ...expr.matchers] : [...expr.matchers];
}

/**
 * ANDs groups of ORed selectors into one ORed list: (a or b) and (c) = (a,c) or (b,c). With one
 * group the filters are passed on as written (they may be MetricsQL); combining needs PromQL
 * selectors, since the matchers are merged into one `{…}`.
 */
export function combineFilterGroups(groups: readonly (readonly string[])[]): string[] {
  if (groups.length === 0) return [];
  if (groups.length === 1) return [...groups[0]!];
  let acc: LabelMatcher[][] = [[]];
  for (const g of groups) {
    const parsed = g.map(selectorMatchers);
    const next: LabelMatcher[][] = [];
    for (const a of acc) for (const p of parsed) next.push([...a, ...p]);
    if (next.length > MAX_COMBINED_FILTERS) throw new TenantRefused(403, 'tenant_claims_invalid', `the filters combine into more than ${MAX_COMBINED_FILTERS} selectors`);
    acc = next;
  }
  return acc.map((ms) => `{${dedupe(ms).map(printMatcher).join(', ')}}`);
}

function dedupe(ms: readonly LabelMatcher[]): LabelMatcher[] {
  const seen = new Set<string>();
  return ms.filter((m) => {
    const k = `${m.name}\0${m.op}\0${m.value}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
