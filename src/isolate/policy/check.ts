// Applying the alert-definition policy to one object. Pure: returns every violation as
// `field: reason` (the webhook lists them all in its denial; the compiler reports them and leaves
// the object out). The object has already been hardened, so its shape is known to be valid.
import { collectSelectors, parsePromql, type VectorSelector } from '../../enforce/promql/index.ts';
import { amKeys, type AmRoute, type AmSpec } from '../alertmanager-model.ts';
import { isFromSecret } from '../alertmanager-receivers.ts';
import { durationMs } from '../durations.ts';
import { kindInfo, type MonitoringObject } from '../objects.ts';
import { isObj, type Obj } from '../util.ts';
import type { NamespacePolicy } from './load.ts';

function rulesOf(o: MonitoringObject): { rule: Obj; field: string; groupLabels: Obj }[] {
  const out: { rule: Obj; field: string; groupLabels: Obj }[] = [];
  const groups = Array.isArray(o.spec.groups) ? o.spec.groups : [];
  groups.forEach((g: unknown, gi) => {
    if (!isObj(g)) return;
    const groupLabels = isObj(g.labels) ? g.labels : {};
    (Array.isArray(g.rules) ? g.rules : []).forEach((r: unknown, ri) => {
      if (isObj(r)) out.push({ rule: r, field: `spec.groups[${gi}].rules[${ri}]`, groupLabels });
    });
  });
  return out;
}

/** How many rules an object defines (for `maxRulesPerNamespace`). */
export function ruleCount(o: MonitoringObject): number {
  return rulesOf(o).length;
}

function metricName(s: VectorSelector): string | undefined {
  if (s.metric !== null) return s.metric;
  const eq = s.matchers.find((m) => m.name === '__name__' && m.op === '=');
  return eq?.value;
}

function checkMetrics(expr: string, field: string, p: NamespacePolicy, out: string[]): void {
  if (p.metricsAllow === undefined && p.metricsDeny.length === 0) return;
  let selectors: VectorSelector[];
  try { selectors = collectSelectors(parsePromql(expr)); } catch { return; } // hardening reports parse errors
  for (const s of selectors) {
    const name = metricName(s);
    if (name === undefined) {
      out.push(`${field}: a selector without an exact metric name cannot be checked against the policy's metric list; name the metric`);
      continue;
    }
    if (p.metricsAllow !== undefined && !p.metricsAllow.some((re) => re.matches(name))) out.push(`${field}: metric "${name}" is not in the policy's allow list for this namespace`);
    if (p.metricsDeny.some((re) => re.matches(name))) out.push(`${field}: metric "${name}" is denied by the policy`);
  }
}

/** Violations of a VMRule / PrometheusRule. `rulesBefore` counts the namespace's rules already admitted. */
export function checkRulesPolicy(o: MonitoringObject, p: NamespacePolicy, rulesBefore = 0): string[] {
  const out: string[] = [];
  const rules = rulesOf(o);
  if (p.maxRulesPerNamespace !== undefined && rulesBefore + rules.length > p.maxRulesPerNamespace) {
    out.push(`spec.groups: ${rules.length} rules${rulesBefore > 0 ? ` on top of ${rulesBefore} already defined in namespace ${o.metadata.namespace}` : ''} exceed the policy's maximum of ${p.maxRulesPerNamespace} rules per namespace`);
  }
  for (const { rule, field, groupLabels } of rules) {
    const expr = typeof rule.expr === 'number' ? String(rule.expr) : typeof rule.expr === 'string' ? rule.expr : '';
    checkMetrics(expr, `${field}.expr`, p, out);
    if (rule.alert === undefined) continue;
    const labels: Obj = { ...groupLabels, ...(isObj(rule.labels) ? rule.labels : {}) };
    for (const [name, allowed] of p.requiredLabels) {
      const v = labels[name];
      if (typeof v !== 'string' || v === '') { out.push(`${field}.labels.${name}: required by the policy${allowed.length > 0 ? ` (one of ${allowed.join(', ')})` : ''}`); continue; }
      if (allowed.length > 0 && !allowed.includes(v)) out.push(`${field}.labels.${name}: "${v}" is not allowed by the policy (one of ${allowed.join(', ')})`);
    }
    const ann = isObj(rule.annotations) ? rule.annotations : {};
    for (const name of p.requiredAnnotations) {
      if (typeof ann[name] !== 'string' || (ann[name] as string).trim() === '') out.push(`${field}.annotations.${name}: required by the policy`);
    }
    if (p.maxAnnotationBytes !== undefined) {
      for (const [k, v] of Object.entries(ann)) {
        const n = Buffer.byteLength(String(v));
        if (n > p.maxAnnotationBytes) out.push(`${field}.annotations.${k}: ${n} bytes exceed the policy's limit of ${p.maxAnnotationBytes}`);
      }
    }
    if (p.minForMs !== undefined) {
      const f = durationMs(rule.for ?? '0s') ?? 0;
      if (f < p.minForMs) out.push(`${field}.for: ${rule.for === undefined ? 'unset (fires on the first evaluation)' : `"${String(rule.for)}"`} is shorter than the policy's minimum of ${p.minFor!}`);
    }
  }
  return out;
}

