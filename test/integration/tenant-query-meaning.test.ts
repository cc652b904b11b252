// The answer never contradicts the query: behind tenantgate, a user matcher on the tenant label is
// kept and ANDed with the tenant's own, on a real Prometheus (every PromQL-enforced endpoint), a
// real VictoriaMetrics (`enforce: victoriametrics`) and a real Alertmanager (alert and silence
// filters). As team-a, `{tenant="team-b"}` or `{tenant!="team-a"}` select nothing (never team-a's
// series), narrowing still works, and a tenant with `on_conflict: error` gets a 400 instead.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { basic, startGateway, type Gateway } from '../helpers/gateway.ts';
import { startPrometheus, type Prometheus } from '../helpers/prometheus.ts';
import { startAlertmanager, type Alertmanager } from '../helpers/alertmanager.ts';
import { startVictoriaMetrics, type VictoriaMetrics } from '../helpers/victoria-metrics.ts';
import { deniedTotal, tenantGet } from '../helpers/tenant-http.ts';
import { snappyCompress } from '../../src/enforce/remote-write/snappy-encode.ts';
import { encodeWriteRequest } from '../unit/remote-write/proto-reference.ts';

let prom: Prometheus;
let am: Alertmanager;
let vm: VictoriaMetrics;
let gw: Gateway;
const A = basic('team-a', 'pass-a');
const STRICT = basic('strict-a', 'pass-strict');
const VM_A = basic('vm-a', 'pass-vm-a');
const q = encodeURIComponent;
const get = (path: string, auth: string) => tenantGet(gw.url, path, auth);

/** Selectors whose tenant-label matchers exclude team-a (each must select nothing as team-a). */
const CONFLICTS = [
  'm{tenant="team-b"}', 'm{tenant!="team-a"}', '{__name__=~".+", tenant=""}', 'm{tenant=~"team-b|team-c"}',
  '{"tenant"="team-b"}', 'm{tenant!~"team-a"}', 'm{tenant="team-a", tenant="team-b"}',
];
/** Selectors that only narrow team-a's data, and the `job` values team-a must get back. */
const NARROWING: Array<[string, string[]]> = [
  ['m', ['x', 'y']], ['m{job="x"}', ['x']], ['m{tenant="team-a"}', ['x', 'y']], ['m{tenant=~"team-.*"}', ['x', 'y']],
  ['m{tenant!="team-b"}', ['x', 'y']], ['m{tenant=~"team-a|team-b", job="y"}', ['y']],
];

let t0 = 0;
before(async () => {
  [prom, am, vm] = await Promise.all([
    startPrometheus({ global: { scrape_interval: '1h' } }, { extraArgs: ['--web.enable-remote-write-receiver', '--enable-feature=exemplar-storage'] }),
    startAlertmanager({ route: { receiver: 'none' }, receivers: [{ name: 'none' }] }),
    startVictoriaMetrics(),
  ]);
  gw = await startGateway(`
users:
- username: team-a
  password: pass-a
  tenant: {labels: {tenant: team-a}}
  url_map:
  - {src_paths: ["/api/v2/.*"], url_prefix: "${am.url}/"}
  - {src_paths: ["/.*"], url_prefix: "${prom.url}/"}
- username: strict-a
  password: pass-strict
  tenant: {labels: {tenant: team-a}, on_conflict: error}
  url_map:
  - {src_paths: ["/api/v2/.*"], url_prefix: "${am.url}/"}
  - {src_paths: ["/.*"], url_prefix: "${prom.url}/"}
- username: vm-a
  password: pass-vm-a
  url_prefix: "${vm.url}/"
  tenant: {enforce: victoriametrics, labels: {tenant: team-a}}
`);
  // Seeded on the backends directly: two series of team-a, one of team-b, one of nobody.
  t0 = Date.now() - 30_000;
  const series = [['team-a', 'x'], ['team-a', 'y'], ['team-b', 'x'], ['', 'x']] as const;
  const body = encodeWriteRequest({
    timeseries: series.map(([t, job]) => ({
      labels: [['__name__', 'm'], ['job', job], ...(t === '' ? [] : [['tenant', t]] as [string, string][])] as [string, string][],
      samples: [{ value: 1, timestamp: t0 }, { value: 2, timestamp: t0 + 10_000 }],
      exemplars: [{ labels: [['trace_id', `trace-${t || 'none'}-${job}`]] as [string, string][], value: 1, timestamp: t0 + 10_000 }],
    })),
  });
  const w = await fetch(`${prom.url}/api/v1/write`, {
    method: 'POST', body: Buffer.from(snappyCompress(body)),
    headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy', 'x-prometheus-remote-write-version': '0.1.0' },
    signal: AbortSignal.timeout(10_000),
  });
  assert.equal(w.status, 204, await w.text());
  const lines = series.map(([t, job]) => `m{job="${job}"${t === '' ? '' : `,tenant="${t}"`}} 1 ${t0}`).join('\n');
  const v = await fetch(`${vm.url}/api/v1/import/prometheus`, { method: 'POST', body: `${lines}\n`, signal: AbortSignal.timeout(10_000) });
  assert.equal(v.status, 204, await v.text());
  await vm.waitForSeries('m', 4);
  const now = new Date().toISOString();
  await am.postAlerts([
    { labels: { alertname: 'Same', tenant: 'team-a', job: 'x' } },
    { labels: { alertname: 'Same', tenant: 'team-b', job: 'x' } },
  ]);
  for (const t of ['team-a', 'team-b']) {
    const r = await fetch(`${am.url}/api/v2/silences`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(5000),
      body: JSON.stringify({ matchers: [{ name: 'tenant', value: t, isRegex: false }], startsAt: now, endsAt: new Date(Date.now() + 3_600_000).toISOString(), createdBy: t, comment: t }),
    });
    assert.equal(r.status, 200, await r.text());
  }
});

