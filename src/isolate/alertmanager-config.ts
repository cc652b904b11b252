// The shared Alertmanager configuration: the platform's base config plus, for every namespace,
// a route matching only `<label>="<namespace>"` that holds that namespace's routes. Receivers and
// time intervals are renamed `<namespace>/<object>/<name>`; since neither a namespace nor an object
// name can contain "/", two different (namespace, object, name) triples never give the same name.
import { formatConfigPath, lintAlertmanagerConfig } from '../enforce/alertmanager/lint.ts';
import { IsolationError } from './errors.ts';
import { formatMatcher, type Matcher } from './matchers.ts';
import { readAmSpec, type AmRoute, type AmSpec } from './alertmanager-model.ts';
import { kindInfo, type MonitoringObject } from './objects.ts';
import type { IsolateOptions } from './options.ts';
import { arr, clone, isObj, obj, str, type Obj } from './util.ts';

/** Receiver of the per-namespace routes when none of the namespace's own routes matches. */
export const NULL_RECEIVER = 'tenantgate:null';

export const DEFAULT_BASE: Obj = {
  route: { receiver: 'default', group_by: ['alertname'] },
  receivers: [{ name: 'default' }],
};

export interface AmInput { readonly object: MonitoringObject; readonly key: number }
export interface AmOutput { readonly config: Obj; readonly failures: ReadonlyMap<number, IsolationError> }

function routeConfig(r: AmRoute, prefix: string): Obj {
  const out: Obj = {};
  if (r.receiver !== undefined) out.receiver = prefix + r.receiver;
  if (r.matchers.length > 0) out.matchers = r.matchers.map(formatMatcher);
  if (r.groupBy !== undefined) out.group_by = r.groupBy;
  if (r.groupWait !== undefined) out.group_wait = r.groupWait;
  if (r.groupInterval !== undefined) out.group_interval = r.groupInterval;
  if (r.repeatInterval !== undefined) out.repeat_interval = r.repeatInterval;
  if (r.muteTimeIntervals.length > 0) out.mute_time_intervals = r.muteTimeIntervals.map((t) => prefix + t);
  if (r.activeTimeIntervals.length > 0) out.active_time_intervals = r.activeTimeIntervals.map((t) => prefix + t);
  if (r.continue !== undefined) out.continue = r.continue;
  if (r.routes.length > 0) out.routes = r.routes.map((c) => routeConfig(c, prefix));
  return out;
}

function namesOf(base: Obj, key: string): string[] {
  return arr(base[key], key).map((x, i) => str(obj(x, `${key}[${i}]`).name, `${key}[${i}].name`));
}

interface Translated { ns: string; route?: Obj; receivers: Obj[]; inhibit: Obj[]; intervals: Obj[] }

function translate(o: MonitoringObject, spec: AmSpec, opts: IsolateOptions): Translated {
  const ns = o.metadata.namespace;
  const prefix = `${ns}/${o.metadata.name}/`;
  const pinned: Matcher = { name: opts.label, op: '=', value: ns };
  const out: Translated = {
    ns,
    receivers: spec.receivers.map((r) => ({ name: prefix + r.name, ...clone(r.configs) })),
    intervals: spec.timeIntervals.map((t) => ({ name: prefix + t.name, time_intervals: clone(t.intervals) })),
    inhibit: spec.inhibitRules.map((ir) => {
      const keep = (ms: readonly Matcher[]) => [...ms.filter((m) => m.name !== opts.label), pinned].map(formatMatcher);
      const rule: Obj = { source_matchers: keep(ir.source), target_matchers: keep(ir.target) };
      if (ir.equal.length > 0) rule.equal = ir.equal;
      return rule;
    }),
  };
  if (spec.route !== undefined) {
    const top = routeConfig({ ...spec.route, matchers: [...spec.route.matchers.filter((m) => m.name !== opts.label), pinned] }, prefix);
    // Several objects of one namespace all see its alerts, as with the operators' forced continue.
    top.continue = true;
    out.route = top;
  }
  return out;
}

/**
 * Makes the base configuration's grouping and inhibition per tenant: the label is added to every
 * group_by (without `...`) and to every inhibit rule's `equal`. Neither can let a tenant's alert
 * meet another tenant's; a platform-wide inhibition across tenants is exactly what must not happen.
 */
function scopeBase(base: Obj, label: string): void {
  const visit = (route: Obj, isRoot: boolean) => {
    const g = route.group_by;
    if (Array.isArray(g)) { if (!g.includes('...') && !g.includes(label)) route.group_by = [...g, label]; }
    else if (isRoot) route.group_by = [label];
    for (const child of arr(route.routes, 'route.routes')) if (isObj(child)) visit(child, false);
  };
  visit(obj(base.route, 'route'), true);
  for (const rule of arr(base.inhibit_rules, 'inhibit_rules')) {
    if (!isObj(rule)) continue;
    const equal = Array.isArray(rule.equal) ? rule.equal : [];
    if (!equal.includes(label)) rule.equal = [...equal, label];
  }
}

