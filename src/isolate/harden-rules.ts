// Object-level hardening of VMRule / PrometheusRule: every rule carries `<label>: <namespace>`,
// every selector of every expression is scoped to the namespace (the shared PromQL injector),
// VMRule groups additionally get vmalert's native `params: {extra_label: [...]}`, and group
// settings that choose another tenant, send extra headers or run other query languages are refused.
import { compileTenant, enforceQuery, PromqlEnforceError, type CompiledTenant } from '../enforce/promql/index.ts';
import { IsolationError, unsafe, unsupported } from './errors.ts';
import type { MonitoringObject } from './objects.ts';
import type { IsolateOptions } from './options.ts';
import { arr, clone, obj, optObj, str, strList, type Obj } from './util.ts';

const VM_GROUP_KEYS = ['name', 'interval', 'rules', 'limit', 'eval_offset', 'eval_delay', 'eval_alignment', 'concurrency', 'labels', 'params', 'type'];
const PO_GROUP_KEYS = ['name', 'interval', 'rules', 'limit', 'partial_response_strategy', 'query_offset', 'labels'];
/** Group fields that make vmalert query or notify as someone else. */
const ESCAPING_GROUP_KEYS: Readonly<Record<string, string>> = {
  tenant: 'selects the VictoriaMetrics tenant the group reads and writes',
  headers: 'adds HTTP headers (e.g. tenant or auth headers) to datasource requests',
  notifier_headers: 'adds HTTP headers to notifier requests',
  extra_filter_labels: 'changes the label filters of datasource requests',
};
const RULE_KEYS = ['alert', 'record', 'expr', 'for', 'keep_firing_for', 'labels', 'annotations'];
const VM_RULE_KEYS = [...RULE_KEYS, 'debug', 'update_entries_limit'];
/** Query parameters a group may pass to the VictoriaMetrics datasource; all leave the data set alone. */
const SAFE_PARAMS = new Set(['nocache', 'latency_offset', 'round_digits']);

const tenants = new Map<string, CompiledTenant>();
export function namespaceTenant(label: string, namespace: string): CompiledTenant {
  const key = `${label}\u0000${namespace}`;
  let t = tenants.get(key);
  if (t === undefined) {
    t = compileTenant({ matchers: [{ label, values: [namespace] }] });
    if (tenants.size > 1000) tenants.clear();
    tenants.set(key, t);
  }
  return t;
}

/**
 * Template actions calling `query` run arbitrary PromQL at notification time, unscoped;
 * Prometheus and vmalert both offer it, so it is refused in labels and annotations.
 */
export function rejectTemplateQueries(values: Record<string, unknown>, field: string): void {
  for (const [k, v] of Object.entries(values)) {
    if (typeof v !== 'string') throw new IsolationError('ERR_ISOLATE_OBJECT', `${field}.${k}`, 'must be a string');
    for (const m of v.matchAll(/\{\{(.*?)\}\}/gs)) {
      if (/(^|[^\w.$])query\b/.test(m[1]!)) {
        throw unsafe(`${field}.${k}`, 'template calls "query", which runs an unscoped query across all namespaces');
      }
    }
  }
}

export function scopeExpr(expr: string, label: string, namespace: string, field: string): string {
  try {
    return enforceQuery(expr, namespaceTenant(label, namespace));
  } catch (err) {
    if (err instanceof PromqlEnforceError) {
      throw new IsolationError('ERR_ISOLATE_PROMQL', field, `${err.message} [${err.code}] (MetricsQL-only syntax cannot be scoped and is refused)`);
    }
    throw err;
  }
}

function exprString(v: unknown, field: string): string {
  if (typeof v === 'number') return String(v);
  const s = str(v, field);
  if (s.trim() === '') throw new IsolationError('ERR_ISOLATE_OBJECT', field, 'must not be empty');
  return s;
}

