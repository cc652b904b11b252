// Concurrency limits and request buffering, end to end through the tenantgate process:
// max_concurrent_requests queues the surplus for -maxQueueDuration then answers 429, a waiter
// whose client disconnects leaves the queue at once, and a slow client is rejected with 408
// before it gets a concurrency slot or a backend connection.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type ClientRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basic, startGateway, type Gateway } from '../helpers/gateway.ts';
import { sleep } from '../helpers/processes.ts';

/** Holds every request until the test releases it; records paths and TCP connections. */
interface HoldingBackend {
  readonly url: string;
  readonly seen: string[];
  readonly held: Map<string, ServerResponse>;
  connections: number;
  release(path: string): void;
  releaseAll(): void;
  waitHeld(n: number): Promise<void>;
  close(): Promise<void>;
}

async function holdingBackend(hold: (path: string) => boolean): Promise<HoldingBackend> {
  const seen: string[] = [];
  const held = new Map<string, ServerResponse>();
  const srv: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? '';
    req.resume();
    req.on('end', () => {
      seen.push(path);
      if (hold(path)) held.set(path, res); else res.end(`ok ${path}`);
    });
  });
  const b: HoldingBackend = {
    url: '',
    seen,
    held,
    connections: 0,
    release(path) { const r = held.get(path); held.delete(path); r?.end(`ok ${path}`); },
    releaseAll() { for (const p of [...held.keys()]) b.release(p); },
    async waitHeld(n) {
      for (let i = 0; i < 100 && held.size < n; i++) await sleep(20);
      assert.equal(held.size, n, `expected ${n} held requests, have ${[...held.keys()].join(', ')}`);
    },
    close: () => new Promise<void>((resolve) => { srv.closeAllConnections(); srv.close(() => resolve()); }),
  };
  srv.on('connection', () => { b.connections++; });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  (b as { url: string }).url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  return b;
}

interface Reply { status: number; body: string; ms: number }

function send(path: string, auth: string, opts: { body?: string } = {}): { done: Promise<Reply>; req: ClientRequest } {
  const start = performance.now();
  let req!: ClientRequest;
  const done = new Promise<Reply>((resolve, reject) => {
    req = request(`${gw.url}${path}`, { method: opts.body !== undefined ? 'POST' : 'GET', agent: false, headers: { authorization: auth } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), ms: performance.now() - start }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
  return { done, req };
}

const LIMITED = basic('limited', 'limited-pass');
const SLOW = basic('slowpoke', 'slowpoke-pass');
const QUEUE_MS = 1000;

let backend: HoldingBackend;
let counting: HoldingBackend;
let gw: Gateway;

before(async () => {
  backend = await holdingBackend((p) => p.startsWith('/hold'));
  counting = await holdingBackend(() => false);
  gw = await startGateway(`
users:
- username: limited
  password: limited-pass
  url_prefix: ${backend.url}
  max_concurrent_requests: 2
- username: slowpoke
  password: slowpoke-pass
  url_prefix: ${counting.url}
  max_concurrent_requests: 1
`, { flags: [`-maxQueueDuration=${QUEUE_MS}ms`] });
});

after(async () => {
  backend?.releaseAll();
  await gw?.stop();
  await backend?.close();
  await counting?.close();
});

describe('max_concurrent_requests: 2', () => {
  test('the third concurrent request waits in the queue and runs when a slot frees', async () => {
    const r1 = send('/hold/1', LIMITED);
    const r2 = send('/hold/2', LIMITED);
    await backend.waitHeld(2);
    const r3 = send('/hold/3', LIMITED);
    await sleep(300);
    assert.ok(!backend.seen.includes('/hold/3'), 'the third request must not reach the backend while two run');
    backend.release('/hold/1');
    assert.equal((await r1.done).status, 200);
    await backend.waitHeld(2);
    assert.ok(backend.held.has('/hold/3'), 'the queued request got the freed slot');
    backend.releaseAll();
    assert.deepEqual([(await r2.done).status, (await r3.done).status], [200, 200]);
  });

  test('the surplus gets 429 with a clear message after -maxQueueDuration, without reaching the backend', async () => {
    const r1 = send('/hold/a', LIMITED);
    const r2 = send('/hold/b', LIMITED);
    await backend.waitHeld(2);
    const r3 = await send('/hold/c', LIMITED).done;
    assert.equal(r3.status, 429);
    assert.match(r3.body, /cannot start executing the request during -maxQueueDuration=1s because 2 concurrent requests from the user limited are executed/);
    assert.ok(r3.ms >= QUEUE_MS * 0.9, `answered after ${r3.ms} ms, before -maxQueueDuration`);
    assert.ok(!backend.seen.includes('/hold/c'));
    backend.releaseAll();
    assert.deepEqual([(await r1.done).status, (await r2.done).status], [200, 200]);
  });

  test('a waiter whose client disconnects leaves the queue at once; the next waiter gets the slot', async () => {
    const r1 = send('/hold/x1', LIMITED);
    const r2 = send('/hold/x2', LIMITED);
    await backend.waitHeld(2);
    const quitter = send('/hold/quitter', LIMITED);
    quitter.done.catch(() => {}); // the socket is destroyed on purpose
    await sleep(100);
    const patient = send('/hold/patient', LIMITED);
    await sleep(100);
    quitter.req.destroy();
    await sleep(100);
    backend.release('/hold/x1');
    await backend.waitHeld(2);
    assert.ok(backend.held.has('/hold/patient'), 'the slot went to the waiter still connected');
    assert.ok(!backend.seen.includes('/hold/quitter'), 'the disconnected waiter never reached the backend');
    backend.releaseAll();
    assert.deepEqual([(await r1.done).status, (await r2.done).status, (await patient.done).status], [200, 200, 200]);
  });
});

describe('request body buffering (-requestBufferSize)', () => {
  test('a client sending one byte per 100 ms is rejected with 408 without a backend connection or a concurrency slot', async () => {
    const connectionsBefore = counting.connections;
    const seenBefore = counting.seen.length;
    const start = performance.now();
    let written = 0;
    const reply = new Promise<Reply>((resolve, reject) => {
      const req = request(`${gw.url}/slow-upload`, { method: 'POST', agent: false, headers: { authorization: SLOW, 'content-length': '100' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), ms: performance.now() - start }));
      });
      req.on('error', reject);
      // Bounded: at most 40 bytes (4 s), far less than the 100 announced.
      const timer = setInterval(() => {
        if (written >= 40 || req.destroyed) { clearInterval(timer); return; }
        req.write('x');
        written++;
      }, 100);
      req.on('close', () => clearInterval(timer));
    });
    // While the slow upload is being buffered, the same user (limit 1) is served at once.
    await sleep(300);
    const quick = await send('/quick', SLOW).done;
    assert.equal(quick.status, 200, 'the slow client does not hold the user\'s only slot');
    const r = await reply;
    assert.equal(r.status, 408);
    assert.match(r.body, /reject request from the user slowpoke because the request body couldn't be read in -maxQueueDuration=1s/);
    assert.ok(r.ms < QUEUE_MS + 2000, `rejected after ${r.ms} ms`);
    assert.ok(written < 40, 'rejected before the client ran out of bytes');
    assert.deepEqual(counting.seen.slice(seenBefore), ['/quick'], 'only the quick request reached the backend');
    assert.equal(counting.connections - connectionsBefore, 1, 'the slow client never caused a backend connection');
  });
});
