// -ratelimit.store=redis: two gateway processes share one real redis-server, so a user's budget
// is one for both; kill redis mid-run and each gateway's -ratelimit.failMode holds (open admits,
// closed refuses with 503 and a clear reason), then restart it and limits resume without
// restarting the gateways. Exact counts use rates that do not refill during the test; the
// rate test bounds admitted requests by measured time.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { basic, startGateway, type Gateway } from '../helpers/gateway.ts';
import { startEchoBackend, type EchoBackend } from '../helpers/echo-backend.ts';
import { burst, sample, send } from '../helpers/limit-client.ts';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sleep, tempDir } from '../helpers/processes.ts';
import { createAuthority, writePem } from '../helpers/tls-ca.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';
import { LocalRateStore } from '../../src/limit/local-store.ts';
import { RedisRateStore } from '../../src/limit/redis-store.ts';
import type { RateCheck } from '../../src/limit/rate-store.ts';

let backend: EchoBackend;
let redis: RedisServer;
let open: Gateway;
let closed: Gateway;

const config = (url: string) => `
users:
- username: shared
  password: pw-shared-1
  url_prefix: ${url}
  limits: {requests_per_second: 0.01, requests_burst: 10}
- username: rated
  password: pw-rated-1
  url_prefix: ${url}
  limits: {requests_per_second: 20, requests_burst: 5}
- username: fresh
  password: pw-fresh-1
  url_prefix: ${url}
  limits: {requests_per_second: 0.01, requests_burst: 10}
- username: other
  password: pw-other-1
  url_prefix: ${url}
`;
const auth = (u: string) => ({ authorization: basic(u, `pw-${u}-1`) });
/** Bounded wait until the gateway's connection to redis is up (its store gauge says 1). */
async function storeConnected(gw: Gateway): Promise<void> {
  for (let i = 0; i < 150; i++) {
    const m = await (await fetch(`${gw.url}/metrics`)).text();
    if (sample(m, 'tenantgate_ratelimit_store_connected{store="redis"}') === 1) return;
    await sleep(100);
  }
  assert.fail(`the gateway did not connect to redis within 15 s:\n${gw.proc.output()}`);
}
const get = async (gw: Gateway, u: string) => (await send(`${gw.url}/api/v1/status/buildinfo`, { headers: auth(u) })).status;

before(async () => {
  backend = await startEchoBackend('redis-rl');
  redis = await startRedis();
  const flags = (mode: string) => ['-ratelimit.store=redis', `-ratelimit.redis.addr=${redis.addr}`, '-ratelimit.redis.timeout=200ms', `-ratelimit.failMode=${mode}`, '-ratelimit.redis.keyPrefix=test:rl:'];
  open = await startGateway(config(backend.url), { flags: flags('open') });
  closed = await startGateway(config(backend.url), { flags: flags('closed') });
  await storeConnected(open);
  await storeConnected(closed);
});
after(async () => {
  await open?.stop();
  await closed?.stop();
  await redis?.stop();
  await backend?.close();
});

test('the Lua script decides exactly as the in-process GCRA (batched requests, all-or-nothing, debt)', async () => {
  const store = new RedisRateStore({ addr: redis.addr, username: '', password: '', db: 0, tls: false, tlsCaFile: '', tlsServerName: '', tlsInsecureSkipVerify: false, keyPrefix: 'lua-test:', timeoutMs: 2000 });
  const local = new LocalRateStore(1000, () => 0);
  try {
    for (let i = 0; i < 150 && !store.connected; i++) await sleep(100);
    assert.ok(store.connected, 'connected to redis');
    // Rates of one unit per 1000 s: the few ms the test takes cannot refill anything.
    const slow = (burst: number) => ({ intervalMs: 1e6, burst });
    const a = (cost: number): RateCheck => ({ key: '{b}:a', limit: slow(5), cost });
    const b = (cost: number): RateCheck => ({ key: '{b}:b', limit: slow(3), cost });
    const c = (cost: number): RateCheck => ({ key: '{c}:c', limit: slow(2), cost });
    const requests: RateCheck[][] = [[a(1), b(1)], [a(2)], [b(3)], [a(1), b(1)], [c(7)], [c(1)], [a(1)], [a(1)], [b(1), a(1)], [c(1)]];
    // Sent in one event-loop turn, so they travel as one batch and later ones see earlier charges.
    const got = await Promise.all(requests.map((r) => store.take(r)));
    const want = requests.map((r) => local.take(r));
    assert.deepEqual(got.map((v) => [v.allowed, v.index, v.remaining]), want.map((v) => [v.allowed, v.index, v.remaining]));
    // Retry-After agrees to within the milliseconds between the two clocks' readings.
    got.forEach((v, i) => assert.ok(Math.abs(v.retryAfterMs - want[i]!.retryAfterMs) < 5000, `${v.retryAfterMs} vs ${want[i]!.retryAfterMs}`));
  } finally {
    await store.close();
  }
});

