// Fair admission, end to end: tenant A attacks the gateway's shared admission resources
// (global concurrency slots, body memory, connections, header reads, tenant-enforced body
// reads) while tenant B runs a steady query loop against a real VictoriaMetrics through the
// same gateway. B must get no errors; A gets the documented 408/413/429 or a closed connection.
// Latencies are printed for the reader, never asserted.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { basic, startGateway, type Gateway } from '../helpers/gateway.ts';
import { sleep } from '../helpers/processes.ts';
import { startVictoriaMetrics, type VictoriaMetrics } from '../helpers/victoria-metrics.ts';

const A = basic('team-a', 'a-secret-pw');
const B = basic('team-b', 'b-secret-pw');
const QUEUE_MS = 2000;

let vm: VictoriaMetrics;
let gw: Gateway;

before(async () => {
  vm = await startVictoriaMetrics();
  gw = await startGateway(`
users:
- username: team-a
  password: a-secret-pw
  max_concurrent_requests: 4
  url_map:
  - src_paths: ["/tenant/.*"]
    drop_src_path_prefix_parts: 1
    url_prefix: ${vm.url}
    tenant: {labels: {tenant: team-a}, enforce: victoriametrics}
  - src_paths: ["/.*"]
    url_prefix: ${vm.url}
- username: team-b
  password: b-secret-pw
  url_prefix: ${vm.url}
  tenant: {labels: {tenant: team-b}, enforce: victoriametrics}
`, {
    flags: [
      '-maxConcurrentRequests=6',
      `-maxQueueDuration=${QUEUE_MS}ms`,
      '-maxConnectionsPerUser=12',
      '-maxBufferedBytesPerUser=1MiB',
      '-http.headerReadTimeout=1s',
      '-requestBodyIdleTimeout=1s',
    ],
  });
});

after(async () => {
  await gw?.stop();
  await vm?.stop();
});

interface Reply { status: number; body: string; headers: Record<string, string | string[] | undefined> }