export function hardenRules(input: MonitoringObject, opts: IsolateOptions, warnings: string[]): MonitoringObject {
  const o = clone(input) as MonitoringObject;
  const vm = o.kind === 'VMRule';
  const ns = o.metadata.namespace;
  const label = opts.label;
  const groups = arr(o.spec.groups, 'spec.groups');
  const seen = new Set<string>();
  groups.forEach((raw, gi) => {
    const gf = `spec.groups[${gi}]`;
    const g = obj(raw, gf);
    for (const k of Object.keys(g)) {
      if (vm && Object.hasOwn(ESCAPING_GROUP_KEYS, k)) throw unsafe(`${gf}.${k}`, `${ESCAPING_GROUP_KEYS[k]}; a namespace's rules may only read its own data`);
      if (!(vm ? VM_GROUP_KEYS : PO_GROUP_KEYS).includes(k)) throw unsupported(`${gf}.${k}`, 'is not a supported rule group field');
    }
    const name = str(g.name, `${gf}.name`);
    if (name === '') throw new IsolationError('ERR_ISOLATE_OBJECT', `${gf}.name`, 'must not be empty');
    if (seen.has(name)) throw new IsolationError('ERR_ISOLATE_CONFLICT', `${gf}.name`, `duplicate group name "${name}"`);
    seen.add(name);
    if (vm && g.type !== undefined && g.type !== 'prometheus') {
      throw unsafe(`${gf}.type`, `"${String(g.type)}" expressions cannot be scoped to a namespace; only type "prometheus" (PromQL/MetricsQL) is allowed`);
    }
    const groupLabels = optObj(g.labels, `${gf}.labels`);
    if (groupLabels !== undefined && Object.hasOwn(groupLabels, label)) {
      if (groupLabels[label] !== ns) warnings.push(`${gf}.labels.${label}: overridden with "${ns}"`);
      groupLabels[label] = ns;
    }
    if (groupLabels !== undefined) rejectTemplateQueries(groupLabels, `${gf}.labels`);
    if (vm) {
      const params = optObj(g.params, `${gf}.params`) ?? {};
      for (const k of Object.keys(params)) {
        if (k === 'extra_label') continue;
        if (!SAFE_PARAMS.has(k)) throw unsafe(`${gf}.params.${k}`, `may change which data the group reads; allowed: ${[...SAFE_PARAMS].join(', ')}`);
        strList(params[k], `${gf}.params.${k}`);
      }
      g.params = { ...params, extra_label: [`${label}=${ns}`] };
    }
    arr(g.rules, `${gf}.rules`).forEach((rr, ri) => {
      const rf = `${gf}.rules[${ri}]`;
      const r = obj(rr, rf);
      for (const k of Object.keys(r)) {
        if (!(vm ? VM_RULE_KEYS : RULE_KEYS).includes(k)) throw unsupported(`${rf}.${k}`, 'is not a supported rule field');
      }
      const isAlert = r.alert !== undefined;
      if (isAlert === (r.record !== undefined)) throw new IsolationError('ERR_ISOLATE_OBJECT', rf, 'a rule needs exactly one of alert or record');
      str(isAlert ? r.alert : r.record, `${rf}.${isAlert ? 'alert' : 'record'}`);
      r.expr = scopeExpr(exprString(r.expr, `${rf}.expr`), label, ns, `${rf}.expr`);
      const labels: Obj = { ...(optObj(r.labels, `${rf}.labels`) ?? {}) };
      if (Object.hasOwn(labels, label) && labels[label] !== ns) warnings.push(`${rf}.labels.${label}: overridden with "${ns}"`);
      labels[label] = ns;
      rejectTemplateQueries(labels, `${rf}.labels`);
      r.labels = labels;
      const ann = optObj(r.annotations, `${rf}.annotations`);
      if (ann !== undefined) rejectTemplateQueries(ann, `${rf}.annotations`);
    });
  });
  return o;
}
