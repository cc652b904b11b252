// Failover under load, end to end: 20,000 requests (half idempotent GETs, half small POSTs that
// fit -maxRequestBodySizeToRetry) through the tenantgate process to three backend processes,
// one of which is SIGKILLed mid-run and restarted on the same port. No client request may fail,
// the restarted backend must get no traffic before -failTimeout has passed since it broke, and
// it must get traffic again afterwards.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Pool } from 'undici';
import { startGateway, type Gateway } from '../helpers/gateway.ts';
import { freePort, sleep, startProcess, waitForHttp, type RunningProcess } from '../helpers/processes.ts';

/** A backend process: answers `<name> <method> <body bytes>`; /__stats reports what it served. */
const BACKEND = `
const http = require('node:http');
const [port, name] = process.argv.slice(1);
let count = 0, first = 0, last = 0;
const srv = http.createServer((req, res) => {
  if (req.url === '/__stats') { res.end(JSON.stringify({ count, first, last })); return; }
  let size = 0;
  req.on('data', (c) => { size += c.length; });
  req.on('end', () => {
    const now = Date.now();
    count++; if (first === 0) first = now; last = now;
    const body = name + ' ' + req.method + ' ' + size;
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});
srv.keepAliveTimeout = 30000;
srv.listen(Number(port), '127.0.0.1');
`;

interface Stats { count: number; first: number; last: number }

const TOTAL = 20_000;
const CONCURRENCY = 24;
const FAIL_TIMEOUT_MS = 2000;
const TIME_LIMIT_MS = 45_000;

let ports: number[] = [];
const procs: RunningProcess[] = [];
let gw: Gateway;

async function startBackend(i: number): Promise<RunningProcess> {
  const p = startProcess(process.execPath, ['-e', BACKEND, String(ports[i]), `b${i}`]);
  await waitForHttp(`http://127.0.0.1:${ports[i]}/__stats`, p, 10_000);
  return p;
}

async function stats(i: number): Promise<Stats> {
  const r = await fetch(`http://127.0.0.1:${ports[i]}/__stats`);
  return await r.json() as Stats;
}

before(async () => {
  ports = [await freePort(), await freePort(), await freePort()];
  for (let i = 0; i < 3; i++) procs[i] = await startBackend(i);
  gw = await startGateway(`
unauthorized_user:
  url_prefix:
  - http://127.0.0.1:${ports[0]}/
  - http://127.0.0.1:${ports[1]}/
  - http://127.0.0.1:${ports[2]}/
`, { flags: [`-failTimeout=${FAIL_TIMEOUT_MS}ms`, '-loggerLevel=ERROR'] });
});

after(async () => {
  await gw?.stop();
  await Promise.all(procs.map((p) => p?.stop()));
});

test('20,000 GETs and buffered POSTs survive a backend being killed and restarted; the broken backend is skipped for -failTimeout', async () => {
  const client = new Pool(gw.url, { connections: CONCURRENCY, pipelining: 1 });
  const postBody = Buffer.alloc(1024, 'x');
  const failures: string[] = [];
  const servedBy = new Map<string, number>();
  let next = 0;
  let done = 0;
  let killAt = 0;
  let restarted: Promise<void> | null = null;
  const deadline = Date.now() + TIME_LIMIT_MS;
  const started = performance.now();

  const worker = async () => {
    while (next < TOTAL && Date.now() < deadline) {
      const i = next++;
      const post = i % 2 === 1;
      try {
        const r = await client.request({
          method: post ? 'POST' : 'GET', path: `/api/v1/query?i=${i}`,
          ...(post ? { body: postBody, headers: { 'content-type': 'application/octet-stream' } } : {}),
        });
        const text = await r.body.text();
        const m = /^(b\d) (GET|POST) (\d+)$/.exec(text);
        if (r.statusCode !== 200 || m === null || m[3] !== (post ? '1024' : '0')) failures.push(`#${i}: ${r.statusCode} ${text.slice(0, 200)}`);
        else servedBy.set(m[1] as string, (servedBy.get(m[1] as string) ?? 0) + 1);
      } catch (err) {
        failures.push(`#${i}: ${(err as Error).message}`);
      }
      done++;
      if (done === Math.floor(TOTAL / 4) && killAt === 0) {
        // SIGKILL: no graceful close; in-flight requests and idle keep-alive sockets break.
        killAt = Date.now();
        process.kill(procs[1]?.pid as number, 'SIGKILL');
        restarted = (async () => {
          await procs[1]?.exited;
          await sleep(300);
          procs[1] = await startBackend(1);
        })();
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = (performance.now() - started) / 1000;
  await restarted;
  await client.close();

  assert.equal(done, TOTAL, `only ${done} requests finished within ${TIME_LIMIT_MS} ms`);
  assert.deepEqual(failures.slice(0, 10), [], `${failures.length} client requests failed`);
  assert.ok(killAt > 0);

  const s0 = await stats(0);
  const s2 = await stats(2);
  // Everything the client saw was served by some backend, none twice: retries only after failures.
  assert.equal((servedBy.get('b0') ?? 0) + (servedBy.get('b1') ?? 0) + (servedBy.get('b2') ?? 0), TOTAL);
  assert.equal(s0.count, servedBy.get('b0'));
  assert.equal(s2.count, servedBy.get('b2'));
  // least_loaded spreads the load: each healthy backend took a fair share.
  // The two backends that stayed up share the load; the restarted one's share depends on how long
  // the run lasts after its -failTimeout, so it is checked above only for getting traffic again.
  for (const name of ['b0', 'b2']) assert.ok((servedBy.get(name) ?? 0) > TOTAL / 10, `${name} served only ${servedBy.get(name) ?? 0}`);
  // A fast run can end before the restarted backend is due again (it returns after -failTimeout,
  // once a probe reaches it): keep a trickle of requests going (bounded: 10 s) until it is served.
  let revived = await stats(1);
  const until = Date.now() + 10_000;
  while (revived.count === 0 && Date.now() < until) {
    const r = await fetch(`${gw.url}/api/v1/query?revival=1`);
    await r.arrayBuffer();
    await sleep(50);
    revived = await stats(1);
  }
  assert.ok(revived.count > 0, 'the restarted backend gets traffic again once it is reachable');
  assert.ok(revived.first >= killAt + FAIL_TIMEOUT_MS,
    `the restarted backend got a request ${revived.first - killAt} ms after it was killed, inside -failTimeout=${FAIL_TIMEOUT_MS}ms`);
  process.stdout.write(`# ${TOTAL} requests in ${seconds.toFixed(1)} s (${Math.round(TOTAL / seconds)} req/s); served by ${JSON.stringify(Object.fromEntries(servedBy))}; restarted backend first hit ${revived.first - killAt} ms after the kill\n`);
});
