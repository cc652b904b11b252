// -workers=2 as one gateway: requests land on both worker processes, /metrics served by either
// worker shows the exact global per-user counts, a token rotation through /-/reload reaches every
// worker, a broken config keeps every worker on the old one (and flips the reload metric
// everywhere), and a killed worker comes back on the current config.
// Every request goes on its own connection (agent: false), so node:cluster's round-robin spreads
// them over the workers.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { request } from 'node:http';
import { startEchoBackend, type EchoBackend } from '../helpers/echo-backend.ts';
import { startGateway, basic, type Gateway } from '../helpers/gateway.ts';
import { sleep } from '../helpers/processes.ts';

interface Answer { status: number; body: string }

let backend: EchoBackend;
let gw: Gateway;

function get(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${gw.url}${path}`, { agent: false, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** Value of one series in a /metrics text, or undefined. */
function sample(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(series + ' ')) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

const workerPids = (pid: number): number[] =>
  execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' }).split('\n').map((s) => Number(s.trim())).filter((n) => n > 0);

async function waitFor(what: string, ok: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${gw.proc.output()}`);
    await sleep(50);
  }
}

const config = (token: string) => `
users:
  - username: alice
    password: alice-secret-1
    url_prefix: ${backend.url}/alice
  - username: bob
    password: bob-secret-22
    url_prefix: ${backend.url}/bob
  - name: robot
    bearer_token: ${token}
    url_prefix: ${backend.url}/robot
`;

const OLD_TOKEN = 'token-old-0123456789';
const NEW_TOKEN = 'token-new-9876543210';

before(async () => {
  backend = await startEchoBackend('w');
  gw = await startGateway(config(OLD_TOKEN), { workers: 2 });
  await waitFor('both workers', () => gw.proc.output().includes('started 2 workers'));
});

after(async () => {
  const code = await gw?.stop();
  await backend?.close();
  assert.equal(code, 0, 'the primary exits 0 after SIGTERM');
});

test('-workers=2 forks two worker processes and requests are served by both', async () => {
  assert.equal(workerPids(gw.proc.pid).length, 2);
  const answers = await Promise.all(Array.from({ length: 20 }, () => get('/x', { authorization: basic('alice', 'alice-secret-1') })));
  assert.deepEqual(answers.map((a) => a.status), answers.map(() => 200));
  const m = (await get('/metrics')).body;
  const w0 = sample(m, 'tenantgate_worker_requests_total{worker="0"}') ?? 0;
  const w1 = sample(m, 'tenantgate_worker_requests_total{worker="1"}') ?? 0;
  assert.ok(w0 > 0 && w1 > 0, `both workers served requests (worker 0: ${w0}, worker 1: ${w1})`);
  assert.equal(w0 + w1, 20);
  assert.equal(sample(m, 'tenantgate_workers'), 2);
  assert.equal(sample(m, 'tenantgate_workers_scraped'), 2);
});

test('/metrics from either worker shows the exact global per-user counts', async () => {
  const before = (await get('/metrics')).body;
  const base = (s: string) => sample(before, s) ?? 0;
  const alice0 = base('vmauth_user_requests_total{username="alice"}');
  const bob0 = base('vmauth_user_requests_total{username="bob"}');
  const bad0 = base('vmauth_http_request_errors_total{reason="invalid_auth_token"}');
  const reqs: Promise<Answer>[] = [];
  for (let i = 0; i < 30; i++) reqs.push(get(`/a${i}`, { authorization: basic('alice', 'alice-secret-1') }));
  for (let i = 0; i < 11; i++) reqs.push(get(`/b${i}`, { authorization: basic('bob', 'bob-secret-22') }));
  for (let i = 0; i < 7; i++) reqs.push(get('/c', { authorization: basic('mallory', 'guess-guess') }));
  const answers = await Promise.all(reqs);
  assert.equal(answers.filter((a) => a.status === 200).length, 41);
  assert.equal(answers.filter((a) => a.status === 401).length, 7);
  // Several scrapes on fresh connections reach both workers; every one sees the same totals.
  for (let i = 0; i < 6; i++) {
    const m = (await get('/metrics')).body;
    assert.equal(sample(m, 'vmauth_user_requests_total{username="alice"}'), alice0 + 30);
    assert.equal(sample(m, 'vmauth_user_requests_total{username="bob"}'), bob0 + 11);
    assert.equal(sample(m, 'vmauth_user_request_backend_requests_total{username="bob"}'), bob0 + 11);
    assert.equal(sample(m, 'vmauth_http_request_errors_total{reason="invalid_auth_token"}'), bad0 + 7);
    assert.equal(sample(m, 'vmauth_user_request_duration_seconds_count{username="alice"}'), alice0 + 30);
    // Per-worker shares of the per-user limit add up to the configured 100.
    assert.equal(sample(m, 'vmauth_user_concurrent_requests_capacity{username="alice"}'), 100);
    assert.equal(sample(m, 'vmauth_concurrent_requests_capacity'), 1000);
    assert.equal(sample(m, 'vmauth_user_concurrent_requests_current{username="alice"}'), 0);
  }
});

