// vmauth behaviours of the proxy, end to end: the tenantgate process between a client and
// recording backends on 127.0.0.1.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { basic, startGateway, type Gateway } from '../helpers/gateway.ts';
import { startEchoBackend, type EchoBackend } from '../helpers/echo-backend.ts';
import { freePort } from '../helpers/processes.ts';

let b1: EchoBackend;
let b2: EchoBackend;
let b3: EchoBackend;
let gw: Gateway;
let deadPort: number;

const last = (b: EchoBackend) => b.received[b.received.length - 1];

/** Raw request with exact headers (fetch normalises some). */
function raw(path: string, headers: Record<string, string | string[]>, method = 'GET', body?: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: gw.port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

before(async () => {
  [b1, b2, b3] = await Promise.all([startEchoBackend('one'), startEchoBackend('two'), startEchoBackend('three')]);
  deadPort = await freePort();
  gw = await startGateway(`
users:
- username: router
  password: p
  headers:
  - "AccountID: 7"
  - "X-User-Level: u"
  url_map:
  - src_paths: ["/by-path/.*"]
    url_prefix: "${b1.url}/base/"
    headers:
    - "X-Route: path"
    - "X-User-Level: route"
    response_headers:
    - "X-Resp: added"
    - "X-Backend:"
  - src_hosts: ["tenant-b\\\\.example\\\\.com(:\\\\d+)?"]
    url_prefix: "${b2.url}"
  - src_query_args: ["db=foo", "shard=~s[0-9]+"]
    url_prefix: "${b2.url}/q/"
  - src_headers: ["X-Team: blue"]
    url_prefix: "${b3.url}"
  - src_paths: ["/drop/.*"]
    drop_src_path_prefix_parts: 1
    url_prefix: "${b1.url}"
  - src_paths: ["/host-override"]
    url_prefix: "${b1.url}"
    headers: ["Host: backend.internal"]
  - src_paths: ["/keep-host"]
    url_prefix: "${b1.url}"
    keep_original_host: true
  - src_paths: ["/no-xff"]
    url_prefix: "${b1.url}"
    headers: ["X-Forwarded-For:"]
  - src_paths: ["/failover/.*"]
    url_prefix: ["http://127.0.0.1:${deadPort}", "${b2.url}"]
  - src_paths: ["/retry-status/.*"]
    url_prefix: ["${b3.url}/r503/", "${b1.url}/ok/"]
    retry_status_codes: [503]
    load_balancing_policy: first_available
  default_url: "${b3.url}/unsupported"
- bearer_token: tok-123
  url_prefix: "${b1.url}/bearer/"
- auth_token: "Custom xyz"
  url_prefix: "${b1.url}/authtoken/"
- username: strict
  password: s
  url_map:
  - src_paths: ["/api/v1/query"]
    url_prefix: "${b1.url}"
unauthorized_user:
  url_map:
  - src_paths: ["/public/.*"]
    url_prefix: "${b2.url}/anon/"
`, { flags: ['-httpAuthHeader=Authorization,X-Api-Key'] });
  b3.respond((r, res) => {
    if (r.url.startsWith('/r503/')) { res.writeHead(503); res.end('busy'); return; }
    res.writeHead(200, { 'x-backend': 'three' }); res.end('backend three');
  });
});

after(async () => {
  await gw?.stop();
  await Promise.all([b1?.close(), b2?.close(), b3?.close()]);
});

const R = basic('router', 'p');

describe('routing', () => {
  test('by path, keeping the request path under the url_prefix path', async () => {
    const r = await raw('/by-path/x?y=1', { authorization: R });
    assert.equal(r.status, 200);
    assert.equal(last(b1)?.url, '/base/by-path/x?y=1');
  });

  test('by host (whole Host header)', async () => {
    const r = await raw('/anything', { authorization: R, host: 'tenant-b.example.com' });
    assert.equal(r.body, 'backend two');
    assert.equal(last(b2)?.url, '/anything');
  });

  test('by query arg, exact and regex', async () => {
    await raw('/search?db=foo', { authorization: R });
    assert.equal(last(b2)?.url, '/q/search?db=foo');
    await raw('/search?shard=s42', { authorization: R });
    assert.equal(last(b2)?.url, '/q/search?shard=s42');
    const r = await raw('/search?shard=s42x', { authorization: R });
    assert.equal(r.body, 'backend three', 'regex must match the whole value, so this falls to default_url');
  });

  test('by header', async () => {
    const r = await raw('/h', { authorization: R, 'x-team': 'blue' });
    assert.equal(r.body, 'backend three');
    assert.equal(last(b3)?.url, '/h');
  });

  test('drop_src_path_prefix_parts', async () => {
    await raw('/drop/api/v1/x', { authorization: R });
    assert.equal(last(b1)?.url, '/api/v1/x');
  });

  test('default_url gets the original path in request_path', async () => {
    const r = await raw('/no/such/route?a=b', { authorization: R });
    assert.equal(r.status, 200);
    assert.equal(last(b3)?.url, '/unsupported?request_path=%2Fno%2Fsuch%2Froute%3Fa%3Db');
  });

  test('a path that matches no route and no default_url gets 400 without naming other users', async () => {
    const r = await raw('/api/v1/write', { authorization: basic('strict', 's') });
    assert.equal(r.status, 400);
    assert.equal(r.body, 'missing route for "/api/v1/write"\n');
  });

  test('dot-segments cannot reach a path no rule allows', async () => {
    const r = await raw('/api/v1/query/../../../admin', { authorization: basic('strict', 's') });
    assert.equal(r.status, 400);
    const r2 = await raw('/api/v1/%2e%2e/admin', { authorization: basic('strict', 's') });
    assert.equal(r2.status, 400);
  });
});

describe('headers', () => {
  test('route headers are set, user headers inherited unless the route sets them (tenantgate difference)', async () => {
    await raw('/by-path/h', { authorization: R, 'x-route': 'client-value' });
    const h = last(b1)?.headers ?? {};
    assert.equal(h['x-route'], 'path');
    assert.equal(h['x-user-level'], 'route');
    assert.equal(h['accountid'], '7', 'the user-level AccountID must reach url_map routes');
  });

  test('response headers are added and removed', async () => {
    const r = await raw('/by-path/h', { authorization: R });
    assert.equal(r.headers['x-resp'], 'added');
    assert.equal(r.headers['x-backend'], undefined);
  });

  test('Host is the backend host by default, overridable, or kept', async () => {
    await raw('/drop/a/b', { authorization: R, host: 'client.example' });
    assert.equal(last(b1)?.headers.host, `127.0.0.1:${b1.port}`);
    await raw('/host-override', { authorization: R });
    assert.equal(last(b1)?.headers.host, 'backend.internal');
    await raw('/keep-host', { authorization: R, host: 'client.example:8427' });
    assert.equal(last(b1)?.headers.host, 'client.example:8427');
  });

  test('X-Forwarded-For is appended, hop-by-hop headers are dropped, User-Agent is vmauth', async () => {
    await raw('/drop/x', { authorization: R, 'x-forwarded-for': '10.1.1.1', connection: 'keep-alive, X-Secret-Hop', 'x-secret-hop': 'v', te: 'trailers', 'proxy-authorization': 'Basic x', 'user-agent': 'curl/8' });
    const h = last(b1)?.headers ?? {};
    assert.equal(h['x-forwarded-for'], '10.1.1.1, 127.0.0.1');
    assert.equal(h['x-secret-hop'], undefined);
    assert.equal(h['te'], undefined);
    assert.equal(h['proxy-authorization'], undefined);
    assert.equal(h['user-agent'], 'vmauth');
  });
});

test('an empty header value in the config removes the header (X-Forwarded-For)', async () => {
  await raw('/no-xff', { authorization: R, 'x-forwarded-for': '10.9.9.9' });
  assert.equal(last(b1)?.url, '/no-xff');
  assert.equal(last(b1)?.headers['x-forwarded-for'], undefined);
});

describe('authentication', () => {
  test('bearer token, as Bearer, as Token (InfluxDB) and as Basic username', async () => {
    for (const auth of ['Bearer tok-123', 'Token tok-123', basic('tok-123', '')]) {
      const r = await raw('/x', { authorization: auth });
      assert.equal(r.status, 200, auth);
      assert.equal(last(b1)?.url, '/bearer/x');
    }
  });

  test('auth_token matches the exact Authorization value', async () => {
    assert.equal((await raw('/x', { authorization: 'Custom xyz' })).status, 200);
    assert.equal(last(b1)?.url, '/authtoken/x');
    assert.equal((await raw('/public/x', { authorization: 'Custom xyZ' })).status, 200, 'wrong token falls back to unauthorized_user');
    assert.equal(last(b2)?.url, '/anon/public/x');
  });

  test('credentials from -httpAuthHeader', async () => {
    const r = await raw('/x', { 'x-api-key': 'Bearer tok-123' });
    assert.equal(r.status, 200);
    assert.equal(last(b1)?.url, '/bearer/x');
  });

  test('wrong password falls to unauthorized_user, which has no such route: 401 asking for credentials (as vmauth)', async () => {
    const r = await raw('/x', { authorization: basic('router', 'wrong') });
    assert.equal(r.status, 401);
    assert.equal(r.headers['www-authenticate'], 'Basic realm="Restricted"');
    assert.equal(last(b1)?.url === '/x', false);
  });

  test('no credentials: unauthorized_user routes, else 401 asking for Basic auth', async () => {
    assert.equal((await raw('/public/a', {})).status, 200);
    const r = await raw('/private', {});
    assert.equal(r.status, 401);
    assert.equal(r.headers['www-authenticate'], 'Basic realm="Restricted"');
  });
});

describe('load balancing and retries', () => {
  test('a dead backend is skipped and the request succeeds on the next', async () => {
    const before = b2.received.length;
    for (let i = 0; i < 4; i++) {
      const r = await raw('/failover/x', { authorization: R });
      assert.equal(r.status, 200);
    }
    assert.equal(b2.received.length - before, 4);
  });

  test('retry_status_codes moves the request to the next backend', async () => {
    const r = await raw('/retry-status/x', { authorization: R }, 'POST', 'small body');
    assert.equal(r.status, 200);
    assert.equal(last(b1)?.url, '/ok/retry-status/x');
    assert.equal(last(b1)?.body, 'small body', 'the buffered body is sent again');
  });
});

describe('bodies', () => {
  test('a 1 MiB body streams through intact, with its Content-Length', async () => {
    const body = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < body.length; i++) body[i] = (i * 31 + 7) & 0xff;
    const res = await fetch(`${gw.url}/drop/upload`, { method: 'POST', headers: { authorization: R, 'content-type': 'application/octet-stream' }, body });
    assert.equal(res.status, 200);
    const got = last(b1);
    assert.equal(got?.headers['content-length'], String(body.length));
    assert.ok(got?.raw.equals(body), 'the backend received exactly the bytes sent');
  });

  test('a chunked body larger than the buffer streams through intact', async () => {
    const parts = Array.from({ length: 40 }, (_, i) => `part-${i}-`.repeat(200));
    const r = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: gw.port, path: '/drop/chunked', method: 'POST', headers: { authorization: R } }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode ?? 0)); });
      req.on('error', reject);
      for (const p of parts) req.write(p);
      req.end();
    });
    assert.equal(r, 200);
    assert.equal(last(b1)?.body, parts.join(''));
  });
});

