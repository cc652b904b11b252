// Grafana's Prometheus data source, unchanged, through `tenant:` sections: every request it makes
// (read from Grafana's source: pkg/promlib health check, packages/grafana-prometheus datasource.ts
// and language_provider.ts; list in docs/tenancy.md) replayed as each of two tenants, against a
// real Prometheus (`enforce: promql`) and a real VictoriaMetrics (`enforce: victoriametrics`).
// Calls that return data return only the tenant's; calls that reveal nothing (build info, query
// formatting) are answered; refusals come in the API's own error format.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { basic, startGateway, type Gateway } from '../helpers/gateway.ts';
import { startPrometheus, type Prometheus } from '../helpers/prometheus.ts';
import { startTenantExporter, type TenantExporter } from '../helpers/tenant-exporter.ts';
import { startVictoriaMetrics, type VictoriaMetrics } from '../helpers/victoria-metrics.ts';
import { deniedTotal, tenantGet, tenantPost, type Reply } from '../helpers/tenant-http.ts';
import { startAlertmanager, type Alertmanager } from '../helpers/alertmanager.ts';

const TENANTS = ['team-a', 'team-b'] as const;
type Tenant = typeof TENANTS[number];
const other = (t: Tenant): Tenant => (t === 'team-a' ? 'team-b' : 'team-a');
const id = (t: Tenant) => t.replace('-', '_');
const KINDS = ['promql', 'victoriametrics'] as const;
type Kind = typeof KINDS[number];
const user = (k: Kind, t: Tenant) => `${k === 'promql' ? 'prom' : 'vm'}-${t}`;
const authOf = (k: Kind, t: Tenant) => basic(user(k, t), `gf-${user(k, t)}-pw`);

let prom: Prometheus;
let vm: VictoriaMetrics;
let am: Alertmanager;
let exporter: TenantExporter;
let gw: Gateway;

const now = () => Math.floor(Date.now() / 1000);
const range = () => `start=${now() - 600}&end=${now()}`;
const q = encodeURIComponent;
const form = { 'content-type': 'application/x-www-form-urlencoded' };

function json(r: Reply): { status: string; data?: unknown; error?: string; errorType?: string } {
  assert.match(r.headers.get('content-type') ?? '', /json/, `${r.status} ${r.body}`);
  return JSON.parse(r.body) as ReturnType<typeof json>;
}

function success(r: Reply, what: string): unknown {
  assert.equal(r.status, 200, `${what}: ${r.status} ${r.body}`);
  const j = json(r);
  assert.equal(j.status, 'success', `${what}: ${r.body}`);
  return j.data;
}

/** Nothing of the other tenant in an answer: its namespace, its secret metric, its label, its trace id. */
function assertNothingOf(foreign: Tenant, body: string, what: string): void {
  for (const needle of [foreign, `secret_${id(foreign)}`, `only_${id(foreign)}`, `trace-${foreign}`]) {
    assert.ok(!body.includes(needle), `${what} leaked ${needle}: ${body.slice(0, 500)}`);
  }
}

before(async () => {
  exporter = await startTenantExporter();
  am = await startAlertmanager({ route: { receiver: 'none' }, receivers: [{ name: 'none' }] });
  prom = await startPrometheus({
    global: { scrape_interval: '1s', evaluation_interval: '1s' },
    scrape_configs: TENANTS.map((t) => ({ job_name: `app-${t}`, metrics_path: `/${t}`, static_configs: [{ targets: [exporter.host], labels: { namespace: t } }] })),
  }, {
    rules: Object.fromEntries(TENANTS.map((t) => [`${t}.yml`, {
      groups: [{ name: `rules-${t}`, interval: '1s', rules: [
        { alert: `Requests_${id(t)}`, expr: `app_requests_total{namespace="${t}"} > 0` },
        { record: `${id(t)}:requests:sum`, expr: `sum(app_requests_total{namespace="${t}"})` },
      ] }],
    }])),
    extraArgs: ['--enable-feature=exemplar-storage'],
  });
  vm = await startVictoriaMetrics();
  for (const t of TENANTS) {
    // Samples over the last two minutes, so range queries have points to return.
    const ts = [120, 60, 5].map((ago) => Date.now() - ago * 1000);
    const body = ts.map((ms) => `app_requests_total{code="200"} 5 ${ms}\nsecret_${id(t)}{only_${id(t)}="yes"} 1 ${ms}\n`).join('');
    const r = await fetch(`${vm.url}/api/v1/import/prometheus?extra_label=namespace=${t}`, { method: 'POST', body });
    assert.equal(r.status, 204);
  }
  await vm.waitForSeries('{__name__=~"app_requests_total|secret_.*"}', 4);
  const users = TENANTS.flatMap((t) => [`
- username: ${user('promql', t)}
  password: gf-${user('promql', t)}-pw
  tenant: {labels: {namespace: ${t}}}
  url_map:
  - {src_paths: ["/api/v2/.*"], url_prefix: "${am.url}/"}
  - {src_paths: ["/.*"], url_prefix: "${prom.url}/"}`, `
- username: ${user('victoriametrics', t)}
  password: gf-${user('victoriametrics', t)}-pw
  url_prefix: "${vm.url}/"
  tenant: {enforce: victoriametrics, labels: {namespace: ${t}}}`]).join('');
  gw = await startGateway(`users:${users}\n`);
  await prom.waitFor('count(ALERTS{alertstate="firing"})', (r) => r[0]?.value[1] === '2');
  await prom.waitFor('count(team_a:requests:sum) + count(team_b:requests:sum)', (r) => r[0]?.value[1] === '2');
});

