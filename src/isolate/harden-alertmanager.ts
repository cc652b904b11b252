// Object-level hardening of VMAlertmanagerConfig / AlertmanagerConfig: the top route and every
// inhibit rule are pinned to `<label>="<namespace>"`, any matcher the object had on that label is
// replaced, references are checked, and receivers may not read Alertmanager's local files.
import { formatMatcher, matcherObject, parseMatcherObject, parseMatcherString, type Matcher } from './matchers.ts';
import { readAmSpec, amKeys } from './alertmanager-model.ts';
import { rejectFileAccess } from './harden-scrape.ts';
import { kindInfo, type MonitoringObject } from './objects.ts';
import type { IsolateOptions } from './options.ts';
import { arr, clone, isObj, type Obj } from './util.ts';

function pin(list: unknown, field: string, vm: boolean, pinned: Matcher): unknown[] {
  const items = arr(list, field).filter((m, i) => {
    const parsed = vm ? parseMatcherString(m, `${field}[${i}]`) : parseMatcherObject(m, `${field}[${i}]`);
    return parsed.name !== pinned.name;
  });
  return [...items, vm ? formatMatcher(pinned) : matcherObject(pinned)];
}

export function hardenAlertmanagerConfig(input: MonitoringObject, opts: IsolateOptions, _warnings: string[]): MonitoringObject {
  const o = clone(input) as MonitoringObject;
  const dialect = kindInfo(o.kind)!.dialect;
  const vm = dialect === 'vm';
  const k = amKeys(dialect);
  const spec = o.spec;
  if (!opts.allowFileAccess) rejectFileAccess(spec.receivers, 'spec.receivers');
  readAmSpec(spec, dialect); // validates shape and references before anything is changed
  const pinned: Matcher = { name: opts.label, op: '=', value: o.metadata.namespace };
  if (isObj(spec.route)) {
    const r = spec.route as Obj;
    r.matchers = pin(r.matchers, 'spec.route.matchers', vm, pinned);
  }
  arr(spec[k.inhibitRules], `spec.${k.inhibitRules}`).forEach((raw, i) => {
    const ir = raw as Obj;
    const f = `spec.${k.inhibitRules}[${i}]`;
    ir[k.sourceMatchers] = pin(ir[k.sourceMatchers], `${f}.${k.sourceMatchers}`, vm, pinned);
    ir[k.targetMatchers] = pin(ir[k.targetMatchers], `${f}.${k.targetMatchers}`, vm, pinned);
  });
  return o;
}
