// Graceful shutdown of the tenantgate process under load: after SIGTERM /health reports
// not-ready for -http.shutdownDelay while requests are still served, then the listener closes
// (new connections are refused), every request already in flight completes, and the process
// exits 0 only after the last of them.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startGateway, type Gateway } from '../helpers/gateway.ts';
import { sleep } from '../helpers/processes.ts';

const SLOW_MS = 1500;
const DELAY_MS = 600;
const IN_FLIGHT = 20;

let backend: Server;
let backendUrl: string;
let received = 0;
let gw: Gateway;

interface Outcome { status: number; body: string; at: number }

function get(path: string): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const req = request(`${gw.url}${path}`, { agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), at: Date.now() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

before(async () => {
  backend = createServer((req, res) => {
    received++;
    const slow = req.url?.startsWith('/slow') ?? false;
    setTimeout(() => res.end(`done ${req.url}`), slow ? SLOW_MS : 5);
  });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  backendUrl = `http://127.0.0.1:${(backend.address() as AddressInfo).port}`;
  gw = await startGateway(`
unauthorized_user:
  url_prefix: ${backendUrl}
`, { flags: [`-http.shutdownDelay=${DELAY_MS}ms`, '-http.maxGracefulShutdownDuration=10s'] });
});

after(async () => {
  await gw?.stop();
  backend.closeAllConnections();
  await new Promise<void>((r) => backend.close(() => r()));
});

test('SIGTERM during load: in-flight requests complete, /health turns not-ready, then new connections are refused', async () => {
  const slow = Array.from({ length: IN_FLIGHT }, (_, i) => get(`/slow/${i}`));
  // Background load of short requests on fresh connections until the listener is gone.
  let stop = false;
  const background: { ok: number; refused: number; bad: string[] } = { ok: 0, refused: 0, bad: [] };
  const loop = (async () => {
    for (let i = 0; i < 5000 && !stop; i++) {
      try {
        const r = await get(`/fast/${i}`);
        if (r.status === 200 && r.body === `done /fast/${i}`) background.ok++; else background.bad.push(`${r.status} ${r.body}`);
      } catch (err) {
        const code = (err as { code?: string }).code ?? '';
        // Refused (or reset in the accept backlog) before the request was read: never half-answered.
        if (code === 'ECONNREFUSED' || code === 'ECONNRESET') { background.refused++; await sleep(20); } else background.bad.push(code || (err as Error).message);
      }
    }
  })();
  for (let i = 0; i < 100 && received < IN_FLIGHT; i++) await sleep(20);
  assert.ok(received >= IN_FLIGHT, 'the slow requests reached the backend');

  const sigtermAt = Date.now();
  process.kill(gw.proc.pid, 'SIGTERM');
  await sleep(100);
  const health = await get('/health');
  assert.equal(health.status, 503, '/health reports not-ready during -http.shutdownDelay');
  assert.match(health.body, /delayed shutdown mode/);
  const during = await get('/during-delay');
  assert.equal(during.status, 200, 'requests are still served during the delay');

  // After the delay the listener closes: a new connection is refused.
  let refusedAt = 0;
  for (let i = 0; i < 150 && refusedAt === 0; i++) {
    try { await get('/probe'); await sleep(20); } catch (err) {
      if ((err as { code?: string }).code === 'ECONNREFUSED') refusedAt = Date.now();
    }
  }
  assert.ok(refusedAt > 0, 'new connections are refused after the shutdown delay');
  assert.ok(refusedAt - sigtermAt >= DELAY_MS, `refused ${refusedAt - sigtermAt} ms after SIGTERM, before -http.shutdownDelay`);

  const results = await Promise.all(slow);
  for (const [i, r] of results.entries()) {
    assert.equal(r.status, 200);
    assert.equal(r.body, `done /slow/${i}`);
  }
  const exitCode = await gw.proc.exited;
  const exitedAt = Date.now();
  stop = true;
  await loop;
  assert.equal(exitCode, 0);
  assert.ok(exitedAt >= Math.max(...results.map((r) => r.at)), 'the process outlived its last in-flight request');
  assert.ok(refusedAt < Math.max(...results.map((r) => r.at)), 'the listener closed while requests were still in flight');
  assert.deepEqual(background.bad, [], 'no background request got a wrong or partial answer');
  assert.ok(background.ok > 0 && background.refused > 0, `background: ${JSON.stringify(background)}`);
});
