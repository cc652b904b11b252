// -workers=N edges: concurrency limits are split between workers (never more than the configured
// limit in flight in total), SIGTERM to the primary drains in-flight requests in every worker and
// exits 0, start-up failures keep a single process's exit codes, -workers=1 forks nothing, and
// the default follows the CPUs available to the process (taskset).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { CLI, startGateway, type Gateway } from '../helpers/gateway.ts';
import { freePort, sleep, startProcess, tempDir, waitForHttp } from '../helpers/processes.ts';

interface Answer { status: number; body: string }

function get(base: string, path: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.setTimeout(15_000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

function sample(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) if (line.startsWith(series + ' ')) return Number(line.slice(series.length + 1));
  return undefined;
}

/** Child process ids (`ps` exits 1 when there are none). */
const children = (pid: number): number[] => {
  const r = spawnSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' });
  return r.stdout.split('\n').map((s) => Number(s.trim())).filter((n) => n > 0);
};

async function slowBackend(ms: number): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const slow = req.url?.includes('slow') ?? false;
    setTimeout(() => res.end(`done ${req.url}`), slow ? ms : 1);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

async function allWorkersUp(gw: Gateway, n: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!gw.proc.output().includes(`started ${n} workers`)) {
    if (Date.now() > deadline) throw new Error(`workers did not start:\n${gw.proc.output()}`);
    await sleep(50);
  }
}

test('concurrency limits are split between workers: never more than the configured limit in flight', async () => {
  const backend = await slowBackend(1200);
  const gw = await startGateway(`
users:
  - username: limited
    password: limited-secret
    max_concurrent_requests: 2
    url_prefix: ${backend.url}
`, { workers: 2, flags: ['-maxQueueDuration=300ms', '-maxConcurrentRequests=5'] });
  try {
    await allWorkersUp(gw, 2);
    const auth = `limited:limited-secret@`;
    const base = gw.url.replace('http://', `http://${auth}`);
    const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => get(base, `/slow/${i}`)));
    const ok = answers.filter((a) => a.status === 200).length;
    const refused = answers.filter((a) => a.status === 429).length;
    assert.equal(ok + refused, 6, JSON.stringify(answers));
    // Each worker admits its share (1 of 2): at most 2 at once over both, as configured.
    assert.ok(ok >= 1 && ok <= 2, `${ok} requests ran at once; the limit is 2`);
    const m = (await get(gw.url, '/metrics')).body;
    assert.equal(sample(m, 'vmauth_user_concurrent_requests_capacity{username="limited"}'), 2);
    // Every 429 is counted by exactly one limit: the user's, or the global one when the 6 requests
    // land unevenly and a worker's share of -maxConcurrentRequests (3 + 2) is the one that is full.
    const byUser = sample(m, 'vmauth_user_concurrent_requests_limit_reached_total{username="limited"}') ?? 0;
    const byGlobal = sample(m, 'vmauth_concurrent_requests_limit_reached_total') ?? 0;
    assert.equal(byUser + byGlobal, refused);
    assert.equal(sample(m, 'vmauth_concurrent_requests_capacity'), 5, 'the global limit splits 3 + 2');
  } finally {
    assert.equal(await gw.stop(), 0);
    await backend.close();
  }
});

