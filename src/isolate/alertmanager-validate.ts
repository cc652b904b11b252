// The last check of a generated Alertmanager configuration before it is written: the same rules
// the per-object reading applies (alertmanager-schema.ts), run over the merged file, plus the
// cross-references Alertmanager resolves at load time. Objects were already checked one by one,
// so a failure here points at the base configuration (or a compiler bug), never at a team.
import { IsolationError } from './errors.ts';
import { checkAmDuration, checkLabelNames, checkReceiver, checkTimeInterval } from './alertmanager-schema.ts';
import { parseMatcherString } from './matchers.ts';
import { isObj, type Obj } from './util.ts';

const ROUTE_KEYS = new Set(['receiver', 'group_by', 'continue', 'matchers', 'match', 'match_re', 'group_wait', 'group_interval', 'repeat_interval', 'mute_time_intervals', 'active_time_intervals', 'routes']);

function fail(field: string, reason: string): never {
  throw new IsolationError('ERR_ISOLATE_OUTPUT', field, reason);
}

/** Re-labels a per-object check failure as a failure of the generated output. */
function asOutput(check: () => void): void {
  try { check(); } catch (err) {
    if (err instanceof IsolationError) fail(err.field, err.reason);
    throw err;
  }
}

function list(v: unknown, field: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) fail(field, 'must be a list');
  return v;
}

function strings(v: unknown, field: string): string[] {
  return list(v, field).map((x, i) => (typeof x === 'string' ? x : fail(`${field}[${i}]`, 'must be a string')));
}

/** Throws IsolationError (ERR_ISOLATE_OUTPUT) naming the first field Alertmanager 0.25 would refuse. */
export function checkAlertmanagerConfig(config: Obj): void {
  const globals = isObj(config.global) ? config.global : {};
  const receivers = new Set<string>();
  list(config.receivers, 'receivers').forEach((r, i) => {
    const f = `receivers[${i}]`;
    if (!isObj(r) || typeof r.name !== 'string' || r.name === '') fail(f, 'a receiver needs a name');
    if (receivers.has(r.name)) fail(`${f}.name`, `duplicate receiver name "${r.name}"`);
    receivers.add(r.name);
    asOutput(() => checkReceiver(r, f, globals));
  });
  const intervals = new Set<string>();
  for (const key of ['time_intervals', 'mute_time_intervals']) {
    list(config[key], key).forEach((t, i) => {
      const f = `${key}[${i}]`;
      if (!isObj(t) || typeof t.name !== 'string' || t.name === '') fail(f, 'a time interval needs a name');
      if (intervals.has(t.name)) fail(`${f}.name`, `duplicate time interval name "${t.name}"`);
      intervals.add(t.name);
      list(t.time_intervals, `${f}.time_intervals`).forEach((ti, j) => {
        if (!isObj(ti)) fail(`${f}.time_intervals[${j}]`, 'must be a mapping');
        asOutput(() => checkTimeInterval(ti, `${f}.time_intervals[${j}]`));
      });
    });
  }
  const matchers = (v: unknown, field: string) => strings(v, field).forEach((m, i) => {
    asOutput(() => parseMatcherString(m, `${field}[${i}]`));
  });
  const durations = (r: Obj, field: string) => {
    for (const k of ['group_wait', 'group_interval', 'repeat_interval']) {
      if (r[k] === undefined) continue;
      asOutput(() => checkAmDuration(r[k], `${field}.${k}`, k !== 'group_wait'));
    }
  };
  const walk = (r: unknown, field: string, depth: number) => {
    if (depth > 64) fail(field, 'routes nested too deep');
    if (!isObj(r)) fail(field, 'must be a mapping');
    for (const k of Object.keys(r)) if (!ROUTE_KEYS.has(k)) fail(`${field}.${k}`, 'is not a route field');
    if (depth === 0 && (typeof r.receiver !== 'string' || r.receiver === '')) fail(`${field}.receiver`, 'the root route needs a receiver');
    if (r.receiver !== undefined && !receivers.has(String(r.receiver))) fail(`${field}.receiver`, `receiver "${String(r.receiver)}" does not exist`);
    const groupBy = strings(r.group_by, `${field}.group_by`);
    if (!(groupBy.length === 1 && groupBy[0] === '...')) {
      asOutput(() => checkLabelNames(groupBy, `${field}.group_by`));
    }
    matchers(r.matchers, `${field}.matchers`);
    durations(r, field);
    for (const k of ['mute_time_intervals', 'active_time_intervals']) {
      strings(r[k], `${field}.${k}`).forEach((t, i) => { if (!intervals.has(t)) fail(`${field}.${k}[${i}]`, `time interval "${t}" does not exist`); });
    }
    list(r.routes, `${field}.routes`).forEach((c, i) => walk(c, `${field}.routes[${i}]`, depth + 1));
  };
  walk(config.route, 'route', 0);
  list(config.inhibit_rules, 'inhibit_rules').forEach((ir, i) => {
    const f = `inhibit_rules[${i}]`;
    if (!isObj(ir)) fail(f, 'must be a mapping');
    matchers(ir.source_matchers, `${f}.source_matchers`);
    matchers(ir.target_matchers, `${f}.target_matchers`);
    asOutput(() => checkLabelNames(strings(ir.equal, `${f}.equal`), `${f}.equal`));
  });
}
