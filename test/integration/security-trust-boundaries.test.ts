// Trust boundaries, attacked as a hostile client or tenant would: tenant scope never defaulted,
// real-IP headers only from trusted proxies, loopback-only endpoints behind PROXY protocol, a
// tenant's claim cannot take shared backends out of rotation, consumed credentials stay at the
// gateway, the OIDC key URL is pinned to the issuer, and streams of removed users end.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { connect, type AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { basic, startGateway, type Gateway } from '../helpers/gateway.ts';
import { startEchoBackend, type EchoBackend } from '../helpers/echo-backend.ts';
import { createAuthority, writePem, type TestAuthority } from '../helpers/tls-ca.ts';
import { CLI } from '../helpers/gateway.ts';
import { freePort, sleep, startProcess, tempDir } from '../helpers/processes.ts';

let backend: EchoBackend;
let keys: Awaited<ReturnType<typeof generateKeyPair>>;
let pem: string;

before(async () => {
  backend = await startEchoBackend('trust');
  keys = await generateKeyPair('RS256');
  pem = await exportSPKI(keys.publicKey);
});
after(async () => { await backend?.close(); });

const jwt = (vmAccess: unknown, kid?: string, iss?: string) =>
  new SignJWT({ vm_access: vmAccess, ...(iss ? { iss } : {}) }).setProtectedHeader({ alg: 'RS256', ...(kid ? { kid } : {}) }).setExpirationTime('10m').sign(keys.privateKey);

/** The exit code of a process expected to refuse to start, or 'still running' (then stopped) after 15 s. */
async function exitCode(p: ReturnType<typeof startProcess>): Promise<number | string | null> {
  const r = await Promise.race([p.exited, sleep(15_000).then(() => 'still running' as const)]);
  if (r === 'still running') await p.stop();
  return r;
}

const pemYaml = () => pem.trim().split('\n').map((l) => `          ${l}`).join('\n');

function rawResponse(port: number, bytes: Buffer): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1', () => sock.write(bytes));
    const chunks: Buffer[] = [];
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      resolve({ status: m ? Number(m[1]) : 0, text });
    });
    sock.on('error', reject);
    sock.setTimeout(5000, () => sock.destroy());
  });
}