describe('streaming responses', () => {
  test('without Content-Length, headers and each chunk reach the client while the backend still streams', async () => {
    let finish: () => void = () => {};
    const done = new Promise<void>((r) => { finish = r; });
    b1.respond((_r, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first chunk\n');
      void done.then(() => res.end('last chunk\n'));
    });
    try {
      const res = await Promise.race([
        fetch(`${gw.url}/drop/tail`, { headers: { authorization: R } }),
        new Promise<never>((_, rej) => setTimeout(() => rej(new Error('headers were held back until the end of the stream')), 5000)),
      ]);
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      const first = await reader.read();
      assert.equal(Buffer.from(first.value ?? []).toString(), 'first chunk\n');
      finish();
      let rest = '';
      for (;;) { const r = await reader.read(); if (r.done) break; rest += Buffer.from(r.value).toString(); }
      assert.equal(rest, 'last chunk\n');
    } finally {
      finish();
      b1.respond((_r, res) => { res.writeHead(200, { 'content-type': 'text/plain', 'x-backend': 'one' }); res.end('backend one'); });
    }
  });
});

describe('built-in endpoints', () => {
  test('/health and /metrics are served by the gateway, not proxied', async () => {
    assert.equal((await raw('/health', {})).body, 'OK');
    const m = await raw('/metrics', {});
    assert.match(m.body, /vmauth_user_requests_total\{username="router"\} \d+/);
    assert.match(m.body, /vmauth_config_last_reload_successful 1/);
  });
});
