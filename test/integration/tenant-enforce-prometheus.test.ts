// Two tenants behind tenantgate (`enforce: promql`) in front of a real Prometheus (remote-write
// receiver and exemplar storage on, scraping a per-tenant exporter, per-tenant alerting and
// recording rules) and a real Alertmanager. Each tenant writes through the gateway, then every
// read API is exercised as each tenant: nothing of the other tenant ever appears, and each
// tenant still reads all of its own data. Then the attack suite.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { basic, startGateway, type Gateway } from '../helpers/gateway.ts';
import { startPrometheus, type Prometheus } from '../helpers/prometheus.ts';
import { startAlertmanager, type Alertmanager } from '../helpers/alertmanager.ts';
import { startTenantExporter, type TenantExporter } from '../helpers/tenant-exporter.ts';
import { deniedTotal, tenantGet, tenantPost } from '../helpers/tenant-http.ts';
import { snappyCompress } from '../../src/enforce/remote-write/snappy-encode.ts';
import { encodeWriteRequest } from '../unit/remote-write/proto-reference.ts';

let prom: Prometheus;
let am: Alertmanager;
let exporter: TenantExporter;
let gw: Gateway;
const A = basic('team-a', 'pass-a');
const B = basic('team-b', 'pass-b');
const AB = basic('team-ab', 'pass-ab');
const TENANTS = [['team-a', A], ['team-b', B]] as const;
const other = (t: string) => (t === 'team-a' ? 'team-b' : 'team-a');
const idOf = (t: string) => t.replace('-', '_');

const get = (path: string, auth: string, headers: Record<string, string> = {}) => tenantGet(gw.url, path, auth, headers);
const post = (path: string, auth: string, body: string | Uint8Array, headers: Record<string, string> = {}) => tenantPost(gw.url, path, auth, body, headers);
const q = (s: string) => encodeURIComponent(s);

/** Asserts the response mentions nothing of `foreign` (its namespace, secret metric, label, trace id). */
function assertNothingOf(foreign: string, body: string, what: string): void {
  for (const needle of [foreign, `secret_${idOf(foreign)}`, `only_${idOf(foreign)}`, `trace-${foreign}`, `rw_${idOf(foreign)}`]) {
    assert.ok(!body.includes(needle), `${what} leaked ${needle}: ${body.slice(0, 600)}`);
  }
}

function rulesFor(tenant: string) {
  return {
    groups: [{
      name: `rules-${tenant}`,
      interval: '1s',
      rules: [
        { alert: `Requests_${idOf(tenant)}`, expr: `app_requests_total{namespace="${tenant}"} > 0`, labels: { severity: 'page' } },
        { record: `${idOf(tenant)}:requests:sum`, expr: `sum by (namespace) (app_requests_total{namespace="${tenant}"})` },
      ],
    }],
  };
}