/**
 * Builds the configuration. An object whose names collide with the base config, or that cannot be
 * read, is left out and reported under its key; the other namespaces are unaffected.
 */
export function buildAlertmanagerConfig(baseIn: Obj | undefined, inputs: readonly AmInput[], opts: IsolateOptions): AmOutput {
  const base = clone(baseIn ?? DEFAULT_BASE);
  const root = obj(base.route, 'route');
  if (typeof root.receiver !== 'string' || root.receiver === '') {
    throw new IsolationError('ERR_ISOLATE_OBJECT', 'route.receiver', 'the base Alertmanager configuration needs a root route with a receiver');
  }
  scopeBase(base, opts.label);
  // What is left is a base route that sends alerts of every tenant to a receiver other than the
  // root's: only the operator can say whose it is. The gateway would refuse alert posts to it.
  const unsafe = lintAlertmanagerConfig(base, [opts.label])[0];
  if (unsafe !== undefined) {
    throw new IsolationError('ERR_ISOLATE_UNSAFE', formatConfigPath(unsafe.path), `the base Alertmanager configuration does not keep tenants apart: ${unsafe.message} (or send it to the root route's receiver)`);
  }
  const failures = new Map<number, IsolationError>();
  const receiverNames = new Set([...namesOf(base, 'receivers'), NULL_RECEIVER]);
  const intervalNames = new Set([...namesOf(base, 'time_intervals'), ...namesOf(base, 'mute_time_intervals')]);
  if (namesOf(base, 'receivers').includes(NULL_RECEIVER)) {
    throw new IsolationError('ERR_ISOLATE_CONFLICT', 'receivers', `the base configuration may not define "${NULL_RECEIVER}"`);
  }
  const sorted = [...inputs].sort((a, b) => {
    const ka = `${a.object.metadata.namespace}/${a.object.metadata.name}`;
    const kb = `${b.object.metadata.namespace}/${b.object.metadata.name}`;
    return ka < kb ? -1 : ka > kb ? 1 : a.key - b.key;
  });
  const byNs = new Map<string, Obj[]>();
  const receivers: Obj[] = [{ name: NULL_RECEIVER }];
  const inhibit: Obj[] = [];
  const intervals: Obj[] = [];
  for (const input of sorted) {
    try {
      const spec = readAmSpec(input.object.spec, kindInfo(input.object.kind)!.dialect, isObj(base.global) ? base.global : {});
      const t = translate(input.object, spec, opts);
      for (const r of t.receivers) {
        if (receiverNames.has(r.name as string)) throw new IsolationError('ERR_ISOLATE_CONFLICT', 'spec.receivers', `receiver name "${String(r.name)}" is already used (duplicate object or base configuration)`);
      }
      for (const ti of t.intervals) {
        if (intervalNames.has(ti.name as string)) throw new IsolationError('ERR_ISOLATE_CONFLICT', 'spec.time_intervals', `time interval name "${String(ti.name)}" is already used`);
      }
      for (const r of t.receivers) { receiverNames.add(r.name as string); receivers.push(r); }
      for (const ti of t.intervals) { intervalNames.add(ti.name as string); intervals.push(ti); }
      inhibit.push(...t.inhibit);
      if (!byNs.has(t.ns)) byNs.set(t.ns, []);
      if (t.route !== undefined) byNs.get(t.ns)!.push(t.route);
    } catch (err) {
      if (!(err instanceof IsolationError)) throw err;
      failures.set(input.key, err);
    }
  }
  const tenantRoutes: Obj[] = [...byNs.entries()].filter(([, rs]) => rs.length > 0).map(([ns, rs]) => ({
    receiver: NULL_RECEIVER,
    matchers: [formatMatcher({ name: opts.label, op: '=', value: ns })],
    // Tenant routes come first and continue, so the platform's own routes still see every alert
    // and no base route (even a catch-all without continue) can starve a namespace.
    continue: true,
    routes: rs,
  }));
  root.routes = [...tenantRoutes, ...arr(root.routes, 'route.routes')];
  base.receivers = [...arr(base.receivers, 'receivers'), ...receivers];
  if (inhibit.length > 0) base.inhibit_rules = [...arr(base.inhibit_rules, 'inhibit_rules'), ...inhibit];
  if (intervals.length > 0) base.time_intervals = [...arr(base.time_intervals, 'time_intervals'), ...intervals];
  if (!isObj(base.route)) base.route = root;
  // The guarantee tenantgate's gateway checks before it accepts tenant alert posts.
  const leak = lintAlertmanagerConfig(base, [opts.label])[0];
  if (leak !== undefined) throw new Error(`internal: the generated Alertmanager configuration does not keep tenants apart at ${formatConfigPath(leak.path)}: ${leak.message}`);
  return { config: base, failures };
}
