// A dialect-neutral reading of VMAlertmanagerConfig (snake_case spec) and prometheus-operator
// AlertmanagerConfig (camelCase spec), validated so that one team's object can never make the
// shared Alertmanager configuration invalid: every reference must resolve inside the object.
import { IsolationError } from './errors.ts';
import { translateReceiver, type AmReceiver } from './alertmanager-receivers.ts';
import { checkAmDuration, checkLabelNames, checkTimeInterval } from './alertmanager-schema.ts';
import { formatMatcher, parseMatcherObject, parseMatcherString, type Matcher } from './matchers.ts';
import type { Dialect } from './objects.ts';
import { arr, obj, onlyKeys, optStr, str, strList, type Obj } from './util.ts';

export interface AmRoute {
  receiver?: string;
  matchers: Matcher[];
  groupBy?: string[];
  groupWait?: string;
  groupInterval?: string;
  repeatInterval?: string;
  continue?: boolean;
  muteTimeIntervals: string[];
  activeTimeIntervals: string[];
  routes: AmRoute[];
}

export type { AmReceiver };
export interface AmInhibitRule { source: Matcher[]; target: Matcher[]; equal: string[] }
export interface AmTimeInterval { readonly name: string; readonly intervals: unknown[] }

export interface AmSpec {
  route?: AmRoute;
  receivers: AmReceiver[];
  inhibitRules: AmInhibitRule[];
  timeIntervals: AmTimeInterval[];
}

/** Field names of the two dialects. */
export interface AmKeys {
  readonly groupBy: string; readonly groupWait: string; readonly groupInterval: string; readonly repeatInterval: string;
  readonly muteTimeIntervals: string; readonly activeTimeIntervals: string;
  readonly inhibitRules: string; readonly sourceMatchers: string; readonly targetMatchers: string;
  readonly timeIntervals: string; readonly innerTimeIntervals: string;
}

export function amKeys(d: Dialect): AmKeys {
  return d === 'vm'
    ? { groupBy: 'group_by', groupWait: 'group_wait', groupInterval: 'group_interval', repeatInterval: 'repeat_interval', muteTimeIntervals: 'mute_time_intervals', activeTimeIntervals: 'active_time_intervals', inhibitRules: 'inhibit_rules', sourceMatchers: 'source_matchers', targetMatchers: 'target_matchers', timeIntervals: 'time_intervals', innerTimeIntervals: 'time_intervals' }
    : { groupBy: 'groupBy', groupWait: 'groupWait', groupInterval: 'groupInterval', repeatInterval: 'repeatInterval', muteTimeIntervals: 'muteTimeIntervals', activeTimeIntervals: 'activeTimeIntervals', inhibitRules: 'inhibitRules', sourceMatchers: 'sourceMatch', targetMatchers: 'targetMatch', timeIntervals: 'muteTimeIntervals', innerTimeIntervals: 'timeIntervals' };
}

function matchers(v: unknown, field: string, dialect: Dialect): Matcher[] {
  return arr(v, field).map((m, i) => (dialect === 'vm' ? parseMatcherString(m, `${field}[${i}]`) : parseMatcherObject(m, `${field}[${i}]`)));
}

function optDuration(v: unknown, field: string, nonZero = false): string | undefined {
  const s = optStr(v, field);
  return s === undefined ? undefined : checkAmDuration(s, field, nonZero);
}

function route(v: unknown, field: string, dialect: Dialect, depth: number): AmRoute {
  if (depth > 32) throw new IsolationError('ERR_ISOLATE_OBJECT', field, 'routes nested deeper than 32 levels');
  const k = amKeys(dialect);
  const r = obj(v, field);
  onlyKeys(r, ['receiver', 'matchers', k.groupBy, k.groupWait, k.groupInterval, k.repeatInterval, 'continue', 'routes', k.muteTimeIntervals, k.activeTimeIntervals], field);
  if (r.continue !== undefined && typeof r.continue !== 'boolean') throw new IsolationError('ERR_ISOLATE_OBJECT', `${field}.continue`, 'must be a boolean');
  const out: AmRoute = {
    matchers: matchers(r.matchers, `${field}.matchers`, dialect),
    muteTimeIntervals: strList(r[k.muteTimeIntervals], `${field}.${k.muteTimeIntervals}`),
    activeTimeIntervals: strList(r[k.activeTimeIntervals], `${field}.${k.activeTimeIntervals}`),
    routes: arr(r.routes, `${field}.routes`).map((c, i) => route(c, `${field}.routes[${i}]`, dialect, depth + 1)),
  };
  const receiver = optStr(r.receiver, `${field}.receiver`);
  if (receiver !== undefined && receiver !== '') out.receiver = receiver;
  if (r[k.groupBy] !== undefined) {
    const gb = strList(r[k.groupBy], `${field}.${k.groupBy}`);
    // Alertmanager: `...` alone groups by every label; otherwise label names.
    if (!(gb.length === 1 && gb[0] === '...')) checkLabelNames(gb, `${field}.${k.groupBy}`);
    out.groupBy = gb;
  }
  const gw = optDuration(r[k.groupWait], `${field}.${k.groupWait}`); if (gw !== undefined) out.groupWait = gw;
  const gi = optDuration(r[k.groupInterval], `${field}.${k.groupInterval}`, true); if (gi !== undefined) out.groupInterval = gi;
  const ri = optDuration(r[k.repeatInterval], `${field}.${k.repeatInterval}`, true); if (ri !== undefined) out.repeatInterval = ri;
  if (typeof r.continue === 'boolean') out.continue = r.continue;
  return out;
}

