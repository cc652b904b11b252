// Per-user `limits:` with the in-process store, against the built gateway: 429 with Retry-After
// and X-RateLimit-* headers, counted per user and limit, logged with a reason, nothing forwarded;
// queries, concurrent queries, remote-write samples (decoded by tenant enforcement) and bytes;
// and with -workers=2, one budget per gateway (the primary's buckets), not one per worker.
// Rates are tiny (one unit per 100 s) where exact counts are asserted, so no assertion depends
// on how fast this machine is; the rate-bound test bounds admitted requests by measured time.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { basic, startGateway, type Gateway } from '../helpers/gateway.ts';
import { startEchoBackend, type EchoBackend } from '../helpers/echo-backend.ts';
import { burst, sample, send } from '../helpers/limit-client.ts';
import { sleep } from '../helpers/processes.ts';
import { snappy } from '../unit/remote-write/helpers.ts';
import { encodeWriteRequest } from '../unit/remote-write/proto-reference.ts';

let backend: EchoBackend;
let gw: Gateway;

const config = (url: string) => `
users:
- username: limited
  password: pw-limited-1
  url_prefix: ${url}
  access_log: {}
  limits:
    requests_per_second: 0.01
    requests_burst: 3
- username: querier
  password: pw-querier-1
  url_prefix: ${url}
  limits:
    queries_per_second: 0.01
    queries_burst: 2
- username: slowq
  password: pw-slowq-1
  url_prefix: ${url}
  limits:
    max_concurrent_queries: 1
- username: writer
  password: pw-writer-1
  url_prefix: ${url}
  tenant:
    labels: {team: a}
    write_args: [from]              # the test tells its requests apart by this arg at the backend
  limits:
    write_samples_per_second: 0.01
    write_samples_burst: 10
- username: bytes
  password: pw-bytes-1
  url_prefix: ${url}
  limits:
    write_bytes_per_second: 1
    write_bytes_burst: 1000
- username: other
  password: pw-other-1
  url_prefix: ${url}
- username: team-x1
  password: pw-team-x1
  url_prefix: ${url}
  limits: {key: team-x, requests_per_second: 0.01, requests_burst: 2}
- username: team-x2
  password: pw-team-x2
  url_prefix: ${url}
  limits: {key: team-x, requests_per_second: 0.01, requests_burst: 2}
`;

const auth = (u: string) => ({ authorization: basic(u, `pw-${u}-1`) });
const fromUser = (u: string) => backend.received.filter((r) => r.url.includes(`from=${u}`)).length;

function writeBody(samples: number): Uint8Array {
  return snappy(encodeWriteRequest({ timeseries: [{ labels: [['__name__', 'm'], ['job', 'j']], samples: Array.from({ length: samples }, (_, i) => ({ value: i, timestamp: 1_700_000_000_000 + i })) }] }));
}

before(async () => {
  backend = await startEchoBackend('rl');
  backend.respond((r, res) => {
    if (r.url.includes('slow')) { setTimeout(() => res.end('slow'), 1500); return; }
    res.end('ok');
  });
  gw = await startGateway(config(backend.url));
});
after(async () => {
  await gw?.stop();
  await backend?.close();
});

test('over requests_per_second: 429 with Retry-After and X-RateLimit-*, not forwarded; another user is served', async () => {
  const answers = [];
  for (let i = 0; i < 6; i++) {
    answers.push(await send(`${gw.url}/api/v1/status/buildinfo?from=limited`, { headers: auth('limited') }));
    assert.equal((await send(`${gw.url}/api/v1/status/buildinfo?from=other`, { headers: auth('other') })).status, 200);
  }
  assert.deepEqual(answers.map((a) => a.status), [200, 200, 200, 429, 429, 429]);
  const r = answers[3]!;
  assert.match(r.body, /rate limit exceeded for limited: requests_per_second=0\.01 \(burst 3 requests\); retry in \d+s/);
  // One request comes back every 100 s; the bucket is empty, so the next one is ~100 s away.
  const retry = Number(r.headers['retry-after']);
  assert.ok(retry >= 90 && retry <= 100, `Retry-After ${retry}`);
  assert.equal(r.headers['x-ratelimit-limit'], '3');
  assert.equal(r.headers['x-ratelimit-remaining'], '0');
  const reset = Number(r.headers['x-ratelimit-reset']);
  assert.ok(reset >= 290 && reset <= 300, `X-RateLimit-Reset ${reset}`);
  assert.equal(fromUser('limited'), 3, 'refused requests must not reach the backend');
  assert.equal(fromUser('other'), 6);

  const metrics = await (await fetch(`${gw.url}/metrics`)).text();
  assert.equal(sample(metrics, 'tenantgate_user_rate_limited_total{limit="requests",username="limited"}'), 3);
  assert.equal(sample(metrics, 'vmauth_http_request_errors_total{reason="rate_limited"}'), 3);
  const log = gw.proc.output().split('\n').filter((l) => l.includes('access_log') && l.includes('username="limited"'));
  assert.equal(log.filter((l) => /status_code=429 .*reason="rate_limited:requests"/.test(l)).length, 3);
  assert.equal(log.filter((l) => l.includes('reason=')).length, 3, 'admitted requests carry no refusal reason');
});