test('two gateways share one budget through redis; another user is still served', async () => {
  const r = await burst(40, 4, 30_000, (i) => get(i % 2 === 0 ? open : closed, 'shared'));
  // Separate budgets would admit 20.
  assert.equal(r.statuses.get(200), 10, JSON.stringify([...r.statuses]));
  assert.equal(r.statuses.get(429), 30);
  for (const gw of [open, closed]) assert.equal(await get(gw, 'other'), 200);
  const a = await send(`${open.url}/api/v1/status/buildinfo`, { headers: auth('shared') });
  assert.equal(a.status, 429);
  assert.equal(a.headers['x-ratelimit-limit'], '10');
  assert.equal(a.headers['x-ratelimit-remaining'], '0');
  assert.ok(Number(a.headers['retry-after']) >= 90, String(a.headers['retry-after']));
});

test('the combined admitted rate of two gateways stays within the limit', async () => {
  const r = await burst(400, 4, 3000, (i) => get(i % 2 === 0 ? open : closed, 'rated'));
  const admitted = r.statuses.get(200) ?? 0;
  const bound = 5 + 20 * (r.elapsedMs / 1000) + 1;
  assert.ok(admitted <= bound, `admitted ${admitted} > bound ${bound.toFixed(1)} over ${r.elapsedMs.toFixed(0)} ms`);
  assert.ok(admitted >= 5 && (r.statuses.get(429) ?? 0) > 0, JSON.stringify([...r.statuses]));
});

test('redis killed: fail-open admits, fail-closed refuses with 503; restarted: limits resume without a gateway restart', async () => {
  // The budget of `shared` is spent (previous test): both gateways refuse it while redis is up,
  // and remember until when (Retry-After ≈ 100 s).
  assert.equal(await get(open, 'shared'), 429);
  assert.equal(await get(closed, 'shared'), 429);
  await redis.kill();

  // `fresh` has never been refused, so a decision needs the store.
  for (let i = 0; i < 5; i++) assert.equal(await get(open, 'fresh'), 200, 'fail-open admits while the store is down');
  const refused = await send(`${closed.url}/api/v1/status/buildinfo`, { headers: auth('fresh') });
  assert.equal(refused.status, 503);
  assert.match(refused.body, /rate-limit store is unavailable\) and -ratelimit\.failMode=closed refuses requests/);
  assert.equal(refused.headers['retry-after'], '1');
  // A budget known to be spent stays refused through the outage, in either mode.
  assert.equal(await get(open, 'shared'), 429);
  assert.equal(await get(closed, 'shared'), 429);
  // Users without limits never touch the store.
  assert.equal(await get(closed, 'other'), 200);

  const mDown = await (await fetch(`${closed.url}/metrics`)).text();
  assert.equal(sample(mDown, 'tenantgate_ratelimit_store_connected{store="redis"}'), 0);

  await redis.restart();
  // Both clients reconnect by themselves (backoff capped at 2 s); bounded wait.
  await storeConnected(open);
  await storeConnected(closed);
  // The restarted redis is empty: `fresh` has its budget of 10 for both gateways together again
  // (what fail-open admitted during the outage was never counted).
  const again = await burst(40, 4, 30_000, (i) => get(i % 2 === 0 ? open : closed, 'fresh'));
  assert.equal(again.statuses.get(200), 10, JSON.stringify([...again.statuses]));
  assert.equal(again.statuses.get(429), 30);

  const mOpen = await (await fetch(`${open.url}/metrics`)).text();
  const mClosed = await (await fetch(`${closed.url}/metrics`)).text();
  assert.ok((sample(mOpen, 'tenantgate_ratelimit_store_errors_total{store="redis",outcome="admitted"}') ?? 0) >= 5, mOpen.split('\n').filter((l) => l.includes('ratelimit')).join('\n'));
  assert.ok((sample(mClosed, 'tenantgate_ratelimit_store_errors_total{store="redis",outcome="refused"}') ?? 0) >= 1);
  assert.equal(sample(mClosed, 'tenantgate_user_rate_limited_total{limit="store_unavailable",username="fresh"}'), 1);
  // Log lines arrive through a pipe: wait for them (bounded).
  for (let i = 0; i < 50 && !(open.proc.output().includes('cannot decide') && closed.proc.output().includes('cannot decide')); i++) await sleep(50);
  assert.match(open.proc.output(), /rate-limit store redis cannot decide: ERR_RATE_STORE_\w+: .*-ratelimit\.failMode=open: admitting/);
  assert.match(closed.proc.output(), /rate-limit store redis cannot decide: ERR_RATE_STORE_\w+: .*-ratelimit\.failMode=closed: refusing with 503/);
});