function timeInterval(v: unknown, field: string, dialect: Dialect): AmTimeInterval {
  const k = amKeys(dialect);
  const t = obj(v, field);
  onlyKeys(t, ['name', k.innerTimeIntervals], field);
  const name = str(t.name, `${field}.name`);
  if (name === '') throw new IsolationError('ERR_ISOLATE_OBJECT', `${field}.name`, 'must not be empty');
  const intervals = arr(t[k.innerTimeIntervals], `${field}.${k.innerTimeIntervals}`).map((raw, i) => {
    const f = `${field}.${k.innerTimeIntervals}[${i}]`;
    const ti = obj(raw, f);
    if (dialect === 'vm') { onlyKeys(ti, ['times', 'weekdays', 'days_of_month', 'months', 'years', 'location'], f); checkTimeInterval(ti, f); return ti; }
    onlyKeys(ti, ['times', 'weekdays', 'daysOfMonth', 'months', 'years'], f);
    const out: Obj = {};
    if (ti.times !== undefined) {
      out.times = arr(ti.times, `${f}.times`).map((tr, j) => {
        const x = obj(tr, `${f}.times[${j}]`);
        return { start_time: str(x.startTime, `${f}.times[${j}].startTime`), end_time: str(x.endTime, `${f}.times[${j}].endTime`) };
      });
    }
    if (ti.weekdays !== undefined) out.weekdays = strList(ti.weekdays, `${f}.weekdays`);
    if (ti.months !== undefined) out.months = strList(ti.months, `${f}.months`);
    if (ti.years !== undefined) out.years = strList(ti.years, `${f}.years`);
    if (ti.daysOfMonth !== undefined) {
      out.days_of_month = arr(ti.daysOfMonth, `${f}.daysOfMonth`).map((d, j) => {
        const x = obj(d, `${f}.daysOfMonth[${j}]`);
        return x.end === undefined ? `${String(x.start)}` : `${String(x.start)}:${String(x.end)}`;
      });
    }
    checkTimeInterval(out, f);
    return out;
  });
  return { name, intervals };
}

/**
 * Reads and cross-checks an alertmanager object's spec. `globals` is the base configuration's
 * `global` section when known; receivers may rely on it for API URLs and keys.
 */
export function readAmSpec(spec: Obj, dialect: Dialect, globals?: Obj): AmSpec {
  const k = amKeys(dialect);
  onlyKeys(spec, ['route', 'receivers', k.inhibitRules, k.timeIntervals], 'spec');
  const receivers = arr(spec.receivers, 'spec.receivers').map((raw, i) => translateReceiver(raw, `spec.receivers[${i}]`, globals));
  const timeIntervals = arr(spec[k.timeIntervals], `spec.${k.timeIntervals}`).map((t, i) => timeInterval(t, `spec.${k.timeIntervals}[${i}]`, dialect));
  const inhibitRules = arr(spec[k.inhibitRules], `spec.${k.inhibitRules}`).map((raw, i) => {
    const f = `spec.${k.inhibitRules}[${i}]`;
    const ir = obj(raw, f);
    onlyKeys(ir, [k.sourceMatchers, k.targetMatchers, 'equal'], f);
    const equal = strList(ir.equal, `${f}.equal`);
    checkLabelNames(equal, `${f}.equal`);
    return {
      source: matchers(ir[k.sourceMatchers], `${f}.${k.sourceMatchers}`, dialect),
      target: matchers(ir[k.targetMatchers], `${f}.${k.targetMatchers}`, dialect),
      equal,
    };
  });
  const out: AmSpec = { receivers, inhibitRules, timeIntervals };
  if (spec.route !== undefined && spec.route !== null) out.route = route(spec.route, 'spec.route', dialect, 0);
  checkReferences(out, dialect);
  return out;
}

function unique(names: readonly string[], field: string, what: string): Set<string> {
  const seen = new Set<string>();
  names.forEach((n, i) => {
    if (seen.has(n)) throw new IsolationError('ERR_ISOLATE_CONFLICT', `${field}[${i}].name`, `duplicate ${what} name "${n}"`);
    seen.add(n);
  });
  return seen;
}

// A dangling reference would make Alertmanager refuse the whole shared configuration, so it is
// an error of this object only, caught before anything is merged.
function checkReferences(spec: AmSpec, dialect: Dialect): void {
  const k = amKeys(dialect);
  const receivers = unique(spec.receivers.map((r) => r.name), 'spec.receivers', 'receiver');
  const intervals = unique(spec.timeIntervals.map((t) => t.name), `spec.${k.timeIntervals}`, 'time interval');
  const walk = (r: AmRoute, field: string) => {
    if (r.receiver !== undefined && !receivers.has(r.receiver)) {
      throw new IsolationError('ERR_ISOLATE_OBJECT', `${field}.receiver`, `receiver "${r.receiver}" is not defined in this object's spec.receivers`);
    }
    for (const [list, key] of [[r.muteTimeIntervals, k.muteTimeIntervals], [r.activeTimeIntervals, k.activeTimeIntervals]] as const) {
      list.forEach((t, i) => {
        if (!intervals.has(t)) throw new IsolationError('ERR_ISOLATE_OBJECT', `${field}.${key}[${i}]`, `time interval "${t}" is not defined in this object`);
      });
    }
    r.routes.forEach((c, i) => walk(c, `${field}.routes[${i}]`));
  };
  if (spec.route !== undefined) walk(spec.route, 'spec.route');
}

export { formatMatcher };