test('queries_per_second counts read queries only', async () => {
  const q = [];
  for (let i = 0; i < 3; i++) q.push((await send(`${gw.url}/api/v1/query?query=up&from=querier`, { headers: auth('querier') })).status);
  assert.deepEqual(q, [200, 200, 429]);
  // Not a query: no queries budget applies.
  for (let i = 0; i < 3; i++) assert.equal((await send(`${gw.url}/api/v1/status/buildinfo?from=querier`, { headers: auth('querier') })).status, 200);
  const metrics = await (await fetch(`${gw.url}/metrics`)).text();
  assert.equal(sample(metrics, 'tenantgate_user_rate_limited_total{limit="queries",username="querier"}'), 1);
});

test('max_concurrent_queries: a second query while one runs gets 429; the slot is freed afterwards', async () => {
  const before = backend.received.length;
  const first = send(`${gw.url}/api/v1/query?query=up&slow=1&from=slowq`, { headers: auth('slowq') });
  for (let i = 0; i < 100 && backend.received.length === before; i++) await sleep(20);
  assert.equal(backend.received.length, before + 1, 'the first query reached the backend');
  const second = await send(`${gw.url}/api/v1/query?query=up&from=slowq`, { headers: auth('slowq') });
  assert.equal(second.status, 429);
  assert.match(second.body, /max_concurrent_queries=1/);
  assert.equal(second.headers['retry-after'], '1');
  // Not a query: unaffected by the query slot.
  assert.equal((await send(`${gw.url}/api/v1/status/buildinfo?from=slowq`, { headers: auth('slowq') })).status, 200);
  assert.equal((await first).status, 200);
  assert.equal((await send(`${gw.url}/api/v1/query?query=up&from=slowq`, { headers: auth('slowq') })).status, 200);
});

test('write_samples_per_second: samples counted after tenant enforcement decoded the write; over the limit nothing is forwarded', async () => {
  const headers = { ...auth('writer'), 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy', 'x-prometheus-remote-write-version': '0.1.0' };
  const w1 = await send(`${gw.url}/api/v1/write?from=writer`, { method: 'POST', headers, body: writeBody(6) });
  assert.equal(w1.status, 200, w1.body);
  const w2 = await send(`${gw.url}/api/v1/write?from=writer`, { method: 'POST', headers, body: writeBody(6) });
  assert.equal(w2.status, 429, w2.body);
  assert.match(w2.body, /write_samples_per_second=0\.01 \(burst 10 samples\)/);
  assert.equal(w2.headers['x-ratelimit-remaining'], '4');
  // The 4 samples left still fit.
  assert.equal((await send(`${gw.url}/api/v1/write?from=writer`, { method: 'POST', headers, body: writeBody(4) })).status, 200);
  assert.equal(fromUser('writer'), 2);
});

test('write_bytes_per_second: charged from Content-Length before the body is read', async () => {
  const body = Buffer.alloc(600, 1);
  const headers = { ...auth('bytes'), 'content-type': 'application/x-protobuf' };
  assert.equal((await send(`${gw.url}/api/v1/write?from=bytes`, { method: 'POST', headers, body })).status, 200);
  const r = await send(`${gw.url}/api/v1/write?from=bytes`, { method: 'POST', headers, body });
  assert.equal(r.status, 429);
  assert.match(r.body, /write_bytes_per_second=1 \(burst 1000 bytes\)/);
  assert.equal(fromUser('bytes'), 1);
});

test('write_bytes_per_second: a chunked write (no Content-Length) gets 411, so it cannot bypass the limit', async () => {
  const { request } = await import('node:http');
  const u = new URL(`${gw.url}/api/v1/write?from=bytes-chunked`);
  const status = await new Promise<number>((resolve, reject) => {
    const req = request(u, { method: 'POST', agent: false, headers: { ...auth('bytes'), 'content-type': 'application/x-protobuf', 'transfer-encoding': 'chunked' } }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode ?? 0)); });
    req.on('error', reject);
    req.write(Buffer.alloc(100, 1));
    req.end(Buffer.alloc(100, 2));
  });
  assert.equal(status, 411);
  assert.equal(fromUser('bytes-chunked'), 0);
  // Users without a bytes limit may still send chunked writes.
  const other = await new Promise<number>((resolve, reject) => {
    const req = request(new URL(`${gw.url}/api/v1/write?from=other-chunked`), { method: 'POST', agent: false, headers: { ...auth('other'), 'transfer-encoding': 'chunked' } }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode ?? 0)); });
    req.on('error', reject);
    req.end(Buffer.alloc(100, 1));
  });
  assert.equal(other, 200);
});

