// vmselect reads tenant filters from two arg names, `extra_filters` and `extra_filters[]`, and ORs
// every value of both. A url_prefix that pins one name must therefore also decide the other, or a
// client widens its access by sending the sibling name. Checked against a real VictoriaMetrics.
// (The same trick through a POST form body is covered in test/unit/security/query-arg-families:
// only VictoriaMetrics >= 1.143 prefers URL args over form args, and the installed one is older.)
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { basic, startGateway, type Gateway } from '../helpers/gateway.ts';
import { startVictoriaMetrics, type VictoriaMetrics } from '../helpers/victoria-metrics.ts';

let vm: VictoriaMetrics;
let gw: Gateway;
// One user pins the array form (as VictoriaMetrics' docs write it), one the plain form (as the
// JWT quick start in docs/jwt-oidc.md does).
const ARRAY = basic('pin-array', 'pass-array');
const PLAIN = basic('pin-plain', 'pass-plain');

before(async () => {
  vm = await startVictoriaMetrics();
  gw = await startGateway(`
users:
- username: pin-array
  password: pass-array
  url_prefix: '${vm.url}/?extra_filters[]={env="prod"}'
- username: pin-plain
  password: pass-plain
  url_prefix: '${vm.url}/?extra_filters={env="prod"}'
`);
  const ts = Date.now() - 60_000;
  const res = await fetch(`${vm.url}/api/v1/import/prometheus`, {
    method: 'POST',
    body: `visible{job="x",env="prod"} 1 ${ts}\nhidden{job="x",env="secret"} 2 ${ts}\n`,
  });
  assert.equal(res.status, 204, await res.text());
  await vm.waitForSeries('hidden', 1);
});

after(async () => {
  await gw?.stop();
  await vm?.stop();
});

async function names(auth: string, path: string): Promise<string[]> {
  const res = await fetch(gw.url + path, { headers: { authorization: auth } });
  const body = await res.text();
  assert.equal(res.status, 200, body);
  return (JSON.parse(body).data as Record<string, string>[]).map((m) => m['__name__'] ?? '').sort();
}

const SERIES = `/api/v1/series?match[]=${encodeURIComponent('{job="x"}')}`;
const WIDEN = encodeURIComponent('{env="secret"}');

describe('a url_prefix extra_filters pin cannot be widened through the sibling arg name', () => {
  test('baseline: each user sees only env="prod"', async () => {
    assert.deepEqual(await names(ARRAY, SERIES), ['visible']);
    assert.deepEqual(await names(PLAIN, SERIES), ['visible']);
  });

  test('client extra_filters next to a pinned extra_filters[] (URL)', async () => {
    assert.deepEqual(await names(ARRAY, `${SERIES}&extra_filters=${WIDEN}`), ['visible']);
  });

  test('client extra_filters[] next to a pinned extra_filters (URL)', async () => {
    assert.deepEqual(await names(PLAIN, `${SERIES}&extra_filters%5B%5D=${WIDEN}`), ['visible']);
    assert.deepEqual(await names(PLAIN, `${SERIES}&extra_filters[]=${WIDEN}`), ['visible']);
  });
});
