// Noisy neighbour, bounded work: tenant A floods the gateway with requests that used to cost
// seconds of event-loop time (a huge match[] form body, zstd and snappy decompression bombs,
// bcrypt login storms) while tenant B runs a steady, bounded query loop against a real
// Prometheus and a real VictoriaMetrics. B must see no error; A must get the documented
// 413 / 422 / 429 (or, for uploads refused before they are read, the connection closed).
// B's latencies are printed for the record, never asserted.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { zstdCompressSync } from 'node:zlib';
import bcrypt from 'bcryptjs';
import { basic, startGateway, type Gateway } from '../helpers/gateway.ts';
import { startPrometheus, type Prometheus } from '../helpers/prometheus.ts';
import { startVictoriaMetrics, type VictoriaMetrics } from '../helpers/victoria-metrics.ts';
import { deniedTotal, postLarge, tenantGet, tenantPost } from '../helpers/tenant-http.ts';
import { snappyCompress } from '../../src/enforce/remote-write/snappy-encode.ts';

const A_PROM = basic('a-prom', 'pass-a-prom');
const A_VM = basic('a-vm', 'pass-a-vm');
const B_PROM = basic('b-prom', 'pass-b-prom');
const B_VM = basic('b-vm', 'pass-b-vm');
const HASHED_PASSWORD = 'the-right-password';

let prom: Prometheus;
let vm: VictoriaMetrics;
let gw: Gateway;

before(async () => {
  vm = await startVictoriaMetrics();
  prom = await startPrometheus({
    global: { scrape_interval: '1s' },
    // Prometheus scrapes VictoriaMetrics as tenant b, so B's queries return data.
    scrape_configs: [{ job_name: 'vm', static_configs: [{ targets: [`127.0.0.1:${vm.port}`], labels: { namespace: 'b' } }] }],
  });
  const hash = bcrypt.hashSync(HASHED_PASSWORD, 10);
  gw = await startGateway(`
users:
- username: a-prom
  password: pass-a-prom
  url_prefix: "${prom.url}/"
  tenant: {labels: {namespace: a}}
- username: a-vm
  password: pass-a-vm
  url_prefix: "${vm.url}/"
  tenant: {enforce: victoriametrics, labels: {namespace: a}}
- username: b-prom
  password: pass-b-prom
  url_prefix: "${prom.url}/"
  tenant: {labels: {namespace: b}}
- username: b-vm
  password: pass-b-vm
  url_prefix: "${vm.url}/"
  tenant: {enforce: victoriametrics, labels: {namespace: b}}
- username: hashed
  password_hash: "${hash}"
  url_prefix: "${vm.url}/"
  tenant: {enforce: victoriametrics, labels: {namespace: h}}
`);
  const ts = Date.now() - 30_000;
  const w = await tenantPost(gw.url, '/api/v1/import/prometheus', B_VM, `b_steady{job="x"} 1 ${ts}\n`);
  assert.equal(w.status, 204, w.body);
  await vm.waitForSeries('b_steady', 1);
  await prom.waitFor('up{namespace="b"}', (r) => r.length > 0, 10_000);
});

after(async () => {
  await gw?.stop();
  await Promise.all([prom?.stop(), vm?.stop()]);
});

interface Loop { readonly statuses: number[]; readonly errors: string[]; readonly latenciesMs: number[] }

/**
 * Tenant B's steady loop, in a worker thread so that the test's own work (building and sending
 * A's bodies) cannot delay B's requests: alternate queries to Prometheus and VictoriaMetrics
 * through the gateway, one at a time, until told to stop (at most 2,000 requests or 90 s).
 */
const LOOP = `
const { parentPort, workerData } = require('node:worker_threads');
let stop = false;
parentPort.on('message', () => { stop = true; });
(async () => {
  const out = { statuses: [], errors: [], latenciesMs: [] };
  const deadline = Date.now() + 90000;
  for (let i = 0; i < 2000 && !stop && Date.now() < deadline; i++) {
    const [path, auth] = i % 2 === 0 ? ['/api/v1/query?query=up', workerData.prom] : ['/api/v1/query?query=b_steady', workerData.vm];
    const t0 = performance.now();
    try {
      const r = await fetch(workerData.url + path, { headers: { authorization: auth }, signal: AbortSignal.timeout(10000) });
      const body = await r.text();
      out.latenciesMs.push(performance.now() - t0);
      out.statuses.push(r.status);
      if (r.status !== 200) out.errors.push(r.status + ' ' + body.slice(0, 200));
    } catch (err) {
      out.errors.push(String(err));
    }
  }
  parentPort.postMessage(out);
})();
`;

async function steadyLoop(until: Promise<unknown>): Promise<Loop> {
  const worker = new Worker(LOOP, { eval: true, workerData: { url: gw.url, prom: B_PROM, vm: B_VM } });
  try {
    const result = new Promise<Loop>((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject); });
    await until.catch(() => undefined);
    worker.postMessage('stop');
    return await result;
  } finally {
    await worker.terminate();
  }
}