test('users with the same limits.key share one budget', async () => {
  const s = [];
  for (const u of ['team-x1', 'team-x2', 'team-x1', 'team-x2']) s.push((await send(`${gw.url}/api/v1/status/buildinfo?from=${u}`, { headers: { authorization: basic(u, `pw-${u}`) } })).status);
  assert.deepEqual(s, [200, 200, 429, 429]);
});

test('-workers=2: one budget per gateway, and the combined rate stays within the limit', async () => {
  const yaml = `
users:
- username: shared
  password: pw-shared-1
  url_prefix: ${backend.url}
  limits: {requests_per_second: 0.01, requests_burst: 10}
- username: rated
  password: pw-rated-1
  url_prefix: ${backend.url}
  limits: {requests_per_second: 20, requests_burst: 5}
- username: other
  password: pw-other-1
  url_prefix: ${backend.url}
`;
  const cluster = await startGateway(yaml, { workers: 2 });
  try {
    for (let i = 0; i < 100 && !cluster.proc.output().includes('started 2 workers'); i++) await sleep(50);
    // Exact: a budget of 10 that does not refill during the test. Per-worker budgets would admit 20.
    const shared = await burst(40, 4, 30_000, async () => (await send(`${cluster.url}/api/v1/status/buildinfo`, { headers: auth('shared') })).status);
    assert.equal(shared.statuses.get(200), 10, JSON.stringify([...shared.statuses]));
    assert.equal(shared.statuses.get(429), 30);
    // The requests were spread over both workers.
    const metrics = await (await fetch(`${cluster.url}/metrics`)).text();
    assert.ok((sample(metrics, 'tenantgate_worker_requests_total{worker="0"}') ?? 0) > 0 && (sample(metrics, 'tenantgate_worker_requests_total{worker="1"}') ?? 0) > 0, 'both workers served');
    assert.equal(sample(metrics, 'tenantgate_user_rate_limited_total{limit="requests",username="shared"}'), 30);

    // A real rate: admitted ≤ burst + rate × elapsed (+1 for a unit completing at the edge).
    // Meanwhile the other user, without limits, is never refused.
    let otherRefused = 0;
    const rated = await burst(400, 4, 3000, async (i) => {
      if (i % 4 === 0) {
        const o = await send(`${cluster.url}/api/v1/status/buildinfo`, { headers: auth('other') });
        if (o.status !== 200) otherRefused++;
      }
      return (await send(`${cluster.url}/api/v1/status/buildinfo`, { headers: auth('rated') })).status;
    });
    const admitted = rated.statuses.get(200) ?? 0;
    const bound = 5 + 20 * (rated.elapsedMs / 1000) + 1;
    assert.ok(admitted <= bound, `admitted ${admitted} > bound ${bound.toFixed(1)} over ${rated.elapsedMs.toFixed(0)} ms`);
    assert.ok(admitted >= 5, `admitted ${admitted}`);
    assert.ok((rated.statuses.get(429) ?? 0) > 0, 'the rate was exceeded and refused');
    assert.equal([...rated.statuses.keys()].filter((s) => s !== 200 && s !== 429).length, 0, JSON.stringify([...rated.statuses]));
    assert.equal(otherRefused, 0);
  } finally {
    await cluster.stop();
  }
});
