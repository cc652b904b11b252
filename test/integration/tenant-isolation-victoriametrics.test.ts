// Two tenants behind tenantgate in front of a real VictoriaMetrics single-node, isolated the
// vmauth way (`url_prefix: …?extra_label=tenant=<name>`): each writes and reads its own data
// and never sees the other's, whatever query args it adds.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { basic, startGateway, type Gateway } from '../helpers/gateway.ts';
import { startVictoriaMetrics, type VictoriaMetrics } from '../helpers/victoria-metrics.ts';

let vm: VictoriaMetrics;
let gw: Gateway;
const A = basic('team-a', 'pass-a');
const B = basic('team-b', 'pass-b');

async function get(path: string, auth: string): Promise<{ status: number; body: string }> {
  const res = await fetch(gw.url + path, { headers: { authorization: auth } });
  return { status: res.status, body: await res.text() };
}

async function seriesNames(path: string, auth: string): Promise<string[]> {
  const r = await get(path, auth);
  assert.equal(r.status, 200, r.body);
  const data = JSON.parse(r.body).data as { metric?: Record<string, string>; __name__?: string }[] | { result: { metric: Record<string, string> }[] };
  const rows = Array.isArray(data) ? data.map((d) => ('metric' in d && d.metric ? d.metric : d) as Record<string, string>) : data.result.map((r) => r.metric);
  return rows.map((m) => `${m['__name__'] ?? ''}{tenant=${m['tenant'] ?? ''}}`).sort();
}

before(async () => {
  vm = await startVictoriaMetrics();
  gw = await startGateway(`
users:
- username: team-a
  password: pass-a
  url_prefix: "${vm.url}/?extra_label=tenant=a"
- username: team-b
  password: pass-b
  url_prefix: "${vm.url}/?extra_label=tenant=b"
`);
  const ts = Date.now() - 60_000;
  // Each tenant writes through the gateway; extra_label on the write path stamps the tenant.
  for (const [auth, metric] of [[A, 'secret_a'], [B, 'secret_b']] as const) {
    const res = await fetch(`${gw.url}/api/v1/import/prometheus`, {
      method: 'POST', headers: { authorization: auth },
      body: `${metric}{job="x"} 1 ${ts}\nshared_metric{job="x"} 2 ${ts}\n`,
    });
    assert.equal(res.status, 204, await res.text());
  }
  await vm.waitForSeries('shared_metric', 2);
});

after(async () => {
  await gw?.stop();
  await vm?.stop();
});

describe('two tenants on one VictoriaMetrics', () => {
  test('each tenant reads back exactly its own series', async () => {
    assert.deepEqual(await seriesNames('/api/v1/series?match[]={job="x"}', A), ['secret_a{tenant=a}', 'shared_metric{tenant=a}']);
    assert.deepEqual(await seriesNames('/api/v1/series?match[]={job="x"}', B), ['secret_b{tenant=b}', 'shared_metric{tenant=b}']);
  });

  test('instant query of the shared metric returns only the caller\'s value', async () => {
    const r = await get('/api/v1/query?query=shared_metric', A);
    const result = JSON.parse(r.body).data.result as { metric: Record<string, string> }[];
    assert.deepEqual(result.map((x) => x.metric['tenant']), ['a']);
  });

  test('a client-supplied extra_label cannot switch tenant', async () => {
    assert.deepEqual(await seriesNames('/api/v1/series?match[]={job="x"}&extra_label=tenant=b', A), ['secret_a{tenant=a}', 'shared_metric{tenant=a}']);
  });

  test('client extra_filters and extra_filters[] cannot widen access', async () => {
    for (const arg of ['extra_filters[]={tenant="b"}', 'extra_filters={tenant="b"}', 'extra_filters[]={__name__=~".+"}']) {
      const names = await seriesNames(`/api/v1/series?match[]={job="x"}&${encodeURI(arg)}`, A);
      assert.ok(names.every((n) => n.endsWith('{tenant=a}')), `${arg} leaked: ${names.join(', ')}`);
    }
  });

  test('queries naming the other tenant find nothing', async () => {
    const r = await get(`/api/v1/query?query=${encodeURIComponent('secret_b or {tenant="b"}')}`, A);
    assert.equal(JSON.parse(r.body).data.result.length, 0);
  });

  test('a POST form cannot override the tenant either', async () => {
    const res = await fetch(`${gw.url}/api/v1/query`, {
      method: 'POST', headers: { authorization: A, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'query=secret_b&extra_label=tenant=b',
    });
    const body = await res.json() as { data: { result: unknown[] } };
    assert.equal(body.data.result.length, 0);
  });

  test('wrong password and missing credentials are refused', async () => {
    assert.equal((await get('/api/v1/query?query=up', basic('team-a', 'wrong'))).status, 401);
    const res = await fetch(`${gw.url}/api/v1/query?query=up`);
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), 'Basic realm="Restricted"');
  });
});
