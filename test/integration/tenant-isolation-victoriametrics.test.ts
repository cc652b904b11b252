// Two tenants behind tenantgate in front of a real VictoriaMetrics single-node, run once per
// config style: `tenant:` sections, and the vmauth style (`url_prefix: …?extra_label=tenant=<x>`)
// under tenantgate's secure defaults. In both, each tenant writes and reads its own data, no read
// API answers with anything of the other tenant (0 leaks), and every endpoint that ignores
// extra_label plus every admin/debug path is refused. A third run with -tenantDefaults=vmauth
// measures what exact vmauth behaviour exposes, so the documented risk of that switch is real.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { basic, startGateway, type Gateway } from '../helpers/gateway.ts';
import { startVictoriaMetrics, type VictoriaMetrics } from '../helpers/victoria-metrics.ts';

const A = basic('team-a', 'pass-a');
const B = basic('team-b', 'pass-b');

interface Style {
  readonly name: string;
  readonly flags: readonly string[];
  readonly user: (vmUrl: string, tenant: 'a' | 'b') => string;
}

const STYLES: readonly Style[] = [
  { name: 'tenant: sections', flags: [], user: (u, t) => `  url_prefix: "${u}/"\n  tenant: {enforce: victoriametrics, labels: {tenant: ${t}}}` },
  { name: 'vmauth style (?extra_label=), secure defaults', flags: [], user: (u, t) => `  url_prefix: "${u}/?extra_label=tenant=${t}"` },
];

const now = () => Math.floor(Date.now() / 1000);

/** Read APIs a tenant uses; each answer must hold nothing of the other tenant (or be refused). */
const READS = (): string[] => [
  '/api/v1/series?match[]={job="x"}',
  '/api/v1/series?match[]={__name__=~".+"}',
  '/api/v1/query?query={job="x"}',
  '/api/v1/query?query=secret_b',
  `/api/v1/query?query=${encodeURIComponent('{tenant="b"} or {tenant!="a"}')}`,
  `/api/v1/query_range?query={job="x"}&start=${now() - 600}&end=${now()}&step=30`,
  '/api/v1/labels',
  '/api/v1/label/__name__/values',
  '/api/v1/label/tenant/values',
  '/api/v1/export?match[]={job="x"}',
  '/api/v1/export/csv?format=__name__,tenant,__value__&match[]={job="x"}',
  '/federate?match[]={job="x"}',
  '/api/v1/status/tsdb',
  '/api/v1/status/tsdb?match[]={job="x"}',
  '/prometheus/api/v1/series?match[]={job="x"}',
  '/render?target=*&format=json',
  '/tags/autoComplete/tags',
  '/tags/autoComplete/values?tag=tenant',
  '/tags/findSeries?expr=tenant=b',
  '/api/v1/query_exemplars?query=secret_b',
  // Scoped to the tenant's metric families under tenant:, refused for the vmauth style.
  '/api/v1/metadata',
  // Client-side attempts to widen the scope.
  '/api/v1/series?match[]={job="x"}&extra_label=tenant=b',
  `/api/v1/series?match[]={job="x"}&${encodeURI('extra_filters[]={tenant="b"}')}`,
  `/api/v1/series?match[]={job="x"}&${encodeURI('extra_filters={tenant=~".*"}')}`,
];

/** Endpoints VictoriaMetrics does not scope by extra_label, and admin/debug/snapshot paths: refused in both styles. */
const REFUSED = [
  '/api/v1/status/top_queries', '/api/v1/status/active_queries', '/api/v1/series/count',
  '/metrics/find?query=*', '/metrics/expand?query=*', '/metrics/index.json', '/tags', '/tags/tenant', '/graphite/metrics/find?query=*',
  '/api/v1/targets', '/targets', '/config', '/api/v1/status/config', '/prometheus/api/v1/status/top_queries',
  '/snapshot/create', '/snapshot/list', '/internal/force_merge', '/internal/force_flush', '/internal/resetRollupResultCache',
  '/debug/pprof/heap', '/api/v1/admin/tsdb/delete_series?match[]={tenant="b"}', '/api/v1/admin/tsdb/snapshot', '/tags/delSeries?path=secret_b',
  '/api/v1/status/metric_names_stats',
  // Path tricks reach the same endpoints.
  '//api/v1/status/top_queries', '/api/v1/query/../status/top_queries', '/api/v1/%2e%2e/v1/status/active_queries', '/api/v1/targets/',
];

