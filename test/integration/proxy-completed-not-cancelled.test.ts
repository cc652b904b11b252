// A client that has its whole answer may close the connection before the backend's chunked
// terminator reaches the gateway (Go clients that decode a complete JSON body do: vmalert). Such a
// request completed and must be logged and counted with its status, never as 499
// client_canceled; a client that leaves a response the backend never finishes still is one.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { basic, startGateway, type Gateway } from '../helpers/gateway.ts';
import { sleep } from '../helpers/processes.ts';

const BODY = '{"status":"success","data":{"resultType":"vector","result":[]}}';
let backend: Server;
let gw: Gateway;
/** Backend sockets waiting to send their terminator, by request path. */
const waiting = new Map<string, Socket>();

before(async () => {
  backend = createServer((sock) => {
    let head = '';
    sock.on('data', (b) => {
      head += b.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      const path = head.split(' ')[1] ?? '/';
      head = '';
      // Headers and the whole JSON body now; the terminating chunk only when the test says so.
      sock.write(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${BODY.length.toString(16)}\r\n${BODY}\r\n`);
      waiting.set(path, sock);
    });
    sock.on('error', () => { /* the gateway may cut it */ });
  });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  const port = (backend.address() as AddressInfo).port;
  gw = await startGateway(`users:
- username: reader
  password: reader-secret
  access_log: {}
  url_prefix: "http://127.0.0.1:${port}/"
`);
});

after(async () => {
  await gw?.stop();
  for (const s of waiting.values()) s.destroy();
  await new Promise<void>((r) => backend.close(() => r()));
});

/** Sends one GET through the gateway and closes the connection as soon as the whole JSON body is in. */
function getAndLeave(path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = connect(gw.port, '127.0.0.1', () => {
      s.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: ${basic('reader', 'reader-secret')}\r\n\r\n`);
    });
    let got = '';
    const timer = setTimeout(() => { s.destroy(); reject(new Error(`no body for ${path}: ${got}`)); }, 10_000);
    s.on('data', (b) => {
      got += b.toString('latin1');
      if (got.includes(BODY)) { clearTimeout(timer); s.destroy(); resolve(); }
    });
    s.on('error', reject);
  });
}

async function accessLine(path: string): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const line = gw.proc.output().split('\n').find((l) => l.includes('access_log') && l.includes(path));
    if (line !== undefined) return line;
    await sleep(100);
  }
  assert.fail(`no access log line for ${path}:\n${gw.proc.output()}`);
}

async function canceledCount(): Promise<number> {
  const text = await (await fetch(`${gw.url}/metrics`)).text();
  const l = text.split('\n').find((x) => x.startsWith('vmauth_http_request_errors_total{reason="client_canceled"}'));
  return l === undefined ? 0 : Number(l.slice(l.lastIndexOf(' ') + 1));
}

test('a client that read the whole answer and left before the chunked terminator is logged with 200, not 499', async () => {
  await getAndLeave('/api/v1/query?x=complete');
  // The client is gone; only now does the backend finish its answer.
  await sleep(50);
  waiting.get('/api/v1/query?x=complete')?.write('0\r\n\r\n');
  const line = await accessLine('x=complete');
  assert.match(line, /status_code[=:"]+200\b/, line);
  assert.equal(await canceledCount(), 0);
});

test('a client that leaves a response the backend never finishes is still a 499 client_canceled', async () => {
  await getAndLeave('/api/v1/query?x=abandoned');
  const line = await accessLine('x=abandoned');
  assert.match(line, /status_code[=:"]+499\b/, line);
  assert.equal(await canceledCount(), 1);
});
