// Rule files for vmalert / Prometheus from hardened rule objects. Group names are
// `<namespace>/<object>/<group>` (unique, as "/" cannot occur in the first two parts); group
// labels are folded into each rule (Prometheus 2.42 has no group labels), the rule's own win,
// except the enforced label which is always the namespace.
import { unsupported } from './errors.ts';
import { scopeExpr } from './harden-rules.ts';
import type { MonitoringObject } from './objects.ts';
import type { IsolateOptions } from './options.ts';
import { arr, obj, optObj, type Obj } from './util.ts';

/**
 * `<ns>/<object>/<group>` for the flavour's own kind, `<ns>/<Kind>/<object>/<group>` for the other
 * one: a PrometheusRule and a VMRule of the same namespace and name then never share a group
 * name, and since object names are lower case, the Kind part cannot equal an object name.
 */
export function ruleGroupName(o: MonitoringObject, group: string, opts: IsolateOptions): string {
  const native = (opts.flavor === 'victoriametrics') === (o.kind === 'VMRule');
  return native ? `${o.metadata.namespace}/${o.metadata.name}/${group}` : `${o.metadata.namespace}/${o.kind}/${o.metadata.name}/${group}`;
}

export function ruleGroups(o: MonitoringObject, opts: IsolateOptions): Obj[] {
  const ns = o.metadata.namespace;
  const vmalert = opts.flavor === 'victoriametrics';
  return arr(o.spec.groups, 'spec.groups').map((raw, gi) => {
    const gf = `spec.groups[${gi}]`;
    const g = obj(raw, gf);
    const out: Obj = { name: ruleGroupName(o, String(g.name), opts) };
    if (g.interval !== undefined) out.interval = g.interval;
    if (g.limit !== undefined) out.limit = g.limit;
    for (const k of ['eval_offset', 'eval_delay', 'eval_alignment', 'concurrency', 'type']) {
      if (g[k] === undefined) continue;
      if (!vmalert) throw unsupported(`${gf}.${k}`, 'is a vmalert-only group field; Prometheus does not accept it');
      out[k] = g[k];
    }
    if (g.query_offset !== undefined) throw unsupported(`${gf}.query_offset`, 'needs Prometheus >= 2.53');
    if (vmalert) out.params = { ...(optObj(g.params, `${gf}.params`) ?? {}), extra_label: [`${opts.label}=${ns}`] };
    const groupLabels = optObj(g.labels, `${gf}.labels`) ?? {};
    out.rules = arr(g.rules, `${gf}.rules`).map((rr, ri) => {
      const r = obj(rr, `${gf}.rules[${ri}]`);
      const rule: Obj = r.alert !== undefined ? { alert: r.alert } : { record: r.record };
      // Scoping is idempotent; repeating it here keeps the generator safe on its own.
      rule.expr = scopeExpr(String(r.expr), opts.label, ns, `${gf}.rules[${ri}].expr`);
      for (const k of ['for', 'keep_firing_for']) if (r[k] !== undefined) rule[k] = r[k];
      rule.labels = { ...groupLabels, ...(optObj(r.labels, `${gf}.rules[${ri}].labels`) ?? {}), [opts.label]: ns };
      if (r.alert !== undefined && r.annotations !== undefined) rule.annotations = r.annotations;
      return rule;
    });
    return out;
  });
}
