// -pushmetrics.url: tenantgate pushes its /metrics to a real VictoriaMetrics with extra labels,
// gzip-compressed by default; the push URL is masked at /flags.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { basic, startGateway, type Gateway } from '../helpers/gateway.ts';
import { sleep } from '../helpers/processes.ts';
import { startVictoriaMetrics, type VictoriaMetrics } from '../helpers/victoria-metrics.ts';

let vm: VictoriaMetrics;
let gw: Gateway;

before(async () => {
  vm = await startVictoriaMetrics();
  gw = await startGateway(`users:\n- username: pusher\n  password: "Push-Secret-Pass"\n  url_prefix: "${vm.url}/"\n`, {
    flags: [`-pushmetrics.url=${vm.url}/api/v1/import/prometheus`, '-pushmetrics.interval=200ms', '-pushmetrics.extraLabel=instance="tg-push-test"', '-pushmetrics.header=X-Test: 1'],
  });
});

after(async () => {
  await gw?.stop();
  await vm?.stop();
});

test('pushed metrics arrive with the extra label', async () => {
  for (let i = 0; i < 3; i++) await (await fetch(`${gw.url}/api/v1/labels`, { headers: { authorization: basic('pusher', 'Push-Secret-Pass') } })).text();
  let value = '';
  for (let i = 0; i < 50 && value !== '3'; i++) {
    await sleep(200);
    await fetch(`${vm.url}/internal/force_flush`);
    const r = await (await fetch(`${vm.url}/api/v1/query?query=${encodeURIComponent('vmauth_user_requests_total{instance="tg-push-test",username="pusher"}')}`)).json() as { data: { result: { value: [number, string] }[] } };
    value = r.data.result[0]?.value[1] ?? '';
  }
  assert.equal(value, '3');
});

test('the push URL is masked at /flags', async () => {
  const flags = await (await fetch(`${gw.url}/flags`)).text();
  assert.match(flags, /-pushmetrics.url="secret"/);
  assert.ok(!flags.includes(vm.url));
});