/** Anything of tenant b in a response: its metric, its label value, or its query text. */
const LEAK = /secret_b|tenant\W{1,6}b\b/;

async function get(gw: Gateway, path: string, auth: string): Promise<{ status: number; body: string }> {
  const res = await fetch(gw.url + path, { headers: { authorization: auth }, signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: await res.text() };
}

async function seriesNames(gw: Gateway, path: string, auth: string): Promise<string[]> {
  const r = await get(gw, path, auth);
  assert.equal(r.status, 200, r.body);
  const data = JSON.parse(r.body).data as Record<string, string>[];
  return data.map((m) => `${m['__name__'] ?? ''}{tenant=${m['tenant'] ?? ''}}`).sort();
}

async function twoTenants(vm: VictoriaMetrics, style: Style, extraFlags: readonly string[] = []): Promise<Gateway> {
  const gw = await startGateway(`
users:
- username: team-a
  password: pass-a
${style.user(vm.url, 'a')}
- username: team-b
  password: pass-b
${style.user(vm.url, 'b')}
`, { flags: [...style.flags, ...extraFlags] });
  return gw;
}

let vm: VictoriaMetrics;

before(async () => {
  vm = await startVictoriaMetrics();
  const ts = Date.now() - 60_000;
  // Written straight to VictoriaMetrics, so both styles read the same data.
  const res = await fetch(`${vm.url}/api/v1/import/prometheus`, {
    method: 'POST',
    body: `secret_a{job="x",tenant="a"} 1 ${ts}\nshared_metric{job="x",tenant="a"} 2 ${ts}\nsecret_b{job="x",tenant="b"} 3 ${ts}\nshared_metric{job="x",tenant="b"} 4 ${ts}\n`,
  });
  assert.equal(res.status, 204);
  await vm.waitForSeries('shared_metric', 2);
});

after(async () => { await vm?.stop(); });

for (const style of STYLES) {
  describe(style.name, () => {
    let gw: Gateway;
    before(async () => {
      gw = await twoTenants(vm, style);
      // Tenant b queries its own data, so query statistics hold its query text.
      for (let i = 0; i < 3; i++) assert.equal((await get(gw, '/api/v1/query?query=secret_b', B)).status, 200);
    });
    after(async () => { await gw?.stop(); });

    test('each tenant writes through the gateway and the write lands in its own tenant', async () => {
      const ts = Date.now() - 30_000;
      for (const [auth, own, other] of [[A, 'a', 'b'], [B, 'b', 'a']] as const) {
        const metric = `written_${style.flags.length}_${style.name.length}_${own}`;
        const r = await fetch(`${gw.url}/api/v1/import/prometheus?extra_label=tenant=${other}`, { method: 'POST', headers: { authorization: auth }, body: `${metric}{job="w",tenant="${other}"} 1 ${ts}\n` });
        assert.equal(r.status, 204, await r.text());
        await vm.waitForSeries(metric, 1);
        const direct = await (await fetch(`${vm.url}/api/v1/series?match[]=${metric}`)).json() as { data: Record<string, string>[] };
        assert.deepEqual(direct.data.map((m) => m['tenant']), [own]);
      }
    });

    test('each tenant reads back exactly its own series', async () => {
      assert.deepEqual(await seriesNames(gw, '/api/v1/series?match[]={job="x"}', A), ['secret_a{tenant=a}', 'shared_metric{tenant=a}']);
      assert.deepEqual(await seriesNames(gw, '/api/v1/series?match[]={job="x"}', B), ['secret_b{tenant=b}', 'shared_metric{tenant=b}']);
    });

    test('0 leaks on every read API, whatever the client adds', async () => {
      const leaks: string[] = [];
      for (const path of READS()) {
        const r = await get(gw, path, A);
        assert.ok(r.status === 200 || r.status === 403 || r.status === 400, `${path}: ${r.status} ${r.body}`);
        if (LEAK.test(r.body)) leaks.push(`${path} -> ${r.status} ${r.body.slice(0, 200)}`);
      }
      assert.deepEqual(leaks, []);
    });

    test('a POST form cannot override the tenant either', async () => {
      const res = await fetch(`${gw.url}/api/v1/query`, {
        method: 'POST', headers: { authorization: A, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'query=secret_b&extra_label=tenant=b',
      });
      const text = await res.text();
      assert.ok(!LEAK.test(text), text);
    });

    test('every unscoped endpoint and admin/debug path is refused with 403', async () => {
      const notRefused: string[] = [];
      for (const path of REFUSED) {
        const r = await get(gw, path, A);
        if (r.status !== 403) notRefused.push(`${path} -> ${r.status}`);
        assert.ok(!LEAK.test(r.body), `${path}: ${r.body.slice(0, 200)}`);
      }
      assert.deepEqual(notRefused, []);
      // And the snapshot / delete attempts changed nothing at the backend.
      const direct = await (await fetch(`${vm.url}/api/v1/series?match[]=secret_b`)).json() as { data: unknown[] };
      assert.equal(direct.data.length, 1);
    });

    test('refusals are counted by reason', async () => {
      const text = await (await fetch(`${gw.url}/metrics`)).text();
      const denied = text.split('\n').filter((l) => l.startsWith('tenantgate_requests_denied_total{') && / [1-9]\d*$/.test(l));
      assert.ok(denied.length > 0, text);
      if (style.name.startsWith('vmauth')) {
        assert.ok(denied.some((l) => l.includes('reason="tenant_unscoped_endpoint"')), denied.join('\n'));
        assert.ok(denied.some((l) => l.includes('reason="tenant_admin_endpoint"')), denied.join('\n'));
        // Logged: who is tenant-scoped (at start-up) and each refusal with user and reason.
        const log = gw.proc.output();
        assert.match(log, /user team-a \(url_prefix\) is tenant-scoped by extra_label=tenant=a: refused \(403\)/);
        assert.match(log, /refused "\/api\/v1\/status\/top_queries" for user team-a: tenant_unscoped_endpoint/);
      }
    });

    test('wrong password and missing credentials are refused', async () => {
      assert.equal((await get(gw, '/api/v1/query?query=up', basic('team-a', 'wrong'))).status, 401);
      const res = await fetch(`${gw.url}/api/v1/query?query=up`);
      assert.equal(res.status, 401);
      assert.equal(res.headers.get('www-authenticate'), 'Basic realm="Restricted"');
    });
  });
}

describe('vmauth style with -tenantDefaults=vmauth (exact vmauth behaviour)', () => {
  test('the unscoped endpoints answer with the other tenant\'s data: the risk the switch brings back', async (t) => {
    const gw = await twoTenants(vm, STYLES[1]!, ['-tenantDefaults=vmauth']);
    try {
      for (let i = 0; i < 3; i++) await get(gw, '/api/v1/query?query=secret_b', B);
      const leaked: string[] = [];
      for (const path of [...READS(), ...REFUSED.filter((p) => !/delete_series|snapshot\/create|delSeries|force_merge|resetRollup/.test(p))]) {
        const r = await get(gw, path, A);
        if (LEAK.test(r.body)) leaked.push(path);
      }
      t.diagnostic(`leaking paths with -tenantDefaults=vmauth: ${leaked.length}: ${leaked.join(' ')}`);
      // Metric names via Graphite find are listed for every tenant. (Query text in top_queries
      // leaks too once queries are slow enough to be recorded; these test queries are not.)
      assert.ok(leaked.includes('/metrics/find?query=*'), leaked.join(' '));
      assert.ok(leaked.includes('/metrics/index.json'), leaked.join(' '));
      // The scoped read APIs stay scoped: extra_label still works where VictoriaMetrics honours it.
      assert.ok(!leaked.includes('/api/v1/series?match[]={job="x"}'));
    } finally {
      await gw.stop();
    }
  });
});