test('a token rotated through /-/reload is refused by every worker afterwards', async () => {
  gw.writeConfig(config(NEW_TOKEN));
  const r = await get('/-/reload', {}, 'POST');
  assert.equal(r.status, 200, r.body);
  const old = await Promise.all(Array.from({ length: 16 }, () => get('/r', { authorization: `Bearer ${OLD_TOKEN}` })));
  assert.deepEqual(old.map((a) => a.status), old.map(() => 401), 'the old token must be refused on every connection');
  const fresh = await Promise.all(Array.from({ length: 16 }, () => get('/r', { authorization: `Bearer ${NEW_TOKEN}` })));
  assert.deepEqual(fresh.map((a) => a.status), fresh.map(() => 200));
  for (let i = 0; i < 4; i++) {
    const m = (await get('/metrics')).body;
    assert.equal(sample(m, 'vmauth_config_last_reload_total'), 1);
    assert.equal(sample(m, 'vmauth_config_last_reload_successful'), 1);
    assert.equal(sample(m, 'vmauth_config_last_reload_errors_total'), 0);
  }
  assert.equal(gw.proc.output().split('\n').filter((l) => l.includes('reloaded -auth.config') && l.includes('in 2 workers')).length, 1);
});

test('a broken config keeps every worker on the last good one and flips the reload metric', async () => {
  gw.writeConfig('users:\n  - username: [broken\n');
  const r = await get('/-/reload', {}, 'POST');
  assert.equal(r.status, 400, r.body);
  for (let i = 0; i < 4; i++) {
    const m = (await get('/metrics')).body;
    assert.equal(sample(m, 'vmauth_config_last_reload_successful'), 0);
    assert.equal(sample(m, 'vmauth_config_last_reload_errors_total'), 1);
    assert.equal(sample(m, 'vmauth_config_last_reload_total'), 2);
  }
  const still = await Promise.all(Array.from({ length: 16 }, () => get('/r', { authorization: `Bearer ${NEW_TOKEN}` })));
  assert.deepEqual(still.map((a) => a.status), still.map(() => 200), 'every worker still runs the last good config');
  const old = await Promise.all(Array.from({ length: 8 }, () => get('/r', { authorization: `Bearer ${OLD_TOKEN}` })));
  assert.deepEqual(old.map((a) => a.status), old.map(() => 401));

  // SIGHUP to one worker reloads all of them; a fixed file flips the metric back everywhere.
  gw.writeConfig(config(NEW_TOKEN));
  const [worker] = workerPids(gw.proc.pid);
  process.kill(worker as number, 'SIGHUP');
  const deadline = Date.now() + 10_000;
  let ok = 0;
  while (Date.now() < deadline) {
    const m = (await get('/metrics')).body;
    ok = sample(m, 'vmauth_config_last_reload_successful') ?? -1;
    if (ok === 1) {
      assert.equal(sample(m, 'vmauth_config_last_reload_total'), 3);
      break;
    }
    await sleep(100);
  }
  assert.equal(ok, 1, 'the SIGHUP reload succeeded in every worker');
});

test('a killed worker is restarted on the current config', async () => {
  const before = workerPids(gw.proc.pid);
  assert.equal(before.length, 2);
  process.kill(before[0] as number, 'SIGKILL');
  await waitFor('the restart log line', () => gw.proc.output().includes('exited unexpectedly with signal SIGKILL; restarting it'));
  await waitFor('a new worker process', () => {
    const now = workerPids(gw.proc.pid);
    return now.length === 2 && !now.includes(before[0] as number);
  });
  // Until the new worker is listening, connections go to the survivor; either way the rotated
  // token rule must hold on every connection.
  let restartedSeen = false;
  const deadline = Date.now() + 15_000;
  while (!restartedSeen && Date.now() < deadline) {
    const m = (await get('/metrics')).body;
    restartedSeen = sample(m, 'tenantgate_worker_restarts_total') === 1 && sample(m, 'tenantgate_workers_scraped') === 2;
    if (!restartedSeen) await sleep(100);
  }
  assert.ok(restartedSeen, 'the restart is counted and both workers answer scrapes again');
  const old = await Promise.all(Array.from({ length: 16 }, () => get('/r', { authorization: `Bearer ${OLD_TOKEN}` })));
  assert.deepEqual(old.map((a) => a.status), old.map(() => 401), 'the restarted worker must not fall back to an old token');
  const fresh = await Promise.all(Array.from({ length: 16 }, () => get('/r', { authorization: `Bearer ${NEW_TOKEN}` })));
  assert.deepEqual(fresh.map((a) => a.status), fresh.map(() => 200));
  const m = (await get('/metrics')).body;
  assert.ok((sample(m, 'tenantgate_worker_requests_total{worker="0"}') ?? 0) > 0 && (sample(m, 'tenantgate_worker_requests_total{worker="1"}') ?? 0) > 0);
});