after(async () => {
  await gw?.stop();
  await Promise.all([prom?.stop(), am?.stop(), vm?.stop()]);
});

const at = () => (t0 + 10_000) / 1000;
const range = () => `start=${(t0 - 1000) / 1000}&end=${(t0 + 20_000) / 1000}`;

/** The `job` values of the series an endpoint answered with, for every PromQL-enforced endpoint. */
const PROM_ENDPOINTS: Array<[string, (sel: string) => string, (body: string) => string[]]> = [
  ['query', (s) => `/api/v1/query?query=${q(s)}&time=${at()}`, (b) => JSON.parse(b).data.result.map((r: { metric: { job: string } }) => r.metric.job)],
  ['query_range', (s) => `/api/v1/query_range?query=${q(s)}&${range()}&step=5`, (b) => JSON.parse(b).data.result.map((r: { metric: { job: string } }) => r.metric.job)],
  ['series', (s) => `/api/v1/series?match[]=${q(s)}&${range()}`, (b) => JSON.parse(b).data.map((r: { job: string }) => r.job)],
  ['label values', (s) => `/api/v1/label/job/values?match[]=${q(s)}&${range()}`, (b) => JSON.parse(b).data],
  ['labels', (s) => `/api/v1/labels?match[]=${q(s)}&${range()}`, (b) => (JSON.parse(b).data as string[]).includes('job') ? ['(labels)'] : []],
  ['federate', (s) => `/federate?match[]=${q(s)}`, (b) => [...b.matchAll(/job="(\w+)"/g)].map((m) => m[1]!)],
  ['exemplars', (s) => `/api/v1/query_exemplars?query=${q(s)}&${range()}`, (b) => JSON.parse(b).data.map((r: { seriesLabels: { job: string } }) => r.seriesLabels.job)],
];

function sorted(xs: string[]): string[] {
  return [...new Set(xs)].sort();
}

describe('Prometheus (enforce: promql): conflicting tenant matchers select nothing', () => {
  for (const [name, path, jobs] of PROM_ENDPOINTS) {
    test(`${name}: conflicts are empty, narrowing works`, async () => {
      for (const sel of CONFLICTS) {
        const r = await get(path(sel), A);
        assert.equal(r.status, 200, `${sel}: ${r.body}`);
        assert.deepEqual(jobs(r.body), [], `${name} ${sel} as team-a must be empty: ${r.body.slice(0, 300)}`);
      }
      for (const [sel, want] of NARROWING) {
        const r = await get(path(sel), A);
        assert.equal(r.status, 200, `${sel}: ${r.body}`);
        // federate's last-sample lookback and the labels API answer at their own granularity.
        const expected = name === 'labels' ? ['(labels)'] : want;
        assert.deepEqual(sorted(jobs(r.body)), expected, `${name} ${sel}: ${r.body.slice(0, 300)}`);
        assert.ok(!r.body.includes('team-b') && !r.body.includes('trace-none'), `${name} ${sel} leaked: ${r.body.slice(0, 300)}`);
      }
    });
  }
});

describe('on_conflict: error answers 400 instead', () => {
  for (const [name, path, jobs] of PROM_ENDPOINTS) {
    test(`${name}: 400 for each conflict, 200 for narrowing`, async () => {
      for (const sel of CONFLICTS) {
        const r = await get(path(sel), STRICT);
        assert.equal(r.status, 400, `${name} ${sel}: ${r.status} ${r.body}`);
        assert.match(r.body, /exclude every value of the tenant label tenant/);
        assert.ok(!r.body.includes('team-b') || sel.includes('team-b'), 'the message only echoes the query');
      }
      for (const [sel, want] of NARROWING) {
        const r = await get(path(sel), STRICT);
        assert.equal(r.status, 200, `${name} ${sel}: ${r.body}`);
        if (name !== 'labels') assert.deepEqual(sorted(jobs(r.body)), want, `${name} ${sel}`);
      }
    });
  }
  test('a conflict nested in a bigger query is found', async () => {
    const r = await get(`/api/v1/query?query=${q('sum(m) + on() group_left count(m{tenant="team-b"})')}`, STRICT);
    assert.equal(r.status, 400, r.body);
    const ok = await get(`/api/v1/query?query=${q('sum(m) + on() group_left count(m{tenant="team-a"})')}&time=${at()}`, STRICT);
    assert.equal(ok.status, 200, ok.body);
  });
  test('the refusals are counted', async () => {
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    assert.ok(deniedTotal(text, 'tenant_query_conflict') >= CONFLICTS.length * PROM_ENDPOINTS.length, 'tenant_query_conflict counted');
  });
});