after(async () => {
  await gw?.stop();
  await prom?.stop();
  await vm?.stop();
  await am?.stop();
  await exporter?.close();
});

for (const kind of KINDS) {
  describe(`Grafana's calls through enforce: ${kind}`, () => {
    for (const t of TENANTS) {
      const get = (path: string) => tenantGet(gw.url, path, authOf(kind, t));
      const post = (path: string, body: string) => tenantPost(gw.url, path, authOf(kind, t), body, form);

      test(`${t}: health check (instant query 1+1) and build info`, async () => {
        // pkg/promlib/healthcheck.go: an instant query of 1+1 over the time range 1s..4s after the epoch.
        const h = success(await post('/api/v1/query', `query=${q('1+1')}&time=4`), 'health check') as { result: unknown };
        assert.ok(JSON.stringify(h).includes('2'));
        const b = success(await get('/api/v1/status/buildinfo'), 'buildinfo') as { version?: string };
        // VictoriaMetrics 1.79 answers an empty object; Prometheus its version.
        if (kind === 'promql') assert.equal(typeof b.version, 'string');
      });

      test(`${t}: metric names, label names and values (with and without match[]), series`, async () => {
        // A busy machine can take a scrape longer to index: wait (bounded: 10 s) for the names.
        let names: string[] = [];
        for (let i = 0; i < 50; i++) {
          names = success(await get(`/api/v1/label/__name__/values?${range()}`), 'metric names') as string[];
          if (names.includes('app_requests_total') && names.includes(`secret_${id(t)}`)) break;
          await new Promise((r) => setTimeout(r, 200));
        }
        assert.ok(names.includes('app_requests_total') && names.includes(`secret_${id(t)}`), JSON.stringify(names));
        for (const path of [
          `/api/v1/label/__name__/values?${range()}`,
          `/api/v1/labels?${range()}`,
          `/api/v1/labels?${range()}&match[]=${q('app_requests_total')}`,
          `/api/v1/label/namespace/values?${range()}&match[]=${q('app_requests_total')}`,
          `/api/v1/label/namespace/values?${range()}`,
          `/api/v1/series?${range()}&match[]=${q('app_requests_total')}`,
          `/api/v1/series?${range()}&match[]=${q(`{namespace="${other(t)}"}`)}`,
        ]) {
          const r = await get(path);
          success(r, path);
          assertNothingOf(other(t), r.body, path);
        }
        const values = success(await get(`/api/v1/label/namespace/values?${range()}&match[]=${q('app_requests_total')}`), 'namespace values');
        assert.deepEqual(values, [t]);
        const labels = await post('/api/v1/labels', `${range()}&match[]=${q('{__name__=~".+"}')}`);
        success(labels, 'POST labels');
        assertNothingOf(other(t), labels.body, 'POST labels');
        assert.ok(labels.body.includes(`only_${id(t)}`), labels.body);
      });

      test(`${t}: query and query_range (POST, Grafana's default), exemplars`, async () => {
        // Prometheus may have been scraping for less than one 15 s step, and on a busy machine a
        // missed scrape marks the series stale at the last step: wait (bounded: 10 s) for a point.
        let d: { result: Array<{ metric: Record<string, string> }> } = { result: [] };
        for (let i = 0; i < 50; i++) {
          const r = await post('/api/v1/query_range', `query=${q('sum by (namespace) (app_requests_total)')}&${range()}&step=15`);
          d = success(r, 'query_range') as typeof d;
          assertNothingOf(other(t), r.body, 'query_range');
          if (d.result.length > 0) break;
          await new Promise((res) => setTimeout(res, 200));
        }
        assert.deepEqual(d.result.map((x) => x.metric['namespace']), [t]);
        const i = await post('/api/v1/query', `query=${q(`secret_${id(other(t))}`)}&time=${now()}`);
        assert.deepEqual((success(i, 'query') as { result: unknown[] }).result, []);
        const ex = await post('/api/v1/query_exemplars', `query=${q('app_requests_total')}&${range()}`);
        success(ex, 'exemplars');
        assertNothingOf(other(t), ex.body, 'exemplars');
        if (kind === 'promql') assert.ok(ex.body.includes(`trace-${t}`), ex.body);
      });

      test(`${t}: metadata only for the tenant's own metric names`, async () => {
        for (const path of ['/api/v1/metadata', `/api/v1/metadata?metric=secret_${id(other(t))}`, `/api/v1/metadata?match[]=${q('{__name__=~".+"}')}`, '/api/v1/metadata?limit=1000']) {
          const r = await get(path);
          const d = success(r, path) as Record<string, unknown>;
          assertNothingOf(other(t), r.body, path);
          if (kind === 'promql' && path === '/api/v1/metadata') {
            // Prometheus keeps metadata per family: app_requests (counter) and the tenant's gauge.
            assert.ok('app_requests' in d && `secret_${id(t)}` in d, JSON.stringify(d));
          }
        }
      });

      test(`${t}: format_query is answered, rules and alerts are the tenant's`, async () => {
        const f = await get(`/api/v1/format_query?query=${q('sum(rate(x[5m]))')}`);
        // Forwarded (never refused by the gateway); Prometheus formats it, older VictoriaMetrics may not know it.
        assert.notEqual(f.status, 403, f.body);
        if (kind === 'promql') assert.equal(success(f, 'format_query'), 'sum(rate(x[5m]))');
        // Grafana's backend sends resource calls not on its GET-only list as POST forms.
        const fp = await post('/api/v1/format_query', `query=${q('sum( up )')}`);
        assert.notEqual(fp.status, 403, fp.body);
        if (kind === 'promql') assert.equal(success(fp, 'POST format_query'), 'sum(up)');
        const rules = await get('/api/v1/rules');
        success(rules, 'rules');
        assertNothingOf(other(t), rules.body, 'rules');
        const alerts = await get('/api/v1/alerts');
        success(alerts, 'alerts');
        assertNothingOf(other(t), alerts.body, 'alerts');
        if (kind === 'promql') {
          assert.ok(rules.body.includes(`Requests_${id(t)}`) && rules.body.includes(`${id(t)}:requests:sum`), rules.body);
          assert.ok(alerts.body.includes(`Requests_${id(t)}`), alerts.body);
        }
      });
    }

    test('refusals use the Prometheus API error format', async () => {
      const r = await tenantGet(gw.url, '/api/v1/status/top_queries', authOf(kind, 'team-a'));
      assert.equal(r.status, 403);
      const j = json(r);
      assert.deepEqual([j.status, j.errorType], ['error', 'forbidden']);
      assert.match(j.error ?? '', /top_queries/);
      // An unparsable query: refused by tenantgate under promql (400), by VictoriaMetrics itself (422) otherwise.
      const bad = await tenantGet(gw.url, `/api/v1/query?query=${q('sum(')}`, authOf(kind, 'team-a'));
      assert.equal(bad.status, kind === 'promql' ? 400 : 422, bad.body);
      assert.equal(json(bad).status, 'error');
    });
  });
}

test('Alertmanager API refusals use its own error format; write refusals stay text', async () => {
  const r = await tenantGet(gw.url, '/api/v2/status', authOf('promql', 'team-a'));
  assert.equal(r.status, 403);
  const j = JSON.parse(r.body) as { code: number; message: string };
  assert.equal(j.code, 403);
  assert.match(j.message, /administrative|status/);
  const w = await tenantPost(gw.url, '/api/v1/import', authOf('victoriametrics', 'team-a'), 'a=b', form);
  assert.equal(w.status, 415);
  assert.match(w.headers.get('content-type') ?? '', /text\/plain/);
  const text = await (await fetch(`${gw.url}/metrics`)).text();
  assert.ok(deniedTotal(text, 'tenant_path_not_allowed') > 0);
});