test('flag errors: bad store, bad fail mode, missing address', async () => {
  const { spawnSync } = await import('node:child_process');
  const { CLI } = await import('../helpers/gateway.ts');
  const run = (...flags: string[]) => spawnSync(process.execPath, [CLI, '-auth.config=/nonexistent', ...flags], { encoding: 'utf8', timeout: 20_000 });
  let r = run('-ratelimit.store=memcached');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /invalid value "memcached" for flag -ratelimit\.store: expected local or redis/);
  r = run('-ratelimit.failMode=maybe');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /-ratelimit\.failMode: expected open or closed/);
  r = run('-ratelimit.store=redis');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /missing -ratelimit\.redis\.addr/);
  r = run('-ratelimit.store=redis', '-ratelimit.redis.addr=localhost');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /expected host:port or redis:\/\/host:port/);
  // A password in the address would be shown at /flags: refused, pointing at the right flag.
  r = run('-ratelimit.store=redis', '-ratelimit.redis.addr=redis://user:hunter2@127.0.0.1:6379');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /do not put the password in the URL; use -ratelimit\.redis\.password/);
  assert.ok(!r.stderr.includes('hunter2'));
});

test('a password-protected redis: the right password (read from a file) enforces limits, a wrong one fails closed', async () => {
  const secured = await startRedis({ args: ['--requirepass', 'redis-secret-123'] });
  const dir = tempDir();
  const good = join(dir.path, 'good');
  const bad = join(dir.path, 'bad');
  writeFileSync(good, 'redis-secret-123\n');
  writeFileSync(bad, 'not-the-password\n');
  const flags = (file: string) => ['-ratelimit.store=redis', `-ratelimit.redis.addr=redis://${secured.addr}`, `-ratelimit.redis.password=file://${file}`, '-ratelimit.failMode=closed'];
  const right = await startGateway(config(backend.url), { flags: flags(good) });
  const wrong = await startGateway(config(backend.url), { flags: flags(bad) });
  try {
    await storeConnected(right);
    const s: number[] = [];
    for (let i = 0; i < 11; i++) s.push(await get(right, 'shared'));
    assert.deepEqual(s, [...Array(10).fill(200), 429]);
    assert.equal(await get(wrong, 'shared'), 503);
    // The log line arrives through a pipe; wait for it (bounded). The client may still be
    // retrying its connection when the first request fails, so the reason is not asserted.
    for (let i = 0; i < 50 && !wrong.proc.output().includes('cannot decide'); i++) await sleep(50);
    assert.match(wrong.proc.output(), /rate-limit store redis cannot decide: ERR_RATE_STORE_UNAVAILABLE: redis is \w+.*-ratelimit\.failMode=closed: refusing with 503/);
    assert.ok(!right.proc.output().includes('redis-secret-123') && !wrong.proc.output().includes('not-the-password'), 'passwords never logged');
  } finally {
    await right.stop();
    await wrong.stop();
    await secured.stop();
    dir.remove();
  }
});

test('TLS to redis: verified against -ratelimit.redis.tlsCAFile; a server the CA did not sign is refused (fail closed)', async () => {
  const dir = tempDir();
  const ca = await createAuthority('tenantgate redis test CA');
  const other = await createAuthority('some other CA');
  const server = await ca.issue('redis', { ips: ['127.0.0.1'], server: true });
  const files = { certFile: writePem(dir.path, 'redis.pem', server.cert), keyFile: writePem(dir.path, 'redis-key.pem', server.key), caFile: writePem(dir.path, 'ca.pem', ca.caCert) };
  const otherCa = writePem(dir.path, 'other-ca.pem', other.caCert);
  const tlsRedis = await startRedis({ tls: files });
  const flags = (caFile: string) => ['-ratelimit.store=redis', `-ratelimit.redis.addr=${tlsRedis.addr}`, '-ratelimit.redis.tls', `-ratelimit.redis.tlsCAFile=${caFile}`, '-ratelimit.failMode=closed'];
  const trusted = await startGateway(config(backend.url), { flags: flags(files.caFile) });
  const untrusted = await startGateway(config(backend.url), { flags: flags(otherCa) });
  try {
    await storeConnected(trusted);
    const s: number[] = [];
    for (let i = 0; i < 11; i++) s.push(await get(trusted, 'shared'));
    assert.deepEqual(s, [...Array(10).fill(200), 429]);
    assert.equal(await get(untrusted, 'shared'), 503);
    const m = await (await fetch(`${untrusted.url}/metrics`)).text();
    assert.equal(sample(m, 'tenantgate_ratelimit_store_connected{store="redis"}'), 0);
  } finally {
    await trusted.stop();
    await untrusted.stop();
    await tlsRedis.stop();
    dir.remove();
  }
});
