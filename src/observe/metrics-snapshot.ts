// A plain-data copy of a Metrics registry (per-user stats, refusal reasons, counters, gauges,
// summaries reduced to quantiles + sum + count), so /metrics can be rendered from one process's
// numbers or from the merge of every worker's. Snapshots cross process boundaries through
// node:cluster's structured-clone IPC, so they hold only arrays, numbers and strings.
import { SUMMARY_QUANTILES } from './window-summary.ts';

export interface SummarySnapshot {
  /** One value per SUMMARY_QUANTILES entry; NaN when the window is empty. */
  readonly quantiles: readonly number[];
  readonly sum: number;
  readonly count: number;
}

export interface StatsSnapshot {
  readonly requests: number;
  readonly errors: number;
  readonly backendRequests: number;
  readonly backendErrors: number;
  readonly limitReached: number;
  readonly current: number;
  readonly capacity: number;
  readonly duration: SummarySnapshot;
}

export interface MetricsSnapshot {
  /** Rendered label set (`{username="a"}`) → stats, in first-seen order. */
  readonly users: readonly (readonly [string, StatsSnapshot])[];
  /** Stats of unauthorized_user, or null when the config has none. */
  readonly unauthorized: StatsSnapshot | null;
  readonly errorsByReason: readonly (readonly [string, number])[];
  /** Counters and gauges by series key (`name` or `name{labels}`), gauges read at snapshot time. */
  readonly series: readonly (readonly [string, number])[];
  readonly bufferBody: SummarySnapshot;
  readonly startSeconds: number;
  /** Which worker took the snapshot (cluster mode only). */
  readonly worker?: { readonly slot: number; readonly pid: number };
}

/**
 * How series of different workers combine. Everything not listed is summed (counters, in-flight
 * gauges, capacities, connection counts). Reload bookkeeping is identical in every worker
 * (the primary hands out the same numbers), so it is taken once rather than added up.
 */
const TAKE_MIN: ReadonlySet<string> = new Set(['vmauth_config_last_reload_successful']);
const TAKE_MAX: ReadonlySet<string> = new Set([
  'vmauth_config_last_reload_total',
  'vmauth_config_last_reload_errors_total',
  'vmauth_config_last_reload_success_timestamp_seconds',
  // Every worker reads the Alertmanager configs itself; unsafe in any worker is unsafe.
  'tenantgate_alertmanager_unsafe_config',
]);

const seriesName = (key: string) => {
  const brace = key.indexOf('{');
  return brace < 0 ? key : key.slice(0, brace);
};

function mergeSummaries(list: readonly SummarySnapshot[]): SummarySnapshot {
  // Exact quantiles would need every worker's raw window; the largest per-worker quantile is a
  // cheap, bounded upper bound (documented in docs/workers.md).
  const quantiles = SUMMARY_QUANTILES.map((_, i) => {
    let best = Number.NaN;
    for (const s of list) {
      const v = s.quantiles[i] as number;
      if (!Number.isNaN(v) && (Number.isNaN(best) || v > best)) best = v;
    }
    return best;
  });
  let sum = 0;
  let count = 0;
  for (const s of list) { sum += s.sum; count += s.count; }
  return { quantiles, sum, count };
}

function mergeStats(list: readonly StatsSnapshot[]): StatsSnapshot {
  let requests = 0, errors = 0, backendRequests = 0, backendErrors = 0, limitReached = 0, current = 0, capacity = 0;
  for (const s of list) {
    requests += s.requests; errors += s.errors; backendRequests += s.backendRequests; backendErrors += s.backendErrors;
    limitReached += s.limitReached; current += s.current; capacity += s.capacity;
  }
  return { requests, errors, backendRequests, backendErrors, limitReached, current, capacity, duration: mergeSummaries(list.map((s) => s.duration)) };
}

function groupInOrder<T>(lists: readonly (readonly (readonly [string, T])[])[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const list of lists) {
    for (const [k, v] of list) {
      const have = out.get(k);
      if (have === undefined) out.set(k, [v]); else have.push(v);
    }
  }
  return out;
}

/**
 * One snapshot for the whole gateway from every worker's. Adds
 * `tenantgate_worker_requests_total{worker="<slot>"}` (requests accepted for a user, per worker)
 * so operators see how connections spread.
 */
export function mergeSnapshots(snapshots: readonly MetricsSnapshot[]): MetricsSnapshot {
  if (snapshots.length === 0) throw new Error('mergeSnapshots needs at least one snapshot');
  const users = [...groupInOrder(snapshots.map((s) => s.users))].map(([k, list]): [string, StatsSnapshot] => [k, mergeStats(list)]);
  const uu = snapshots.map((s) => s.unauthorized).filter((u): u is StatsSnapshot => u !== null);
  const reasons = [...groupInOrder(snapshots.map((s) => s.errorsByReason))].map(([k, list]): [string, number] => [k, list.reduce((a, b) => a + b, 0)]);
  const series: [string, number][] = [...groupInOrder(snapshots.map((s) => s.series))].map(([key, list]) => {
    const name = seriesName(key);
    if (TAKE_MIN.has(name)) return [key, Math.min(...list)];
    if (TAKE_MAX.has(name)) return [key, Math.max(...list)];
    return [key, list.reduce((a, b) => a + b, 0)];
  });
  for (const s of snapshots) {
    if (s.worker === undefined) continue;
    let n = s.unauthorized?.requests ?? 0;
    for (const [, u] of s.users) n += u.requests;
    series.push([`tenantgate_worker_requests_total{worker="${s.worker.slot}"}`, n]);
  }
  return {
    users,
    unauthorized: uu.length > 0 ? mergeStats(uu) : null,
    errorsByReason: reasons,
    series,
    bufferBody: mergeSummaries(snapshots.map((s) => s.bufferBody)),
    startSeconds: Math.min(...snapshots.map((s) => s.startSeconds)),
  };
}

/** Text exposition lines of a summary snapshot with the given rendered label set (`{a="b"}` or ''). */
export function summarySnapshotLines(name: string, labels: string, s: SummarySnapshot): string[] {
  const inner = labels === '' ? '' : labels.slice(1, -1) + ',';
  const out = s.quantiles.map((v, i) => `${name}{${inner}quantile="${SUMMARY_QUANTILES[i]}"} ${Number.isNaN(v) ? 'NaN' : v}`);
  out.push(`${name}_sum${labels} ${s.sum}`, `${name}_count${labels} ${s.count}`);
  return out;
}
