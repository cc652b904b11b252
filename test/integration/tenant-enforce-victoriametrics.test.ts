// Two tenants behind tenantgate with `tenant: {enforce: victoriametrics}` in front of a real
// VictoriaMetrics single-node: each writes through the gateway and reads back only its own
// data; the endpoints that leak across tenants behind vmauth's extra_label are refused, and the
// attack suite (client extra_* args in URL and bodies, path tricks, spoofed headers) fails.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { basic, startGateway, type Gateway } from '../helpers/gateway.ts';
import { startVictoriaMetrics, type VictoriaMetrics } from '../helpers/victoria-metrics.ts';
import { tenantGet, tenantPost, deniedTotal } from '../helpers/tenant-http.ts';

let vm: VictoriaMetrics;
let gw: Gateway;
const A = basic('team-a', 'pass-a');
const B = basic('team-b', 'pass-b');
const RO = basic('reader-a', 'pass-r');

const get = (path: string, auth: string, headers: Record<string, string> = {}) => tenantGet(gw.url, path, auth, headers);
const post = (path: string, auth: string, body: string | Uint8Array | FormData, headers: Record<string, string> = {}) => tenantPost(gw.url, path, auth, body, headers);

/** Every `namespace` value in a JSON response (series, query results, export lines). */
function namespacesIn(text: string): string[] {
  return [...new Set([...text.matchAll(/"namespace":"([^"]*)"/g)].map((m) => m[1]!))].sort();
}

before(async () => {
  vm = await startVictoriaMetrics();
  gw = await startGateway(`
users:
- username: team-a
  password: pass-a
  url_prefix: "${vm.url}/"
  tenant: {enforce: victoriametrics, labels: {namespace: team-a}}
- username: team-b
  password: pass-b
  url_prefix: "${vm.url}/"
  tenant: {enforce: victoriametrics, labels: {namespace: team-b}}
- username: reader-a
  password: pass-r
  url_prefix: "${vm.url}/"
  tenant: {enforce: victoriametrics, labels: {namespace: team-a}, mode: read, allow_paths: ["/api/v1/status/active_queries"]}
`);
  const ts = Date.now() - 60_000;
  for (const [auth, own] of [[A, 'a'], [B, 'b']] as const) {
    // The client claims the other tenant's namespace; extra_label must override it.
    const other = own === 'a' ? 'team-b' : 'team-a';
    const r = await post('/api/v1/import/prometheus', auth, `secret_${own}{job="x",namespace="${other}"} 1 ${ts}\nshared_metric{job="x"} 2 ${ts}\n`);
    assert.equal(r.status, 204, r.body);
  }
  await vm.waitForSeries('shared_metric', 2);
});

after(async () => {
  await gw?.stop();
  await vm?.stop();
});

describe('each tenant reads all of its own data and none of the other', () => {
  const reads = [
    '/api/v1/series?match[]={job="x"}',
    '/api/v1/query?query={job="x"}',
    '/api/v1/query_range?query={job="x"}&start=-5m&step=30s',
    '/api/v1/export?match[]={job="x"}',
    '/federate?match[]={job="x"}',
    '/prometheus/api/v1/series?match[]={job="x"}',
  ];
  for (const path of reads) {
    test(`${path}`, async () => {
      for (const [auth, own] of [[A, 'team-a'], [B, 'team-b']] as const) {
        const r = await get(path, auth);
        assert.equal(r.status, 200, r.body);
        if (path.startsWith('/federate')) {
          assert.ok(r.body.includes(`namespace="${own}"`) && !r.body.includes(`namespace="team-${own === 'team-a' ? 'b' : 'a'}"`), r.body);
        } else {
          assert.deepEqual(namespacesIn(r.body), [own], r.body);
        }
      }
    });
  }

  test('label names and values: only the caller\'s', async () => {
    const v = await get('/api/v1/label/namespace/values', A);
    assert.deepEqual(JSON.parse(v.body).data, ['team-a']);
    const n = await get('/api/v1/label/__name__/values', A);
    assert.deepEqual(JSON.parse(n.body).data, ['secret_a', 'shared_metric']);
    const names = await get('/api/v1/labels', B);
    assert.ok(JSON.parse(names.body).data.includes('namespace'));
    assert.deepEqual(JSON.parse((await get('/api/v1/label/__name__/values', B)).body).data, ['secret_b', 'shared_metric']);
  });

  test('writes are stamped with the writer\'s namespace, whatever the client labelled', async () => {
    const r = await fetch(`${vm.url}/api/v1/series?match[]={__name__=~"secret_.*"}`);
    const data = (await r.json() as { data: Record<string, string>[] }).data.map((m) => `${m['__name__']}/${m['namespace']}`).sort();
    assert.deepEqual(data, ['secret_a/team-a', 'secret_b/team-b']);
  });
});

describe('attack suite (enforce: victoriametrics)', () => {
  test('client extra_filters / extra_filters[] / extra_label in the URL are stripped', async () => {
    for (const arg of ['extra_filters[]={namespace="team-b"}', 'extra_filters={namespace=~".*"}', 'extra_label=namespace=team-b', 'extra_filters[]={__name__=~".+"}']) {
      const r = await get(`/api/v1/series?match[]={job="x"}&${arg}`, A);
      assert.equal(r.status, 200, r.body);
      assert.deepEqual(namespacesIn(r.body), ['team-a'], `${arg}: ${r.body}`);
    }
  });

  test('client extra_* args in a urlencoded POST body are stripped', async () => {
    const body = 'match[]={job="x"}&extra_filters[]={namespace="team-b"}&extra_filters={}&extra_label=namespace=team-b';
    const r = await post('/api/v1/series', A, body, { 'content-type': 'application/x-www-form-urlencoded' });
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(namespacesIn(r.body), ['team-a']);
  });

  test('multipart bodies are refused (Go would read form fields from them)', async () => {
    const fd = new FormData();
    fd.append('query', 'secret_b');
    fd.append('extra_filters[]', '{namespace="team-b"}');
    const r = await post('/api/v1/query', A, fd);
    assert.equal(r.status, 415, r.body);
  });

  test('queries naming the other tenant find nothing', async () => {
    for (const q of ['secret_b', '{namespace="team-b"}', 'secret_b or {namespace=~".*"}', '{namespace=""}', 'sum(shared_metric) by (namespace)']) {
      const r = await get(`/api/v1/query?query=${encodeURIComponent(q)}`, A);
      assert.equal(r.status, 200, r.body);
      assert.ok(!r.body.includes('team-b') && !r.body.includes('secret_b'), `${q}: ${r.body}`);
    }
  });

  test('endpoints that leak across tenants behind extra_label are refused', async () => {
    const leaky = [
      '/api/v1/targets', '/api/v1/status/config', '/api/v1/status/top_queries', '/api/v1/status/active_queries', '/api/v1/series/count',
      '/metrics/find?query=*', '/metrics/expand?query=*', '/metrics/index.json', '/tags', '/tags/namespace',
      '/graphite/metrics/find?query=*', '/graphite/tags', '/graphite/tags/namespace',
      '/targets', '/config', '/service-discovery',
      '/api/v1/admin/tsdb/delete_series?match[]={namespace="team-b"}', '/api/v1/admin/tsdb/snapshot', '/snapshot/create',
      '/debug/pprof/heap', '/internal/force_merge', '/internal/force_flush', '/internal/resetRollupResultCache', '/vmui/', '/api/v1/status/tsdb/x',
    ];
    for (const path of leaky) {
      const r = await get(path, A);
      assert.equal(r.status, 403, `${path}: ${r.status} ${r.body}`);
    }
  });

  test('path tricks cannot reach refused endpoints', async () => {
    for (const path of ['//api/v1/status/top_queries', '/api/v1/query/../status/top_queries', '/api/v1/%2e%2e/v1/status/config', '/api/v1/targets/', '/api/v1/./admin/tsdb/snapshot', '/prometheus/api/v1/status/tsdb/../top_queries']) {
      const r = await get(path, A);
      assert.equal(r.status, 403, `${path}: ${r.status} ${r.body}`);
    }
  });

  test('a client-chosen cluster tenant path is refused', async () => {
    for (const path of ['/select/1/prometheus/api/v1/query?query=up', '/select/multitenant/prometheus/api/v1/query?query=up', '/insert/0/prometheus/api/v1/import/prometheus', '/delete/0/prometheus/api/v1/admin/tsdb/delete_series']) {
      const r = await get(path, A);
      assert.equal(r.status, 403, `${path}: ${r.body}`);
    }
  });

  test('spoofed tenant headers do not change what is read', async () => {
    const r = await get('/api/v1/series?match[]={job="x"}', A, { AccountID: '1', 'X-Scope-OrgID': 'team-b' });
    assert.deepEqual(namespacesIn(r.body), ['team-a']);
  });

  test('a write with a form body is refused (vminsert could read extra_label from it)', async () => {
    const r = await post('/api/v1/import/prometheus', A, 'extra_label=namespace=team-b', { 'content-type': 'application/x-www-form-urlencoded' });
    assert.equal(r.status, 415, r.body);
  });

  test('a Pushgateway-style path cannot add labels', async () => {
    const r = await post('/api/v1/import/prometheus/metrics/job/x/namespace/team-b', A, 'pushed 1\n');
    assert.equal(r.status, 403, r.body);
  });
});

describe('mode and allow_paths', () => {
  test('a read-only tenant cannot write', async () => {
    const r = await post('/api/v1/import/prometheus', RO, 'x 1\n');
    assert.equal(r.status, 403);
    assert.match(r.body, /only read/);
  });

  test('a read-only tenant reads its own data', async () => {
    const r = await get('/api/v1/series?match[]={job="x"}', RO);
    assert.deepEqual(namespacesIn(r.body), ['team-a']);
  });

  test('allow_paths opens exactly the listed path', async () => {
    assert.equal((await get('/api/v1/status/active_queries', RO)).status, 200);
    assert.equal((await get('/api/v1/status/active_queries', A)).status, 403);
  });

  test('denials are counted by reason', async () => {
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    assert.ok(deniedTotal(text, 'tenant_path_not_allowed') > 0, text.split('\n').filter((l) => l.includes('reason')).join('\n'));
    assert.ok(deniedTotal(text, 'tenant_admin_path') > 0);
    assert.ok(deniedTotal(text, 'tenant_mode_forbids_write') > 0);
  });
});