test('SIGTERM to the primary drains in-flight requests in every worker and exits 0', async () => {
  const backend = await slowBackend(1500);
  const gw = await startGateway(`
unauthorized_user:
  url_prefix: ${backend.url}
`, { workers: 2, flags: ['-http.maxGracefulShutdownDuration=10s'] });
  await allWorkersUp(gw, 2);
  const workers = children(gw.proc.pid);
  assert.equal(workers.length, 2);
  const inFlight = Array.from({ length: 10 }, (_, i) => get(gw.url, `/slow/${i}`));
  // Every slow request has reached a worker (both of them) before the signal.
  const deadline = Date.now() + 5000;
  let m = '';
  while (Date.now() < deadline) {
    m = (await get(gw.url, '/metrics')).body;
    if (sample(m, 'vmauth_unauthorized_user_concurrent_requests_current') === 10) break;
    await sleep(25);
  }
  assert.equal(sample(m, 'vmauth_unauthorized_user_concurrent_requests_current'), 10, m);
  assert.ok((sample(m, 'tenantgate_worker_requests_total{worker="0"}') ?? 0) > 0 && (sample(m, 'tenantgate_worker_requests_total{worker="1"}') ?? 0) > 0, 'both workers hold requests');

  process.kill(gw.proc.pid, 'SIGTERM');
  const answers = await Promise.all(inFlight);
  assert.deepEqual(answers.map((a) => a.status), answers.map(() => 200), 'every in-flight request completes');
  assert.equal(await gw.proc.exited, 0);
  await assert.rejects(get(gw.url, '/health'), 'the listener is gone');
  for (const pid of workers) assert.throws(() => process.kill(pid, 0), 'no worker outlives the primary');
  assert.match(gw.proc.output(), /received SIGTERM; draining 2 workers/);
  await gw.stop();
  await backend.close();
});

test('start-up failures keep the single-process exit codes with -workers=2', () => {
  const dir = tempDir('tenantgate-workers-');
  try {
    const bad = join(dir.path, 'bad.yml');
    writeFileSync(bad, 'users:\n  - username: [oops\n');
    const r1 = spawnSync(process.execPath, [CLI, `-auth.config=${bad}`, '-workers=2', '-httpListenAddr=127.0.0.1:0'], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r1.status, 1, r1.stderr);
    assert.match(r1.stderr, /cannot load -auth\.config/);
    assert.doesNotMatch(r1.stderr, /started/, 'no worker is forked for a broken config');
    const r2 = spawnSync(process.execPath, [CLI, `-auth.config=${bad}`, '-workers=-1'], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r2.status, 2);
    assert.match(r2.stderr, /invalid value "-1" for flag -workers/);
  } finally {
    dir.remove();
  }
});

test('-workers=1 is one process: no cluster, no worker metrics', async () => {
  const backend = await slowBackend(10);
  const gw = await startGateway(`
unauthorized_user:
  url_prefix: ${backend.url}
`, { flags: ['-workers=1'] });
  try {
    assert.deepEqual(children(gw.proc.pid), []);
    assert.equal((await get(gw.url, '/x')).status, 200);
    const m = (await get(gw.url, '/metrics')).body;
    assert.equal(sample(m, 'vmauth_unauthorized_user_requests_total'), 1);
    assert.doesNotMatch(m, /tenantgate_worker/);
    assert.doesNotMatch(gw.proc.output(), /workers/);
  } finally {
    assert.equal(await gw.stop(), 0);
    await backend.close();
  }
});

test('the default -workers follows the CPUs available to the process (taskset -c 0 gives one)', async (t) => {
  if (spawnSync('taskset', ['-c', '0', 'true']).status !== 0) { t.skip('taskset is not available'); return; }
  const dir = tempDir('tenantgate-workers-');
  const cfg = join(dir.path, 'auth.yml');
  writeFileSync(cfg, 'unauthorized_user:\n  url_prefix: http://127.0.0.1:1/\n');
  try {
    const port = await freePort();
    const pinned = startProcess('taskset', ['-c', '0', process.execPath, CLI, `-auth.config=${cfg}`, `-httpListenAddr=127.0.0.1:${port}`]);
    try {
      await waitForHttp(`http://127.0.0.1:${port}/health`, pinned);
      assert.deepEqual(children(pinned.pid), [], 'one CPU: a single process');
    } finally {
      assert.equal(await pinned.stop(), 0);
    }
    const cpus = availableParallelism();
    if (cpus < 2) return;
    const port2 = await freePort();
    const free = startProcess(process.execPath, [CLI, `-auth.config=${cfg}`, `-httpListenAddr=127.0.0.1:${port2}`]);
    try {
      const deadline = Date.now() + 15_000;
      while (!free.output().includes(`started ${cpus} workers`) && Date.now() < deadline) await sleep(50);
      assert.equal(children(free.pid).length, cpus, free.output());
    } finally {
      assert.equal(await free.stop(), 0);
    }
  } finally {
    dir.remove();
  }
});
