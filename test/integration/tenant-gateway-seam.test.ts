// How the gateway applies tenant policies: the path after drop_src_path_prefix_parts is what is
// classified, a route's own headers survive the policy's removal of client copies, and a backend
// answer that cannot be filtered fails closed without taking the backend out of rotation.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { basic, startGateway, type Gateway } from '../helpers/gateway.ts';
import { startEchoBackend, type EchoBackend } from '../helpers/echo-backend.ts';

let prom: EchoBackend;
let spare: EchoBackend;
let gw: Gateway;
const A = basic('team-a', 'Team-A-Secret');

before(async () => {
  [prom, spare] = await Promise.all([startEchoBackend('prom'), startEchoBackend('spare')]);
  for (const b of [prom, spare]) {
    b.respond((r, res) => {
      if (r.url.startsWith('/api/v1/rules')) { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{not json'); return; }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"status":"success","data":{"resultType":"vector","result":[]}}');
    });
  }
  gw = await startGateway(`
users:
- username: team-a
  password: Team-A-Secret
  tenant: {labels: {namespace: a}}
  url_map:
  - src_paths: ["/prom/.*"]
    drop_src_path_prefix_parts: 1
    url_prefix: ["${prom.url}", "${spare.url}"]
    load_balancing_policy: first_available
    headers: ["X-Scope-OrgID: tenant-a"]
`);
});

after(async () => {
  await gw?.stop();
  await Promise.all([prom?.close(), spare?.close()]);
});

test('the policy sees the path after drop_src_path_prefix_parts and scopes the query', async () => {
  const res = await fetch(`${gw.url}/prom/api/v1/query?query=up`, { headers: { authorization: A } });
  assert.equal(res.status, 200, await res.text());
  const got = prom.received[prom.received.length - 1];
  assert.equal(new URL(got?.url ?? '', 'http://x').pathname, '/api/v1/query');
  assert.equal(new URL(got?.url ?? '', 'http://x').searchParams.get('query'), 'up{namespace="a"}');
});

test('the route\'s X-Scope-OrgID survives; the client\'s forged one does not', async () => {
  await (await fetch(`${gw.url}/prom/api/v1/query?query=up`, { headers: { authorization: A, 'x-scope-orgid': 'tenant-b' } })).text();
  assert.equal(prom.received[prom.received.length - 1]?.headers['x-scope-orgid'], 'tenant-a');
});

test('an unfilterable backend answer is refused (502) and the backend stays in rotation', async () => {
  const before = prom.received.length;
  const r = await fetch(`${gw.url}/prom/api/v1/rules`, { headers: { authorization: A } });
  assert.equal(r.status, 502);
  assert.ok(!(await r.text()).includes('not json'), 'the unfiltered body never reaches the client');
  await (await fetch(`${gw.url}/prom/api/v1/query?query=up`, { headers: { authorization: A } })).text();
  assert.equal(prom.received.length - before, 2, 'first_available still sends to the first backend: it was not marked broken');
  // (apart from the one Alertmanager status read at start-up of every backend a tenant route can post alerts to)
  assert.equal(spare.received.filter((r) => !r.url.startsWith('/api/v2/status')).length, 0);
});