before(async () => {
  exporter = await startTenantExporter();
  // Grouped per tenant: tenantgate refuses alert posts to an Alertmanager that mixes tenants.
  am = await startAlertmanager({ route: { receiver: 'none', group_by: ['alertname', 'namespace'] }, receivers: [{ name: 'none' }] });
  prom = await startPrometheus({
    global: { scrape_interval: '1s', evaluation_interval: '1s' },
    scrape_configs: TENANTS.map(([t]) => ({
      job_name: `app-${t}`,
      metrics_path: `/${t}`,
      static_configs: [{ targets: [exporter.host], labels: { namespace: t } }],
    })),
  }, {
    rules: {
      'team-a.yml': rulesFor('team-a'),
      'team-b.yml': rulesFor('team-b'),
      // A rule of nobody's: never shown to a tenant.
      'global.yml': { groups: [{ name: 'global', interval: '1s', rules: [{ alert: 'AnythingUp', expr: 'up == 1' }] }] },
    },
    extraArgs: ['--web.enable-remote-write-receiver', '--enable-feature=exemplar-storage'],
  });
  const users = TENANTS.map(([t]) => `
- username: ${t}
  password: pass-${t.slice(5)}
  tenant: {labels: {namespace: ${t}}}
  url_map:
  - {src_paths: ["/api/v2/.*"], url_prefix: "${am.url}/"}
  - {src_paths: ["/.*"], url_prefix: "${prom.url}/"}`).join('');
  gw = await startGateway(`users:${users}
- username: team-ab
  password: pass-ab
  tenant: {labels: {namespace: [team-a, team-b]}}
  url_prefix: "${prom.url}/"
`);

  // Each tenant writes through the gateway, claiming the other tenant's namespace.
  const now = Date.now();
  for (const [t, auth] of TENANTS) {
    const body = encodeWriteRequest({
      timeseries: [{
        labels: [['__name__', `rw_${idOf(t)}`], ['namespace', other(t)], ['job', 'rw']],
        samples: [{ value: 1, timestamp: now - 2000 }, { value: 2, timestamp: now - 1000 }],
      }],
    });
    const r = await post('/api/v1/write', auth, snappyCompress(body), { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' });
    assert.equal(r.status, 204, r.body);
  }
  // Scrapes, exemplars and both tenants' alerts are in.
  await prom.waitFor('count(ALERTS{alertstate="firing", alertname=~"Requests_.*|AnythingUp"})', (r) => r[0]?.value[1] === '4');
  await prom.waitFor('count(team_a:requests:sum) + count(team_b:requests:sum)', (r) => r[0]?.value[1] === '2');
  await prom.waitFor('count(secret_team_a) + count(secret_team_b)', (r) => r[0]?.value[1] === '2');
});

after(async () => {
  await gw?.stop();
  await prom?.stop();
  await am?.stop();
  await exporter?.close();
});

describe('every read API, as each tenant', () => {
  // The window ends in the future: samples scraped in the current second must be inside it.
  const start = () => Math.floor(Date.now() / 1000) - 300;
  const reads: Array<[string, (t: string) => string, (t: string, body: string) => void]> = [
    ['instant query of every series', () => `/api/v1/query?query=${q('{__name__=~".+"}')}`, (t, body) => {
      const names = JSON.parse(body).data.result.map((r: { metric: Record<string, string> }) => r.metric['__name__']);
      for (const n of [`secret_${idOf(t)}`, 'app_requests_total', `rw_${idOf(t)}`, 'up', `${idOf(t)}:requests:sum`]) assert.ok(names.includes(n), `${n} missing: ${names}`);
    }],
    ['range query', () => `/api/v1/query_range?query=${q('app_requests_total')}&start=${start()}&end=${start() + 360}&step=15`, (t, body) => {
      assert.deepEqual(JSON.parse(body).data.result.map((r: { metric: Record<string, string> }) => r.metric['namespace']), [t]);
    }],
    ['series without match[]', () => '/api/v1/series', (t, body) => {
      assert.ok(JSON.parse(body).data.some((m: Record<string, string>) => m['__name__'] === `secret_${idOf(t)}`));
    }],
    ['series with match[]', () => `/api/v1/series?match[]=${q('{__name__=~"secret_.*|rw_.*"}')}`, (t, body) => {
      assert.deepEqual(JSON.parse(body).data.map((m: Record<string, string>) => m['__name__']).sort(), [`rw_${idOf(t)}`, `secret_${idOf(t)}`]);
    }],
    ['label names', () => '/api/v1/labels', (t, body) => assert.ok(JSON.parse(body).data.includes(`only_${idOf(t)}`))],
    ['label values', () => '/api/v1/label/namespace/values', (t, body) => assert.deepEqual(JSON.parse(body).data, [t])],
    ['metric names', () => '/api/v1/label/__name__/values', (t, body) => assert.ok(JSON.parse(body).data.includes(`secret_${idOf(t)}`))],
    ['exemplars', () => `/api/v1/query_exemplars?query=${q('app_requests_total')}&start=${start()}&end=${start() + 400}`, (t, body) => {
      const traces = JSON.parse(body).data.flatMap((s: { exemplars: { labels: Record<string, string> }[] }) => s.exemplars.map((e) => e.labels['trace_id']));
      assert.ok(traces.length > 0 && traces.every((x: string) => x === `trace-${t}`), body);
    }],
    ['federate', () => `/federate?match[]=${q('{job=~".+"}')}`, (t, body) => assert.ok(body.includes(`secret_${idOf(t)}`), body)],
    ['rules', () => '/api/v1/rules', (t, body) => {
      const names = JSON.parse(body).data.groups.flatMap((g: { rules: { name: string }[] }) => g.rules.map((r) => r.name)).sort();
      assert.deepEqual(names, [`Requests_${idOf(t)}`, `${idOf(t)}:requests:sum`]);
    }],
    ['alerts', () => '/api/v1/alerts', (t, body) => {
      // The global AnythingUp rule fires for each tenant's target too; those alerts carry the tenant's namespace.
      const alerts = JSON.parse(body).data.alerts as { labels: Record<string, string> }[];
      assert.ok(alerts.every((a) => a.labels['namespace'] === t), body);
      assert.deepEqual(alerts.map((a) => a.labels['alertname']).sort(), ['AnythingUp', `Requests_${idOf(t)}`]);
    }],
  ];
  for (const [name, path, check] of reads) {
    test(name, async () => {
      for (const [t, auth] of TENANTS) {
        const r = await get(path(t), auth);
        assert.equal(r.status, 200, `${t}: ${r.body}`);
        assertNothingOf(other(t), r.body, `${name} as ${t}`);
        check(t, r.body);
      }
    });
  }

  test('POST form query and series', async () => {
    for (const [t, auth] of TENANTS) {
      const r = await post('/api/v1/query', auth, `query=${q('{__name__=~"secret_.*"}')}`, { 'content-type': 'application/x-www-form-urlencoded' });
      assert.equal(r.status, 200, r.body);
      assert.deepEqual(JSON.parse(r.body).data.result.map((x: { metric: Record<string, string> }) => x.metric['__name__']), [`secret_${idOf(t)}`]);
      const s = await post('/api/v1/series', auth, `match[]=${q('{__name__=~"secret_.*"}')}`, { 'content-type': 'application/x-www-form-urlencoded' });
      assert.deepEqual(JSON.parse(s.body).data.map((m: Record<string, string>) => m['namespace']), [t]);
    }
  });

  test('remote-written series were stored under the writer\'s namespace', async () => {
    const all = await prom.query('{__name__=~"rw_.*"}');
    assert.deepEqual(all.map((r) => `${r.metric['__name__']}/${r.metric['namespace']}`).sort(), ['rw_team_a/team-a', 'rw_team_b/team-b']);
  });

  test('a multi-valued tenant reads both namespaces but cannot write', async () => {
    const r = await get('/api/v1/label/namespace/values', AB);
    assert.deepEqual(JSON.parse(r.body).data, ['team-a', 'team-b']);
    const w = await post('/api/v1/write', AB, snappyCompress(encodeWriteRequest({ timeseries: [{ labels: [['__name__', 'x']], samples: [{ value: 1, timestamp: Date.now() }] }] })),
      { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' });
    assert.equal(w.status, 403, w.body);
  });
});

describe('Alertmanager through the gateway', () => {
  test('posted alerts get the poster\'s namespace; each tenant lists only its own', async () => {
    for (const [t, auth] of TENANTS) {
      const r = await post('/api/v2/alerts', auth, JSON.stringify([{ labels: { alertname: `Posted_${idOf(t)}`, namespace: other(t) } }]), { 'content-type': 'application/json' });
      assert.equal(r.status, 200, r.body);
    }
    for (const [t, auth] of TENANTS) {
      for (const path of ['/api/v2/alerts', `/api/v2/alerts?filter=${q('namespace=~".*"')}`, '/api/v2/alerts/groups']) {
        const r = await get(path, auth);
        assert.equal(r.status, 200, r.body);
        assertNothingOf(other(t), r.body, `${path} as ${t}`);
        assert.ok(r.body.includes(`Posted_${idOf(t)}`), r.body);
      }
    }
  });

  test('silences: own ones can be created and listed; others\' are refused and hidden', async () => {
    const endsAt = new Date(Date.now() + 3_600_000).toISOString();
    const silence = (ns: string, extra: object = {}) => JSON.stringify({
      matchers: [{ name: 'namespace', value: ns, isRegex: false }], startsAt: new Date().toISOString(), endsAt, createdBy: 'test', comment: 'test', ...extra,
    });
    for (const [t, auth] of TENANTS) {
      const ok = await post('/api/v2/silences', auth, silence(t), { 'content-type': 'application/json' });
      assert.equal(ok.status, 200, ok.body);
      assert.equal((await post('/api/v2/silences', auth, silence(other(t)), { 'content-type': 'application/json' })).status, 403);
      const regex = JSON.stringify({ matchers: [{ name: 'namespace', value: '.*', isRegex: true }], startsAt: new Date().toISOString(), endsAt, createdBy: 't', comment: 't' });
      assert.equal((await post('/api/v2/silences', auth, regex, { 'content-type': 'application/json' })).status, 403);
      // Go's JSON decoder matches keys case-insensitively: a second "Matchers" must not survive.
      const smuggled = `{"matchers":[{"name":"namespace","value":"${t}","isRegex":false}],"Matchers":[{"name":"namespace","value":"${other(t)}","isRegex":false}],"startsAt":"${new Date().toISOString()}","endsAt":"${endsAt}","createdBy":"t","comment":"t"}`;
      const sm = await post('/api/v2/silences', auth, smuggled, { 'content-type': 'application/json' });
      assert.equal(sm.status, 200, sm.body);
      // Updating a silence by id: the own one is allowed (ownership read from Alertmanager first);
      // the other tenant's is answered like a missing one.
      assert.equal((await post('/api/v2/silences', auth, silence(t, { id: JSON.parse(ok.body).silenceID, comment: 'updated' }), { 'content-type': 'application/json' })).status, 200);
      const others = (await (await fetch(`${am.url}/api/v2/silences?filter=${q(`namespace="${other(t)}"`)}`)).json()) as { id: string }[];
      for (const s of others) {
        assert.equal((await post('/api/v2/silences', auth, silence(t, { id: s.id }), { 'content-type': 'application/json' })).status, 404);
      }
    }
    for (const [t, auth] of TENANTS) {
      const r = await get('/api/v2/silences', auth);
      assert.equal(r.status, 200, r.body);
      const list = JSON.parse(r.body) as { matchers: { value: string }[] }[];
      assert.ok(list.length >= 2 && list.every((s) => s.matchers.every((m) => m.value === t)), r.body);
    }
  });

  test('status endpoints are refused; a silence that does not exist is not found', async () => {
    for (const path of ['/api/v2/status', '/api/v2/receivers']) {
      assert.equal((await get(path, A)).status, 403, path);
    }
    assert.equal((await get('/api/v2/silence/00000000-0000-0000-0000-000000000000', A)).status, 404);
    assert.equal((await get('/api/v2/silence/not-an-id', A)).status, 403);
  });
});

describe('attack suite (enforce: promql)', () => {
  const instant = async (auth: string, query: string) => {
    const r = await get(`/api/v1/query?query=${q(query)}`, auth);
    return r;
  };

  const attacks: Array<[string, string]> = [
    ['regex matching every namespace', '{namespace=~".*"}'],
    ['empty namespace', 'secret_team_b{namespace=""}'],
    ['quoted label name', '{"namespace"="team-b"}'],
    ['__name__ regex', '{__name__=~"secret_.*"}'],
    ['__name__ with other namespace', '{__name__="secret_team_b", namespace="team-b"}'],
    ['or across selectors', 'up or secret_team_b'],
    ['unless across selectors', 'secret_team_b unless up'],
    ['aggregation parameter', 'count_values("v", secret_team_b) or topk(scalar(count(secret_team_b)), up)'],
    ['function argument', 'vector(scalar(count(secret_team_b)))'],
    ['subquery', 'max_over_time(secret_team_b[5m:1s])'],
    ['negative matcher', 'secret_team_b{namespace!="team-a"}'],
    ['offset and at', 'secret_team_b offset 1s or secret_team_b @ end()'],
  ];
  for (const [name, query] of attacks) {
    test(name, async () => {
      const r = await instant(A, query);
      // 422: Prometheus refusing the enforced query (e.g. topk with a NaN k), which is fine.
      assert.ok(r.status === 200 || r.status === 400 || r.status === 422, `${r.status} ${r.body}`);
      assertNothingOf('team-b', r.body, name);
      if (r.status === 200) {
        const values = JSON.parse(r.body).data.result.map((x: { value: [number, string] }) => x.value[1]);
        // count() of team-b's single secret series would be 1.
        if (name === 'function argument') assert.deepEqual(values, ['NaN']);
      }
    });
  }

  test('unparsable queries are refused with 400, never forwarded', async () => {
    for (const query of ['secret_team_b{', 'sum(', 'secret_team_b # {namespace="team-a"}\n{', 'rate(x[5m]', '"unterminated']) {
      const r = await instant(A, query);
      assert.ok(r.status === 400 || (r.status === 200 && !r.body.includes('team-b')), `${query}: ${r.status} ${r.body}`);
    }
    const bad = await instant(A, 'secret_team_b{');
    assert.equal(bad.status, 400);
  });

  test('duplicate query args are refused (URL twice, URL and body)', async () => {
    assert.equal((await get(`/api/v1/query?query=up&query=${q('secret_team_b')}`, A)).status, 400);
    const r = await post(`/api/v1/query?query=up`, A, `query=${q('secret_team_b')}`, { 'content-type': 'application/x-www-form-urlencoded' });
    assert.equal(r.status, 400, r.body);
  });

  test('series and labels without match[] are scoped', async () => {
    for (const path of ['/api/v1/series', '/api/v1/labels', '/api/v1/label/__name__/values', '/api/v1/label/only_team_b/values']) {
      const r = await get(path, A);
      assert.equal(r.status, 200);
      assertNothingOf('team-b', r.body, path);
    }
  });

  test('match[] smuggling in URL and body', async () => {
    const r = await post(`/api/v1/series?match[]=${q('{namespace="team-b"}')}`, A, `match[]=${q('secret_team_b')}`, { 'content-type': 'application/x-www-form-urlencoded' });
    assert.equal(r.status, 200, r.body);
    assertNothingOf('team-b', r.body, 'series');
  });

  test('spoofed tenant headers change nothing', async () => {
    const r = await get(`/api/v1/query?query=${q('secret_team_b')}`, A, { 'X-Scope-OrgID': 'team-b', AccountID: '2', 'THANOS-TENANT': 'team-b' });
    assertNothingOf('team-b', r.body, 'spoofed headers');
  });

  test('endpoints Prometheus cannot scope are refused', async () => {
    // (Build info, format_query and metadata are answered: test/integration/grafana-datasource.test.ts.)
    for (const path of ['/api/v1/targets', '/api/v1/targets/metadata', '/api/v1/status/config', '/api/v1/status/tsdb', '/api/v1/status/flags',
      '/api/v1/status/runtimeinfo', '/classic/graph', '/classic/targets', '/graph', '/targets', '/api/v1/admin/tsdb/snapshot', '/api/v1/admin/tsdb/delete_series?match[]=up',
      '/-/quit', '/debug/pprof/heap', '/api/v1/alertmanagers']) {
      const r = await get(path, A);
      assert.equal(r.status, 403, `${path}: ${r.status} ${r.body.slice(0, 200)}`);
    }
  });

  test('path tricks cannot reach refused endpoints', async () => {
    for (const path of ['//api/v1/targets', '/api/v1/query/../targets', '/api/v1/%2e%2e/v1/status/config', '/api/v1/targets/', '/api/v1/./status/config', '/prometheus/../api/v1/targets']) {
      assert.equal((await get(path, A)).status, 403, path);
    }
  });

  test('remote write carrying the other tenant\'s label is stored under the writer', async () => {
    const body = encodeWriteRequest({ timeseries: [{ labels: [['__name__', 'rw_attack'], ['namespace', 'team-b'], ['namespace', 'team-b']], samples: [{ value: 1, timestamp: Date.now() }] }] });
    const r = await post('/api/v1/write', A, snappyCompress(body), { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' });
    assert.equal(r.status, 204, r.body);
    const s = await prom.waitFor('rw_attack', (x) => x.length > 0, 5000);
    assert.deepEqual(s.map((x) => x.metric['namespace']), ['team-a']);
  });

  test('a snappy length bomb is refused before decompression', async () => {
    // Preamble varint claiming 2^31 bytes, then a few literal bytes.
    const bomb = Uint8Array.from([0x80, 0x80, 0x80, 0x80, 0x08, 0x00, 0x61]);
    const r = await post('/api/v1/write', A, bomb, { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' });
    assert.equal(r.status, 413, r.body);
  });

  test('denials are counted by reason', async () => {
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    for (const reason of ['tenant_path_not_allowed', 'tenant_admin_path', 'tenant_query_invalid', 'tenant_duplicate_param', 'tenant_silence_not_owned', 'tenant_bound_write_decoded', 'tenant_multi_value_write']) {
      assert.ok(deniedTotal(text, reason) > 0, reason);
    }
  });
});
