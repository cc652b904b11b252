// Merging every worker's metrics into one /metrics: counters and in-flight gauges add up, reload
// bookkeeping (identical in every worker) is taken once, quantiles are the largest per worker,
// and a single process renders exactly its own numbers with no worker series.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Metrics } from '../../../src/observe/metrics.ts';
import { mergeSnapshots, type MetricsSnapshot } from '../../../src/observe/metrics-snapshot.ts';

function sample(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) if (line.startsWith(series + ' ')) return Number(line.slice(series.length + 1));
  return undefined;
}

/** A worker's registry after some traffic. */
function worker(opts: { alice: number; bob?: number; reasons?: Record<string, number>; durations?: number[]; reloadOk?: 0 | 1; reloads?: number; inFlight?: number; capacity?: number }): Metrics {
  const m = new Metrics();
  const alice = m.userStats({ username: 'alice' });
  alice.requests = opts.alice;
  alice.backendRequests = opts.alice;
  alice.current = opts.inFlight ?? 0;
  alice.capacity = opts.capacity ?? 50;
  for (const d of opts.durations ?? []) alice.duration.observe(d);
  if (opts.bob !== undefined) m.userStats({ username: 'bob' }).requests = opts.bob;
  for (const [r, n] of Object.entries(opts.reasons ?? {})) for (let i = 0; i < n; i++) m.requestError(r);
  m.set('vmauth_config_last_reload_successful', opts.reloadOk ?? 1);
  m.set('vmauth_config_last_reload_total', opts.reloads ?? 0);
  m.set('vmauth_config_last_reload_success_timestamp_seconds', 1000 + (opts.reloads ?? 0));
  m.inc('vm_tcplistener_accepts_total', opts.alice);
  m.gauge('vmauth_concurrent_requests_capacity', () => 500);
  return m;
}

test('counters, in-flight gauges and capacities add up; reload bookkeeping is taken once', () => {
  const a = worker({ alice: 7, reasons: { invalid_auth_token: 2 }, reloads: 3, inFlight: 1 }).snapshot({ slot: 0, pid: 11 });
  const b = worker({ alice: 5, bob: 4, reasons: { invalid_auth_token: 1, missing_route: 6 }, reloads: 3, inFlight: 2, reloadOk: 0 }).snapshot({ slot: 1, pid: 12 });
  const m = mergeSnapshots([a, b]);
  const user = (k: string) => m.users.find(([key]) => key === k)?.[1];
  assert.equal(user('{username="alice"}')?.requests, 12);
  assert.equal(user('{username="alice"}')?.backendRequests, 12);
  assert.equal(user('{username="alice"}')?.current, 3);
  assert.equal(user('{username="alice"}')?.capacity, 100);
  assert.equal(user('{username="bob"}')?.requests, 4, 'a user seen by one worker only still appears');
  assert.deepEqual(new Map(m.errorsByReason), new Map([['invalid_auth_token', 3], ['missing_route', 6]]));
  const series = new Map(m.series);
  assert.equal(series.get('vm_tcplistener_accepts_total'), 12);
  assert.equal(series.get('vmauth_concurrent_requests_capacity'), 1000);
  assert.equal(series.get('vmauth_config_last_reload_total'), 3, 'every worker counts the same reloads: not summed');
  assert.equal(series.get('vmauth_config_last_reload_successful'), 0, 'one worker on a failed reload makes the gateway failed');
  assert.equal(series.get('vmauth_config_last_reload_success_timestamp_seconds'), 1003);
  assert.equal(series.get('tenantgate_worker_requests_total{worker="0"}'), 7);
  assert.equal(series.get('tenantgate_worker_requests_total{worker="1"}'), 9);
  assert.equal(m.unauthorized, null);
});

test('summaries: _sum and _count add up, quantiles are the largest per worker (empty windows ignored)', () => {
  const a = worker({ alice: 3, durations: [0.1, 0.2, 0.3] }).snapshot({ slot: 0, pid: 1 });
  const b = worker({ alice: 1, durations: [0.9] }).snapshot({ slot: 1, pid: 2 });
  const c = worker({ alice: 0 }).snapshot({ slot: 2, pid: 3 });
  const d = mergeSnapshots([a, b, c]).users[0]?.[1].duration;
  assert.ok(d !== undefined);
  assert.equal(d.count, 4);
  assert.ok(Math.abs(d.sum - 1.5) < 1e-9);
  assert.deepEqual(d.quantiles, [0.9, 0.9, 0.9, 0.9, 0.9]);
  const empty = mergeSnapshots([c]).users[0]?.[1].duration;
  assert.ok(empty?.quantiles.every((q) => Number.isNaN(q)));
});

test('unauthorized_user stats merge when any worker has them', () => {
  const a = new Metrics();
  a.hasUnauthorizedUser = true;
  a.unauthorized.requests = 4;
  const b = new Metrics();
  b.hasUnauthorizedUser = true;
  b.unauthorized.requests = 6;
  assert.equal(mergeSnapshots([a.snapshot(), b.snapshot()]).unauthorized?.requests, 10);
  assert.equal(mergeSnapshots([new Metrics().snapshot()]).unauthorized, null);
});

test('a cluster-sourced render shows the merged numbers plus the primary series', async () => {
  const w0 = worker({ alice: 10, reloads: 1 });
  const w1 = worker({ alice: 32, reloads: 1 });
  const serving = new Metrics();
  serving.useClusterSource(async () => ({
    snapshots: [w0.snapshot({ slot: 0, pid: 100 }), w1.snapshot({ slot: 1, pid: 101 })],
    extraSeries: [['tenantgate_workers', 2], ['tenantgate_workers_scraped', 2], ['tenantgate_worker_restarts_total', 0]],
  }));
  const text = await serving.render();
  assert.equal(sample(text, 'vmauth_user_requests_total{username="alice"}'), 42);
  assert.equal(sample(text, 'vmauth_user_request_duration_seconds_count{username="alice"}'), 0);
  assert.equal(sample(text, 'vmauth_config_last_reload_total'), 1);
  assert.equal(sample(text, 'tenantgate_worker_requests_total{worker="1"}'), 32);
  assert.equal(sample(text, 'tenantgate_workers'), 2);
  assert.match(text, /# TYPE tenantgate_worker_requests_total counter/);
  assert.match(text, /# TYPE tenantgate_workers gauge/);
});

test('a single process renders its own numbers and no worker series', async () => {
  const m = worker({ alice: 3, reasons: { ip_denied: 1 }, durations: [0.5] });
  const text = await m.render();
  assert.equal(sample(text, 'vmauth_user_requests_total{username="alice"}'), 3);
  assert.equal(sample(text, 'vmauth_http_request_errors_total{reason="ip_denied"}'), 1);
  assert.equal(sample(text, 'vmauth_user_request_duration_seconds{username="alice",quantile="0.5"}'), 0.5);
  assert.equal(sample(text, 'vmauth_user_request_duration_seconds_count{username="alice"}'), 1);
  assert.doesNotMatch(text, /tenantgate_worker/);
  // The snapshot survives the structured clone node:cluster's IPC uses (NaN quantiles included).
  const snap: MetricsSnapshot = structuredClone(new Metrics().snapshot({ slot: 0, pid: 1 }));
  assert.ok(Number.isNaN(snap.bufferBody.quantiles[0] as number));
});
