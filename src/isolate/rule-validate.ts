// Checks of one generated rule group against what promtool / Prometheus 2.42 and vmalert refuse
// when loading a rule file: metric and label names, durations, `for` on recording rules,
// templates, duplicate rules. Run per object before its groups join the shared file, so one bad
// object is reported and left out instead of making the file unloadable.
import { IsolationError } from './errors.ts';
import { checkGoTemplate, PROMETHEUS_TEMPLATE_FUNCS, TemplateError, VMALERT_TEMPLATE_FUNCS } from './go-template.ts';
import { isPromLabelName } from './names.ts';
import type { Flavor } from './options.ts';
import { isObj, type Obj } from './util.ts';

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const PROM_DURATION = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;

function fail(field: string, reason: string): never {
  throw new IsolationError('ERR_ISOLATE_OBJECT', field, reason);
}

function duration(v: unknown, field: string): void {
  if (typeof v !== 'string' || v === '' || !PROM_DURATION.test(v)) fail(field, `${JSON.stringify(v)} is not a duration (e.g. 30s, 5m, 1h30m; units from y down to ms, each once, largest first)`);
}

function templates(values: unknown, field: string, funcs: ReadonlySet<string>, checkNames: boolean): void {
  if (values === undefined) return;
  if (!isObj(values)) fail(field, 'must be a mapping');
  for (const [k, v] of Object.entries(values)) {
    if (checkNames && !isPromLabelName(k)) fail(`${field}.${k}`, 'is not a valid label name');
    if (typeof v !== 'string') fail(`${field}.${k}`, 'must be a string');
    try { checkGoTemplate(v, funcs); } catch (err) {
      if (err instanceof TemplateError) fail(`${field}.${k}`, `template does not parse: ${err.message}`);
      throw err;
    }
  }
}

/** `group` is the generated group; `gf` the CRD path of the group it came from. */
export function checkRuleGroup(group: Obj, gf: string, flavor: Flavor): void {
  const funcs = flavor === 'victoriametrics' ? VMALERT_TEMPLATE_FUNCS : PROMETHEUS_TEMPLATE_FUNCS;
  if (group.interval !== undefined) duration(group.interval, `${gf}.interval`);
  if (group.limit !== undefined && (typeof group.limit !== 'number' || !Number.isInteger(group.limit) || group.limit < 0)) fail(`${gf}.limit`, 'must be a non-negative integer');
  const seen = new Set<string>();
  (Array.isArray(group.rules) ? group.rules : []).forEach((raw, i) => {
    const rf = `${gf}.rules[${i}]`;
    const r = raw as Obj;
    if (r.record !== undefined) {
      if (typeof r.record !== 'string' || !METRIC_NAME.test(r.record)) fail(`${rf}.record`, `${JSON.stringify(r.record)} is not a valid metric name`);
      for (const k of ['for', 'keep_firing_for', 'annotations']) if (r[k] !== undefined) fail(`${rf}.${k}`, 'is not allowed on a recording rule');
      // Recording rule labels are not templates, but vmalert still parses them as such.
      templates(r.labels, `${rf}.labels`, funcs, true);
    } else {
      if (typeof r.alert !== 'string' || r.alert === '') fail(`${rf}.alert`, 'must be a non-empty string');
      if (r.for !== undefined) duration(r.for, `${rf}.for`);
      if (r.keep_firing_for !== undefined) duration(r.keep_firing_for, `${rf}.keep_firing_for`);
      templates(r.labels, `${rf}.labels`, funcs, true);
      templates(r.annotations, `${rf}.annotations`, funcs, true);
    }
    // promtool's lint and vmalert both refuse two identical rules in one group.
    const key = JSON.stringify([r.alert ?? null, r.record ?? null, r.expr, Object.entries(isObj(r.labels) ? r.labels : {}).sort()]);
    if (seen.has(key)) fail(rf, 'duplicates an earlier rule of this group (same name, expression and labels)');
    seen.add(key);
  });
}