function send(path: string, auth: string, opts: { method?: string; body?: Buffer | string; headers?: Record<string, string> } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(`${gw.url}${path}`, { method: opts.method ?? 'GET', agent: false, headers: { authorization: auth, ...opts.headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), headers: res.headers }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Tenant B's steady query loop: bounded by count and by a stop flag. Records statuses and latencies. */
function steadyQueries(stop: { done: boolean }): Promise<{ statuses: number[]; ms: number[] }> {
  return (async () => {
    const statuses: number[] = [];
    const ms: number[] = [];
    for (let i = 0; i < 400 && !stop.done; i++) {
      const t = performance.now();
      const r = await send('/api/v1/query?query=up', B);
      statuses.push(r.status);
      ms.push(performance.now() - t);
      await sleep(20);
    }
    return { statuses, ms };
  })();
}

function summary(ms: number[]): string {
  const s = [...ms].sort((x, y) => x - y);
  const q = (p: number) => (s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? 0).toFixed(1);
  return `n=${s.length} p50=${q(0.5)}ms p99=${q(0.99)}ms max=${q(1)}ms`;
}

/** A raw connection that sends headers announcing a body, then `bytes` body bytes slowly. */
function trickle(path: string, auth: string, declared: number, bytes: number, everyMs: number): { done: Promise<string>; socket: Socket } {
  const socket = connect(gw.port, '127.0.0.1');
  let answer = '';
  const done = new Promise<string>((resolve) => {
    socket.on('data', (c) => { answer += c.toString(); });
    socket.on('close', () => resolve(answer));
    socket.on('error', () => { /* the gateway may reset the connection */ });
  });
  socket.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${declared}\r\n\r\n`);
  let sent = 0;
  const timer = setInterval(() => {
    if (sent >= bytes || socket.destroyed) { clearInterval(timer); return; }
    socket.write('a');
    sent++;
  }, everyMs);
  socket.on('close', () => clearInterval(timer));
  return { done, socket };
}

describe('noisy neighbour: admission', () => {
  test('slow bodies from tenant A hold no global slot: tenant B is served throughout, A gets 408', async () => {
    const stop = { done: false };
    const loop = steadyQueries(stop);
    // More slow uploads than there are global slots (6); each trickles a byte every 200 ms.
    const attacks = Array.from({ length: 16 }, () => trickle('/api/v1/import/prometheus', A, 1000, 30, 200));
    const answers = await Promise.all(attacks.map((a) => a.done));
    stop.done = true;
    const b = await loop;
    console.log(`tenant B during the slow-body attack: ${summary(b.ms)}`);
    assert.ok(b.statuses.length > 5, 'tenant B kept querying');
    assert.deepEqual([...new Set(b.statuses)], [200], 'tenant B got only 200s');
    const statuses = answers.map((a) => Number(/^HTTP\/1\.1 (\d+)/.exec(a)?.[1] ?? 0));
    // 12 connections are admitted and time out reading the body (408); the rest exceed A's connection cap (429).
    assert.ok(statuses.every((s) => s === 408 || s === 429), `attacker statuses: ${statuses.join(',')}`);
    assert.ok(statuses.includes(408), 'slow bodies are cut off with 408');
  });

  test('a slow tenant-enforced body is cut off after -maxQueueDuration (408), past the 32 KiB buffer', async () => {
    // 256 KiB announced: more than is read in one piece, so the tenant read continues the stream.
    const t = trickle('/tenant/api/v1/import/prometheus', A, 256 * 1024, 0, 1000);
    // Send 40 KiB at once so buffering ends and the tenant read of the rest begins, then nothing more.
    t.socket.write(Buffer.alloc(40 * 1024, 0x61));
    const answer = await t.done;
    assert.match(answer, /^HTTP\/1\.1 408/, answer.slice(0, 200));
    assert.match(answer, /couldn't be read in -maxQueueDuration=2s/);
  });

  test('a tenant-enforced body announced above max_body_size is refused with 413 before it is read', async () => {
    const r = await send('/tenant/api/v1/import/prometheus', A, { method: 'POST', headers: { 'content-length': String(33 * 1024 * 1024) }, body: '' }).catch((e: Error) => e);
    // The gateway answers before reading; the client may see the 413 or a reset after it.
    if (!(r instanceof Error)) {
      assert.equal(r.status, 413);
      assert.match(r.body, /larger than 33554432 bytes/);
    }
    const m = await (await fetch(`${gw.url}/metrics`)).text();
    assert.match(m, /vmauth_http_request_errors_total\{reason="tenant_body_too_large"\} [1-9]/);
  });

  test('body memory is capped per user: concurrent large bodies from A get 429 user_buffer_limit, B is served', async () => {
    // Tenant routes read whole bodies: each upload announces 512 KiB and sends half, so two hold the 1 MiB cap.
    const uploads = Array.from({ length: 2 }, () => trickle('/tenant/api/v1/import/prometheus', A, 512 * 1024, 0, 1000));
    for (const u of uploads) u.socket.write(Buffer.alloc(256 * 1024, 0x61));
    await sleep(300);
    const r = await send('/api/v1/import/prometheus', A, { method: 'POST', body: 'x 1\n' });
    const b = await send('/api/v1/query?query=up', B);
    for (const u of uploads) u.socket.destroy();
    await Promise.all(uploads.map((u) => u.done));
    assert.equal(b.status, 200, 'tenant B is served');
    assert.equal(r.status, 429, r.body);
    assert.match(r.body, /-maxBufferedBytesPerUser=1048576/);
    assert.equal(r.headers['retry-after'], '10');
  });

  test('connections are capped per user: the 13th connection of A gets 429 and is closed; B is served', async () => {
    const sockets: Socket[] = [];
    const answers: Promise<string>[] = [];
    // 12 keep-alive connections each make one request and stay open.
    for (let i = 0; i < 12; i++) {
      const s = connect(gw.port, '127.0.0.1');
      sockets.push(s);
      answers.push(new Promise((resolve) => {
        let got = '';
        s.on('data', (c) => { got += c.toString(); if (got.includes('\r\n\r\n')) resolve(got); });
        s.on('error', () => resolve(got));
      }));
      s.write(`GET /api/v1/query?query=1 HTTP/1.1\r\nHost: x\r\nAuthorization: ${A}\r\n\r\n`);
    }
    const first = await Promise.all(answers);
    assert.ok(first.every((a) => a.startsWith('HTTP/1.1 200')), 'the first 12 connections are served');
    const over = await send('/api/v1/query?query=1', A);
    const b = await send('/api/v1/query?query=up', B);
    for (const s of sockets) s.destroy();
    assert.equal(over.status, 429, over.body);
    assert.match(over.body, /-maxConnectionsPerUser=12/);
    assert.equal(over.headers.connection, 'close');
    assert.equal(b.status, 200, 'tenant B is served');
  });

  test('a client sending its headers slowly is disconnected after -http.headerReadTimeout; B is served', async () => {
    const s = connect(gw.port, '127.0.0.1');
    const closed = new Promise<string>((resolve) => {
      let got = '';
      s.on('data', (c) => { got += c.toString(); });
      s.on('close', () => resolve(got));
      s.on('error', () => { /* reset by the gateway */ });
    });
    s.write('GET /api/v1/query?query=up HTTP/1.1\r\nHost: x\r\n');
    let lines = 0;
    const timer = setInterval(() => { if (lines < 40 && !s.destroyed) { s.write(`X-Slow-${lines++}: y\r\n`); } }, 100);
    const answer = await closed;
    clearInterval(timer);
    assert.ok(lines < 40, `closed after ${lines} header lines (4 s would be 40)`);
    assert.ok(answer === '' || answer.startsWith('HTTP/1.1 408'), answer.slice(0, 100));
    const b = await send('/api/v1/query?query=up', B);
    assert.equal(b.status, 200);
  });
});