describe('Alertmanager filters are ANDed with the tenant', () => {
  const alerts = (b: string) => (JSON.parse(b) as { labels: Record<string, string> }[]).map((a) => a.labels['tenant']);
  const silences = (b: string) => (JSON.parse(b) as { createdBy: string }[]).map((s) => s.createdBy);
  const groups = (b: string) => (JSON.parse(b) as { alerts: { labels: Record<string, string> }[] }[]).flatMap((g) => g.alerts.map((a) => a.labels['tenant']));
  const AM: Array<[string, string, (b: string) => (string | undefined)[]]> = [
    ['alerts', '/api/v2/alerts', alerts], ['alert groups', '/api/v2/alerts/groups', groups], ['silences', '/api/v2/silences', silences],
  ];
  const conflicts = ['tenant="team-b"', 'tenant!="team-a"', 'tenant=~"team-b|x"', 'tenant=""'];
  for (const [name, path, tenants] of AM) {
    test(`${name}: conflicting filters are empty (400 with on_conflict: error), narrowing works`, async () => {
      for (const f of conflicts) {
        const r = await get(`${path}?filter=${q(f)}`, A);
        assert.equal(r.status, 200, r.body);
        assert.deepEqual(tenants(r.body), [], `${name} ${f}: ${r.body}`);
        assert.equal((await get(`${path}?filter=${q(f)}`, STRICT)).status, 400, `${name} ${f} strict`);
      }
      // Alertmanager compares a silence filter with the silence's own matchers, so a regex or
      // negative filter never finds an equality silence, with or without the gateway.
      for (const f of name === 'silences' ? ['tenant="team-a"'] : ['tenant="team-a"', 'tenant=~"team-.*"', 'tenant!="team-b"']) {
        for (const auth of [A, STRICT]) {
          const r = await get(`${path}?filter=${q(f)}`, auth);
          assert.equal(r.status, 200, r.body);
          assert.deepEqual(sorted(tenants(r.body) as string[]), ['team-a'], `${name} ${f}: ${r.body}`);
        }
      }
    });
  }
});

describe('VictoriaMetrics (enforce: victoriametrics) ANDs extra_label with the query', () => {
  const VM_ENDPOINTS: Array<[string, (sel: string) => string, (body: string) => string[]]> = [
    ['query', (s) => `/api/v1/query?query=${q(s)}&time=${t0 / 1000}`, (b) => JSON.parse(b).data.result.map((r: { metric: { job: string } }) => r.metric.job)],
    ['query_range', (s) => `/api/v1/query_range?query=${q(s)}&${range()}&step=5`, (b) => JSON.parse(b).data.result.map((r: { metric: { job: string } }) => r.metric.job)],
    ['series', (s) => `/api/v1/series?match[]=${q(s)}&${range()}`, (b) => JSON.parse(b).data.map((r: { job: string }) => r.job)],
    ['label values', (s) => `/api/v1/label/job/values?match[]=${q(s)}&${range()}`, (b) => JSON.parse(b).data],
    ['export', (s) => `/api/v1/export?match[]=${q(s)}&${range()}`, (b) => b.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l).metric.job)],
    ['federate', (s) => `/federate?match[]=${q(s)}&${range()}`, (b) => [...b.matchAll(/job="(\w+)"/g)].map((m) => m[1]!)],
  ];
  for (const [name, path, jobs] of VM_ENDPOINTS) {
    test(`${name}: conflicts are empty, narrowing works`, async () => {
      // MetricsQL has no quoted label names.
      for (const sel of CONFLICTS.filter((c) => !c.includes('"tenant"'))) {
        const r = await get(path(sel), VM_A);
        assert.equal(r.status, 200, `${sel}: ${r.body}`);
        assert.deepEqual(jobs(r.body), [], `${name} ${sel}: ${r.body.slice(0, 300)}`);
      }
      for (const [sel, want] of NARROWING) {
        const r = await get(path(sel), VM_A);
        assert.equal(r.status, 200, `${sel}: ${r.body}`);
        assert.deepEqual(sorted(jobs(r.body)), want, `${name} ${sel}: ${r.body.slice(0, 300)}`);
      }
    });
  }
});