function report(name: string, loop: Loop): void {
  const s = [...loop.latenciesMs].sort((a, b) => a - b);
  const q = (p: number) => (s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor(p * s.length))]!);
  console.log(`# ${name}: tenant B ${s.length} requests, p50 ${q(0.5).toFixed(1)} ms, p99 ${q(0.99).toFixed(1)} ms, max ${(s.at(-1) ?? NaN).toFixed(1)} ms`);
}

/** Runs `attack` while B loops; B must have had requests served during it, and no error. */
async function whileBLoops<T>(name: string, attack: () => Promise<T>): Promise<T> {
  // B starts first, so it is served before, during and after the attack.
  let go!: () => void;
  const started = new Promise<void>((resolve) => { go = resolve; });
  const running = started.then(attack);
  const looping = steadyLoop(running);
  setTimeout(go, 200);
  const [result, loop] = await Promise.all([running, looping]);
  report(name, loop);
  assert.deepEqual(loop.errors, [], 'tenant B saw no error');
  assert.ok(loop.statuses.length > 0, 'tenant B was served during the attack');
  return result;
}

describe('tenant A attacks, tenant B keeps being served', () => {
  test('baseline: B alone', async () => {
    await whileBLoops('baseline', () => new Promise((resolve) => setTimeout(resolve, 2000)));
  });

  test('a ~33 MB match[] form body, 4 in parallel, and bodies of many match[] under the body bound', async () => {
    const huge = 'match[]=a&'.repeat(3_300_000);
    const many = 'match[]=a&'.repeat(26_000); // 260,000 bytes: under the 256 KiB read bound
    const statuses = await whileBLoops('match[] flood', async () => {
      const out: number[] = [];
      for (let round = 0; round < 3; round++) {
        const rs = await Promise.all([
          ...[0, 1, 2, 3].map(() => postLarge(gw.url, '/api/v1/series', round % 2 === 0 ? A_PROM : A_VM, huge, { 'content-type': 'application/x-www-form-urlencoded' })),
          ...[0, 1].map(() => tenantPost(gw.url, '/api/v1/series', A_PROM, many.slice(0, 260_000), { 'content-type': 'application/x-www-form-urlencoded' })),
        ]);
        out.push(...rs.map((r) => r.status));
      }
      return out;
    });
    for (const s of statuses) assert.ok(s === 413 || s === 422 || s === 0, `A got ${s}`);
    assert.ok(statuses.includes(422), 'match[] over max_match_params: 422');
  });

  test('zstd and snappy decompression bombs, 6 in parallel', async () => {
    const zstdBomb = zstdCompressSync(new Uint8Array(256 << 20)); // ~8 KB that decode to 256 MiB
    const snappyBomb = snappyCompress(new Uint8Array(33 << 20)); // declares 33 MiB: over the 32 MiB cap
    const RW = { 'content-type': 'application/x-protobuf' };
    const statuses = await whileBLoops('decompression bombs', async () => {
      const out: number[] = [];
      for (let round = 0; round < 4; round++) {
        const rs = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => i % 2 === 0
          ? postLarge(gw.url, '/api/v1/write', A_PROM, zstdBomb, { ...RW, 'content-encoding': 'zstd' })
          : postLarge(gw.url, '/api/v1/write', A_PROM, snappyBomb, { ...RW, 'content-encoding': 'snappy' })));
        out.push(...rs.map((r) => r.status));
      }
      return out;
    });
    assert.deepEqual([...new Set(statuses)], [413], 'every bomb is refused with 413');
  });

  test('a bcrypt login storm: 64 concurrent wrong passwords, 3 rounds', async () => {
    const statuses = await whileBLoops('bcrypt storm', async () => {
      const out: number[] = [];
      for (let round = 0; round < 3; round++) {
        const rs = await Promise.all(Array.from({ length: 64 }, (_, i) =>
          tenantGet(gw.url, '/api/v1/query?query=up', basic(i % 2 === 0 ? 'hashed' : `nobody-${i}`, `guess-${round}-${i}-${Math.random()}`))));
        out.push(...rs.map((r) => r.status));
      }
      return out;
    });
    for (const s of statuses) assert.ok(s === 401 || s === 429, `A got ${s}`);
    assert.ok(statuses.includes(429), 'failed logins over the per-address limit: 429');
  });

  test('every refusal is counted by reason', async () => {
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    for (const reason of ['tenant_bound_read_body', 'tenant_bound_match_params', 'tenant_bound_write_decoded', 'login_rate_limited']) {
      assert.ok(deniedTotal(text, reason) > 0, reason);
    }
    // The heavy work ran in the pools: bcrypt always, the large match[] bodies above the threshold.
    const value = (name: string) => Number(text.split('\n').find((l) => l.startsWith(name + ' '))?.split(' ')[1] ?? 0);
    assert.ok(value('tenantgate_offload_tasks_total{pool="auth",result="done"}') > 0, text.split('\n').filter((l) => l.includes('offload')).join('\n'));
    assert.ok(value('tenantgate_offload_tasks_total{pool="enforce",result="done"}') > 0);
  });
});