/** URL-valued fields that say where an integration sends alerts or credentials. */
const DESTINATIONS = ['url', 'api_url', 'webhook_url'];

function hostAllowed(host: string, patterns: readonly string[]): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  return patterns.some((p) => (p.startsWith('*.') ? h.endsWith(p.slice(1)) && h.length > p.length - 1 : h === p));
}

function checkUrl(v: unknown, field: string, hosts: readonly string[], out: string[]): void {
  if (isFromSecret(v)) { out.push(`${field}: the destination is held in a Secret and cannot be checked against the approved hosts (${hosts.join(', ')})`); return; }
  if (typeof v !== 'string') return;
  let host: string;
  try { host = new URL(v).hostname; } catch { out.push(`${field}: not a URL`); return; }
  if (!hostAllowed(host, hosts)) out.push(`${field}: host "${host}" is not an approved notification destination (${hosts.join(', ')})`);
}

function checkEmail(v: unknown, field: string, domains: readonly string[], out: string[]): void {
  if (isFromSecret(v)) { out.push(`${field}: an address held in a Secret cannot be checked against the approved e-mail domains`); return; }
  if (typeof v !== 'string') return;
  if (v.includes('{{')) { out.push(`${field}: a templated address cannot be checked against the approved e-mail domains`); return; }
  for (const addr of v.split(',')) {
    const m = /@([^@>\s]+)>?\s*$/.exec(addr.trim());
    const domain = m?.[1]?.toLowerCase();
    if (domain === undefined || !domains.includes(domain)) out.push(`${field}: "${addr.trim()}" is not in an approved e-mail domain (${domains.join(', ')})`);
  }
}

/** Violations of a VMAlertmanagerConfig / AlertmanagerConfig, read in Alertmanager spelling. */
export function checkAlertmanagerPolicy(o: MonitoringObject, spec: AmSpec, p: NamespacePolicy): string[] {
  const out: string[] = [];
  const k = amKeys(kindInfo(o.kind)!.dialect);
  spec.receivers.forEach((r, i) => {
    for (const [type, configs] of Object.entries(r.configs)) {
      const f = `spec.receivers[${i}].${type}`;
      if (p.integrations !== undefined && !p.integrations.has(type)) {
        out.push(`${f}: integration "${type.replace(/_configs$/, '')}" is not approved by the policy (approved: ${[...p.integrations].map((t) => t.replace(/_configs$/, '')).join(', ')})`);
        continue;
      }
      configs.forEach((c, j) => {
        if (!isObj(c)) return;
        const cf = `${f}[${j}]`;
        if (p.urlHosts !== undefined) {
          // Pushover's `url` is a link shown in the message, not where it is sent.
          for (const d of DESTINATIONS) if (!(type === 'pushover_configs' && d === 'url')) checkUrl(c[d], `${cf}.${d}`, p.urlHosts, out);
          // An own SMTP relay would receive every alert of the team: it is a destination too.
          if (type === 'email_configs' && typeof c.smarthost === 'string') {
            const host = c.smarthost.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
            if (!hostAllowed(host, p.urlHosts)) out.push(`${cf}.smarthost: host "${host}" is not an approved notification destination (${p.urlHosts.join(', ')})`);
          }
          const http = isObj(c.http_config) ? c.http_config : undefined;
          if (http !== undefined) {
            checkUrl(http.proxy_url, `${cf}.http_config.proxy_url`, p.urlHosts, out);
            if (isObj(http.oauth2)) checkUrl(http.oauth2.token_url, `${cf}.http_config.oauth2.token_url`, p.urlHosts, out);
          }
        }
        if (p.emailDomains !== undefined && type === 'email_configs') checkEmail(c.to, `${cf}.to`, p.emailDomains, out);
      });
    }
  });
  const minGroup = p.minGroupInterval !== undefined ? durationMs(p.minGroupInterval)! : undefined;
  const minRepeat = p.minRepeatInterval !== undefined ? durationMs(p.minRepeatInterval)! : undefined;
  const walk = (r: AmRoute, field: string) => {
    if (minGroup !== undefined && r.groupInterval !== undefined && durationMs(r.groupInterval)! < minGroup) {
      out.push(`${field}.${k.groupInterval}: "${r.groupInterval}" is shorter than the policy's minimum group interval ${p.minGroupInterval!}`);
    }
    if (minRepeat !== undefined && r.repeatInterval !== undefined && durationMs(r.repeatInterval)! < minRepeat) {
      out.push(`${field}.${k.repeatInterval}: "${r.repeatInterval}" is shorter than the policy's repeat interval floor ${p.minRepeatInterval!}`);
    }
    r.routes.forEach((c, i) => walk(c, `${field}.routes[${i}]`));
  };
  if (spec.route !== undefined) walk(spec.route, 'spec.route');
  return out;
}