describe('1. tenant scope is never defaulted', () => {
  let gw: Gateway;
  before(async () => {
    gw = await startGateway(`
users:
- name: logs-by-token
  jwt:
    public_keys:
      - |
${pemYaml()}
  url_prefix: "${backend.url}/vl/"
  tenant:
    enforce: victorialogs
`);
  });
  after(async () => { await gw?.stop(); });

  test('a metrics-only token (no logs_account_id) is refused with tenant_unscoped for reads and writes; nothing reaches VictoriaLogs', async () => {
    const before = backend.received.length;
    const token = await jwt({ metrics_account_id: 7, metrics_extra_labels: ['team=a'] });
    const read = await fetch(`${gw.url}/select/logsql/query?query=*`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(read.status, 403);
    assert.match(await read.text(), /no VictoriaLogs tenant/);
    const write = await fetch(`${gw.url}/insert/jsonline`, { method: 'POST', body: '{"_msg":"x"}\n', headers: { authorization: `Bearer ${token}` } });
    assert.equal(write.status, 403);
    await write.text();
    assert.equal(backend.received.length, before, 'no request reached the backend, so none landed in tenant 0:0');
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    assert.match(metrics, /vmauth_http_request_errors_total\{reason="tenant_unscoped"\} [1-9]/);
  });

  test('a token naming its logs tenant (0 included) is served in exactly that tenant', async () => {
    for (const account of [0, 12]) {
      const res = await fetch(`${gw.url}/select/logsql/query?query=*`, { headers: { authorization: `Bearer ${await jwt({ logs_account_id: account })}` } });
      assert.equal(res.status, 200);
      await res.text();
      assert.equal(backend.header('accountid'), String(account));
    }
  });
});

describe('2. real-IP headers are believed only from trusted proxies', () => {
  test('-httpRealIPHeader without -httpRealIPTrustedProxies refuses to start; real_ip_header without trusted_proxies is a config error', async () => {
    const dir = tempDir();
    try {
      const cfg = writePem(dir.path, 'a.yml', `unauthorized_user:\n  url_prefix: "${backend.url}/"\n`);
      const p = startProcess(process.execPath, [CLI, `-auth.config=${cfg}`, `-httpListenAddr=127.0.0.1:${await freePort()}`, '-httpRealIPHeader=X-Forwarded-For']);
      assert.equal(typeof await exitCode(p), 'number');
      assert.notEqual(p.child.exitCode, 0);
      assert.match(p.output(), /-httpRealIPHeader needs -httpRealIPTrustedProxies/);
      const cfg2 = writePem(dir.path, 'b.yml', `ip_filters:\n  allow_list: ["10.0.0.0/8"]\n  real_ip_header: X-Forwarded-For\nunauthorized_user:\n  url_prefix: "${backend.url}/"\n`);
      const p2 = startProcess(process.execPath, [CLI, `-auth.config=${cfg2}`, `-httpListenAddr=127.0.0.1:${await freePort()}`]);
      assert.equal(typeof await exitCode(p2), 'number');
      assert.notEqual(p2.child.exitCode, 0);
      assert.match(p2.output(), /real_ip_header needs trusted_proxies/);
    } finally {
      dir.remove();
    }
  });

  test('behind an appending proxy, a forged left-most X-Forwarded-For entry does not pass allow_list', async () => {
    const gw = await startGateway(`
ip_filters:
  allow_list: ["10.0.0.0/8"]
  real_ip_header: X-Forwarded-For
  trusted_proxies: ["127.0.0.1"]
unauthorized_user:
  url_prefix: "${backend.url}/"
`);
    try {
      const status = async (xff: string) => { const r = await fetch(`${gw.url}/x`, { headers: { 'x-forwarded-for': xff } }); await r.text(); return r.status; };
      assert.equal(await status('10.9.9.9, 198.51.100.7'), 403, 'the client wrote 10.9.9.9; the proxy saw 198.51.100.7');
      assert.equal(await status('198.51.100.7, 10.2.3.4'), 200, 'the proxy saw 10.2.3.4');
    } finally {
      await gw.stop();
    }
  });

  test('a real-IP header from an untrusted peer is ignored', async () => {
    const gw = await startGateway(`
ip_filters:
  allow_list: ["10.0.0.0/8"]
  real_ip_header: X-Forwarded-For
  trusted_proxies: ["192.0.2.1"]
unauthorized_user:
  url_prefix: "${backend.url}/"
`);
    try {
      const r = await fetch(`${gw.url}/x`, { headers: { 'x-forwarded-for': '10.2.3.4' } });
      await r.text();
      assert.equal(r.status, 403, '127.0.0.1 is no trusted proxy: its header is the client\'s claim');
    } finally {
      await gw.stop();
    }
  });
});

describe('3. loopback-only endpoints judge the PROXY-protocol client, not the TCP peer', () => {
  test('remote PROXY client: 401 at /flags and /-/reload; a loopback PROXY client: served', async () => {
    // Internal endpoints are answered on the main listener only without -httpInternalListenAddr.
    const dir = tempDir();
    const cfg = writePem(dir.path, 'a.yml', `unauthorized_user:\n  url_prefix: "${backend.url}/"\n`);
    const port = await freePort();
    const p = startProcess(process.execPath, [CLI, `-auth.config=${cfg}`, `-httpListenAddr=127.0.0.1:${port}`, '-httpListenAddr.useProxyProtocol', '-workers=1']);
    try {
      const ask = (client: string, path: string) => rawResponse(port, Buffer.from(`PROXY TCP4 ${client} 127.0.0.1 5555 8427\r\nGET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
      let up = false;
      for (let i = 0; i < 100 && !up; i++) { up = (await ask('127.0.0.1', '/health').catch(() => ({ status: 0 }))).status === 200; if (!up) await sleep(100); }
      assert.ok(up, 'gateway up');
      assert.equal((await ask('203.0.113.5', '/flags')).status, 401);
      assert.equal((await ask('203.0.113.5', '/-/reload')).status, 401);
      assert.equal((await ask('127.0.0.1', '/flags')).status, 200);
      assert.equal((await ask('127.0.0.1', '/-/reload')).status, 200);
    } finally {
      await p.stop();
      dir.remove();
    }
  });
});

describe('4. a claim value cannot take shared backends out of rotation', () => {
  let gw: Gateway;
  before(async () => {
    gw = await startGateway(`
users:
- name: tenants
  jwt:
    public_keys:
      - |
${pemYaml()}
  url_prefix: "${backend.url}/shared/"
  headers:
  - "X-Filters: {{.LogsExtraFilters}}"
  - "AccountID: {{.LogsAccountID}}"
`, { flags: ['-failTimeout=1h'] });
  });
  after(async () => { await gw?.stop(); });

  test('a non-Latin-1 claim value is refused as the request\'s fault; the other tenant is still served by the same backend', async () => {
    backend.respond((_r, res) => { res.writeHead(200); res.end('ok'); });
    const evil = await fetch(`${gw.url}/q`, { headers: { authorization: `Bearer ${await jwt({ logs_account_id: 1, logs_extra_filters: ['{"app":"caf\u20ac"}'] })}` } });
    assert.ok(evil.status >= 400 && evil.status < 500, `4xx, got ${evil.status}`);
    await evil.text();
    for (let i = 0; i < 3; i++) {
      const ok = await fetch(`${gw.url}/q`, { headers: { authorization: `Bearer ${await jwt({ logs_account_id: 2, logs_extra_filters: ['{"app":"x"}'] })}` } });
      assert.equal(ok.status, 200, 'the backend was not marked broken');
      await ok.text();
    }
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    assert.doesNotMatch(metrics, /vmauth_user_request_backend_errors_total\{username="tenants"\} [1-9]/);
  });
});

describe('5. consumed credentials stay at the gateway', () => {
  test('Authorization of every credential kind is removed before forwarding; forward_credentials passes it on', async () => {
    const gw = await startGateway(`
users:
- username: basic-user
  password: "Basic-Pass-5678"
  url_map:
  - src_paths: ["/pass/.*"]
    url_prefix: "${backend.url}/"
    forward_credentials: true
  - src_paths: ["/.*"]
    url_prefix: "${backend.url}/"
- bearer_token: "Bearer-Token-5678"
  url_prefix: "${backend.url}/"
- name: by-jwt
  jwt:
    public_keys:
      - |
${pemYaml()}
  url_prefix: "${backend.url}/"
  headers:
  - "AccountID: {{.LogsAccountID}}"
unauthorized_user:
  url_prefix: "${backend.url}/"
`);
    try {
      const token = await jwt({ logs_account_id: 3 });
      const cases: [string, string][] = [
        [basic('basic-user', 'Basic-Pass-5678'), 'basic'],
        ['Bearer Bearer-Token-5678', 'bearer'],
        [`Bearer ${token}`, 'jwt'],
        [basic('basic-user', 'Mistyped-Pass-9'), 'failed credentials reaching unauthorized_user'],
        ['Bearer Expired-Or-Other-Token', 'unknown token reaching unauthorized_user'],
      ];
      for (const [auth, what] of cases) {
        const r = await fetch(`${gw.url}/api/v1/query`, { headers: { authorization: auth } });
        assert.equal(r.status, 200, what);
        await r.text();
        assert.equal(backend.header('authorization'), undefined, `${what}: Authorization was forwarded`);
      }
      const r = await fetch(`${gw.url}/pass/x`, { headers: { authorization: basic('basic-user', 'Basic-Pass-5678') } });
      await r.text();
      assert.equal(backend.header('authorization'), basic('basic-user', 'Basic-Pass-5678'), 'forward_credentials: true passes it on');
    } finally {
      await gw.stop();
    }
  });

  test('-httpAuthHeader headers are removed too', async () => {
    const gw = await startGateway(`users:\n- bearer_token: "Custom-Header-Token-1"\n  url_prefix: "${backend.url}/"\n`, { flags: ['-httpAuthHeader=X-Api-Token'] });
    try {
      const r = await fetch(`${gw.url}/x`, { headers: { 'x-api-token': 'Bearer Custom-Header-Token-1' } });
      assert.equal(r.status, 200);
      await r.text();
      assert.equal(backend.header('x-api-token'), undefined);
    } finally {
      await gw.stop();
    }
  });

  test('an error body does not show the backend URL path', async () => {
    const dead = await freePort();
    const gw = await startGateway(`users:\n- username: u\n  password: "Dead-Backend-Pass"\n  url_prefix: "http://127.0.0.1:${dead}/internal-secret-path/"\n`, { flags: ['-maxRequestBodySizeToRetry=1'] });
    try {
      const r = await fetch(`${gw.url}/x`, { method: 'POST', body: 'more than one byte', headers: { authorization: basic('u', 'Dead-Backend-Pass') } });
      const text = await r.text();
      assert.ok(r.status >= 500, String(r.status));
      assert.doesNotMatch(text, /internal-secret-path/);
      assert.doesNotMatch(text, new RegExp(String(dead)));
    } finally {
      await gw.stop();
    }
  });
});

describe('7. keys and discovery', () => {
  let ca: TestAuthority;
  let https: HttpsServer;
  let port: number;
  let plain: HttpServer;
  let plainPort: number;
  const seen: string[] = [];
  let jwksUri = '';
  let jwks: unknown = { keys: [] };
  const dir = tempDir();
  let caFile = '';

  before(async () => {
    ca = await createAuthority('trust test CA');
    const cert = await ca.issue('localhost', { server: true, dns: ['localhost'], ips: ['127.0.0.1'] });
    caFile = writePem(dir.path, 'ca.pem', ca.caCert);
    https = createHttpsServer({ cert: cert.cert, key: cert.key }, (req, res) => {
      seen.push(`${req.headers.host} ${req.url}`);
      if (req.url === '/realm/.well-known/openid-configuration') { res.writeHead(200, { 'content-type': 'application/json' }); res.end(JSON.stringify({ issuer: `https://localhost:${port}/realm`, jwks_uri: jwksUri })); return; }
      if (req.url === '/realm/certs') { res.writeHead(200, { 'content-type': 'application/json' }); res.end(JSON.stringify(jwks)); return; }
      if (req.url === '/realm/redirect') { res.writeHead(302, { location: `https://localhost:${port}/realm/certs` }); res.end(); return; }
      res.writeHead(404); res.end();
    });
    await new Promise<void>((r) => https.listen(0, '127.0.0.1', r));
    port = (https.address() as AddressInfo).port;
    // the same keys over plain http on the issuer's host, for the downgrade case
    plain = createHttpServer((req, res) => {
      seen.push(`http ${req.headers.host} ${req.url}`);
      res.writeHead(200, { 'content-type': 'application/json' }); res.end(JSON.stringify(jwks));
    });
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
    plainPort = (plain.address() as AddressInfo).port;
    jwks = { keys: [{ ...(await exportJWK(keys.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }] };
  });
  after(async () => {
    // bounded: a connection the server does not track must not keep the test file alive
    for (const srv of [https, plain]) {
      srv?.closeAllConnections();
      await Promise.race([new Promise((r) => srv?.close(r)), sleep(3000)]);
    }
    dir.remove();
  });

  const oidcGateway = () => startGateway(`
users:
- name: oidc
  jwt:
    oidc:
      issuer: "https://localhost:${port}/realm"
  url_prefix: "${backend.url}/"
  headers:
  - "AccountID: {{.LogsAccountID}}"
`, { env: { NODE_EXTRA_CA_CERTS: caFile } });

  test('a jwks_uri on the issuer\'s host over https verifies tokens (positive control)', async () => {
    jwksUri = `https://localhost:${port}/realm/certs`;
    const gw = await oidcGateway();
    try {
      const r = await fetch(`${gw.url}/x`, { headers: { authorization: `Bearer ${await jwt({ logs_account_id: 1 }, 'k1', `https://localhost:${port}/realm`)}` } });
      assert.equal(r.status, 200, gw.proc.output());
      await r.text();
    } finally {
      await gw.stop();
    }
  });

  for (const [what, uri] of [
    ['another host', () => `https://127.0.0.1:${port}/realm/certs`],
    ['http under an https issuer', () => `http://localhost:${plainPort}/realm/certs`],
    ['a redirect', () => `https://localhost:${port}/realm/redirect`],
  ] as const) {
    test(`a discovered jwks_uri via ${what} is not followed: no keys, tokens refused`, async () => {
      jwksUri = uri();
      const mark = seen.length;
      const gw = await oidcGateway();
      try {
        const r = await fetch(`${gw.url}/x`, { headers: { authorization: `Bearer ${await jwt({ logs_account_id: 1 }, 'k1', `https://localhost:${port}/realm`)}` } });
        assert.equal(r.status, 401);
        await r.text();
        assert.match(gw.proc.output(), /ERR_JWT_NO_KEYS|ERR_JWT_UNKNOWN_KID/, 'refused for want of keys, not for another reason');
        assert.ok(!seen.slice(mark).some((s) => s.endsWith('/realm/certs')), `keys were fetched: ${JSON.stringify(seen.slice(mark))}`);
      } finally {
        await gw.stop();
      }
    });
  }

  test('-mtls without -mtlsCAFile refuses to start (the system roots never vouch for client certificates)', async () => {
    const cert = await ca.issue('localhost', { server: true, dns: ['localhost'] });
    const cfg = writePem(dir.path, 'm.yml', `unauthorized_user:\n  url_prefix: "${backend.url}/"\n`);
    const p = startProcess(process.execPath, [CLI, `-auth.config=${cfg}`, `-httpListenAddr=127.0.0.1:${await freePort()}`, '-tls', `-tlsCertFile=${writePem(dir.path, 's.crt', cert.cert)}`, `-tlsKeyFile=${writePem(dir.path, 's.key', cert.key)}`, '-mtls']);
    assert.equal(typeof await exitCode(p), 'number');
      assert.notEqual(p.child.exitCode, 0);
    assert.match(p.output(), /-mtls .* needs -mtlsCAFile/);
  });
});

describe('8. streams of a user removed by reload end', () => {
  test('a live stream opened before the reload is closed after the reload that removed its user; other users keep streaming', async () => {
    const streamer = await startEchoBackend('tail');
    const timers: NodeJS.Timeout[] = [];
    streamer.respond((_r, res) => {
      res.writeHead(200, { 'content-type': 'application/stream+json' });
      const t = setInterval(() => res.write('{"_msg":"line"}\n'), 50);
      timers.push(t);
      res.on('close', () => clearInterval(t));
    });
    const config = (users: string) => `users:\n${users}`;
    const alice = `- username: alice\n  password: "Alice-Stream-Pass"\n  url_prefix: "${streamer.url}/"\n`;
    const bob = `- username: bob\n  password: "Bob-Stream-Pass"\n  url_prefix: "${streamer.url}/"\n`;
    const gw = await startGateway(config(alice + bob));
    const open = async (user: string, pass: string) => {
      const res = await fetch(`${gw.url}/select/logsql/tail?query=*`, { headers: { authorization: basic(user, pass) }, signal: AbortSignal.timeout(60_000) });
      assert.equal(res.status, 200);
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      assert.ok(!(await reader.read()).done, 'the stream flows');
      return reader;
    };
    /** Reads until the stream ends (true) or `ms` pass while it keeps flowing (false). */
    const endsWithin = async (reader: ReadableStreamDefaultReader<Uint8Array>, ms: number) => {
      const deadline = Date.now() + ms;
      while (Date.now() < deadline) {
        const r = await Promise.race([reader.read().then((x) => x.done, () => true), sleep(500).then(() => null)]);
        if (r === true) return true;
      }
      return false;
    };
    try {
      // the first chunk of each stream, bounded
      const a = await open('alice', 'Alice-Stream-Pass');
      const b = await open('bob', 'Bob-Stream-Pass');
      gw.writeConfig(config(bob));
      const reload = await fetch(`${gw.url}/-/reload`);
      assert.equal(reload.status, 200);
      await reload.text();
      assert.equal(await endsWithin(a, 15_000), true, 'alice\'s stream was closed after her removal');
      assert.equal(await endsWithin(b, 1_500), false, 'bob\'s stream keeps flowing');
      await b.cancel();
      assert.match(gw.proc.output(), /closing a request of user alice/);
    } finally {
      for (const t of timers) clearInterval(t);
      await gw.stop();
      await streamer.close();
    }
  });
});

describe('per-user metrics of unnamed token users', () => {
  const token = 'Nobody inspects the spammish repetition';
  const cfg = () => `users:\n- bearer_token: "${token}"\n  url_prefix: "${backend.url}/"\n- auth_token: "Auth-Token-Label-1"\n  url_prefix: "${backend.url}/"\n`;
  const hit = async (gw: Gateway) => { const r = await fetch(`${gw.url}/x`, { headers: { authorization: `Bearer ${token}` } }); await r.text(); };

  test('open /metrics: an opaque label that says nothing about the token (no hash to test guesses against)', async () => {
    const gw = await startGateway(cfg());
    try {
      await hit(gw);
      const metrics = await (await fetch(`${gw.url}/metrics`)).text();
      assert.match(metrics, /vmauth_user_requests_total\{username="bearer_token:users\[0\]"\} 1/);
      assert.match(metrics, /username="auth_token:users\[1\]"/);
      assert.doesNotMatch(metrics, /bearer_token:hash:/);
    } finally {
      await gw.stop();
    }
  });

  test('/metrics behind -metricsAuthKey: vmauth\'s label, bearer_token:hash:<XXH64 of the token>', async () => {
    const gw = await startGateway(cfg(), { flags: ['-metricsAuthKey=Label-Metrics-Key'] });
    try {
      await hit(gw);
      const metrics = await (await fetch(`${gw.url}/metrics?authKey=Label-Metrics-Key`)).text();
      // XXH64("Nobody inspects the spammish repetition") = FBCEA83C8A378BF1 (the xxHash reference vector)
      assert.match(metrics, /vmauth_user_requests_total\{username="bearer_token:hash:FBCEA83C8A378BF1"\} 1/);
    } finally {
      await gw.stop();
    }
  });
});
