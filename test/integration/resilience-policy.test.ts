// Load balancing policies and retries through the tenantgate process: first_available keeps
// everything on the first backend until it is down, moves to the next without failing a
// request, and returns only after -failTimeout; retry_status_codes tries each backend at most
// once per request.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startGateway, type Gateway } from '../helpers/gateway.ts';
import { sleep } from '../helpers/processes.ts';

interface Node { name: string; port: number; hits: number; firstHitAt: number; status: number; server: Server | null }

async function listen(n: Node): Promise<void> {
  const srv = createServer((req, res) => {
    n.hits++;
    if (n.firstHitAt === 0) n.firstHitAt = Date.now();
    req.resume();
    req.on('end', () => { res.writeHead(n.status); res.end(n.name); });
  });
  await new Promise<void>((resolve) => srv.listen(n.port, '127.0.0.1', resolve));
  n.port = (srv.address() as AddressInfo).port;
  n.server = srv;
}

async function stop(n: Node): Promise<void> {
  const s = n.server;
  n.server = null;
  if (s === null) return;
  s.closeAllConnections();
  await new Promise<void>((r) => s.close(() => r()));
}

const node = (name: string): Node => ({ name, port: 0, hits: 0, firstHitAt: 0, status: 200, server: null });
const FAIL_TIMEOUT_MS = 1000;
const fa = [node('a'), node('b'), node('c')];
const r503 = [node('r1'), node('r2'), node('r3')];
let gw: Gateway;

before(async () => {
  for (const n of [...fa, ...r503]) await listen(n);
  const urls = (ns: Node[]) => `[${ns.map((n) => `"http://127.0.0.1:${n.port}/"`).join(', ')}]`;
  gw = await startGateway(`
unauthorized_user:
  url_map:
  - src_paths: ["/fa/.*"]
    url_prefix: ${urls(fa)}
    load_balancing_policy: first_available
  - src_paths: ["/retry/.*"]
    url_prefix: ${urls(r503)}
    retry_status_codes: [503]
`, { flags: [`-failTimeout=${FAIL_TIMEOUT_MS}ms`, '-loggerLevel=ERROR'] });
});

after(async () => {
  await gw?.stop();
  for (const n of [...fa, ...r503]) await stop(n);
});

async function get(path: string, body?: string): Promise<{ status: number; body: string }> {
  const r = await fetch(`${gw.url}${path}`, body === undefined ? {} : { method: 'POST', body });
  return { status: r.status, body: await r.text() };
}

const counts = (ns: Node[]) => ns.map((n) => n.hits);

describe('first_available', () => {
  test('everything goes to the first backend while it is up', async () => {
    for (let i = 0; i < 20; i++) assert.deepEqual(await get(`/fa/${i}`), { status: 200, body: 'a' });
    assert.deepEqual(counts(fa), [20, 0, 0]);
  });

  test('when it goes down, requests move to the next one without a failure, and come back only after -failTimeout', async () => {
    const [a, b, c] = fa as [Node, Node, Node];
    await stop(a);
    const downAt = Date.now();
    for (let i = 0; i < 10; i++) assert.deepEqual(await get(`/fa/down-${i}`, 'payload'), { status: 200, body: 'b' });
    assert.equal(b.hits, 10);
    // The first backend is back at once, but stays skipped until -failTimeout has passed.
    a.firstHitAt = 0;
    await listen(a);
    let backAt = 0;
    for (let i = 0; i < 100 && backAt === 0; i++) {
      const r = await get(`/fa/back-${i}`);
      assert.equal(r.status, 200);
      if (r.body === 'a') backAt = Date.now(); else await sleep(30);
    }
    assert.ok(backAt > 0, 'the first backend gets the traffic again');
    assert.ok(a.firstHitAt - downAt >= FAIL_TIMEOUT_MS, `back after ${a.firstHitAt - downAt} ms, inside -failTimeout`);

    await stop(a);
    await stop(b);
    for (let i = 0; i < 5; i++) assert.deepEqual(await get(`/fa/third-${i}`), { status: 200, body: 'c' });
    assert.equal(c.hits, 5);
  });
});

describe('retry_status_codes', () => {
  test('a request is retried on each backend at most once, then answered 502', async () => {
    for (const n of r503) n.status = 503;
    const r = await get('/retry/all-busy', 'body');
    assert.equal(r.status, 502);
    assert.match(r.body, /all the 3 backends .* are unavailable/);
    assert.deepEqual(counts(r503), [1, 1, 1]);
  });

  test('the first backend that answers with another status serves the request', async () => {
    await sleep(FAIL_TIMEOUT_MS + 300); // let the backends marked broken above come back
    for (const n of r503) { n.hits = 0; n.status = 503; }
    (r503[2] as Node).status = 200;
    const r = await get('/retry/one-ok', 'body');
    assert.deepEqual(r, { status: 200, body: 'r3' });
    assert.ok(counts(r503).every((h) => h <= 1), `hits ${counts(r503).join('/')}`);
  });
});
