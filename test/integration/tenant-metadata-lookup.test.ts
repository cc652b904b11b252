// /api/v1/metadata under `tenant:`: the forwarder asks the same backend for the tenant's metric
// names (with the route's headers and path prefix, the tenant's match[] and never a client's),
// then keeps only those families. When that lookup fails or answers something unexpected, the
// request fails closed: 502 and nothing of the metadata.
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { startEchoBackend, type EchoBackend } from '../helpers/echo-backend.ts';
import { basic, startGateway, type Gateway } from '../helpers/gateway.ts';
import { tenantGet } from '../helpers/tenant-http.ts';

const META = { status: 'success', data: { mine_total: [{ type: 'counter', help: 'mine', unit: '' }], secret_other: [{ type: 'gauge', help: 'not yours', unit: '' }] } };
let backend: EchoBackend;
let gw: Gateway;
let names: { status: number; body: string };
const A = basic('meta-a', 'meta-a-secret');
const VM = basic('meta-vm', 'meta-vm-secret');

before(async () => {
  backend = await startEchoBackend('meta');
  backend.respond((r, res) => {
    if (r.url.includes('/api/v1/metadata')) { res.writeHead(200, { 'content-type': 'application/json' }); res.end(JSON.stringify(META)); return; }
    if (r.url.includes('/api/v1/label/__name__/values')) { res.writeHead(names.status, { 'content-type': 'application/json' }); res.end(names.body); return; }
    res.writeHead(404).end();
  });
  gw = await startGateway(`users:
- username: meta-a
  password: meta-a-secret
  tenant: {labels: {namespace: team-a}}
  url_map:
  - src_paths: ["/prom/.*"]
    drop_src_path_prefix_parts: 1
    url_prefix: "${backend.url}/mimir/prometheus"
    headers: ["X-Scope-OrgID: team-a"]
- username: meta-vm
  password: meta-vm-secret
  url_prefix: "${backend.url}/"
  tenant: {enforce: victoriametrics, labels: {namespace: team-a}}
`);
});
after(async () => { await gw?.stop(); await backend?.close(); });
beforeEach(() => {
  backend.received.length = 0;
  names = { status: 200, body: JSON.stringify({ status: 'success', data: ['mine_total', 'up'] }) };
});

test('promql: the lookup uses the route\'s prefix and headers and the tenant\'s match[], never the client\'s', async () => {
  const r = await tenantGet(gw.url, `/prom/api/v1/metadata?limit=10&match[]=${encodeURIComponent('{__name__=~".+"}')}`, A);
  assert.equal(r.status, 200, r.body);
  assert.deepEqual(JSON.parse(r.body), { status: 'success', data: { mine_total: META.data.mine_total } });
  const lookup = backend.received.find((x) => x.url.includes('/label/__name__/values'));
  assert.ok(lookup, JSON.stringify(backend.received.map((x) => x.url)));
  const u = new URL(lookup.url, 'http://x');
  assert.equal(u.pathname, '/mimir/prometheus/api/v1/label/__name__/values');
  assert.deepEqual(u.searchParams.getAll('match[]'), ['{namespace="team-a"}']);
  assert.equal(lookup.headers['x-scope-orgid'], 'team-a');
  const meta = backend.received.find((x) => x.url.includes('/api/v1/metadata'));
  assert.ok(meta !== undefined && !meta.url.includes('match'), meta?.url);
});

test('victoriametrics: the lookup carries the tenant args', async () => {
  const r = await tenantGet(gw.url, '/api/v1/metadata', VM);
  assert.equal(r.status, 200, r.body);
  assert.ok(!r.body.includes('secret_other'));
  const lookup = backend.received.find((x) => x.url.includes('/label/__name__/values'));
  const u = new URL(lookup!.url, 'http://x');
  assert.deepEqual(u.searchParams.getAll('extra_label'), ['namespace=team-a']);
  assert.deepEqual(u.searchParams.getAll('match[]'), ['{__name__=~".+"}']);
});

for (const [what, status, body] of [
  ['fails', 500, 'boom'],
  ['answers an error', 200, JSON.stringify({ status: 'error', error: 'x' })],
  ['answers something else', 200, JSON.stringify({ status: 'success', data: { not: 'a list' } })],
  ['is not JSON', 200, '<html>'],
] as const) {
  test(`a lookup that ${what} fails the request closed`, async () => {
    names = { status, body };
    for (const auth of [A, VM]) {
      const r = await tenantGet(gw.url, auth === A ? '/prom/api/v1/metadata' : '/api/v1/metadata', auth);
      assert.equal(r.status, 502, r.body);
      assert.ok(!r.body.includes('secret_other') && !r.body.includes('mine_total'), r.body);
    }
  });
}
