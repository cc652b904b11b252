// Listeners: HTTPS with certificates made in the test, mTLS with users routed by client
// certificate subject, a client without a certificate refused, IP filters on addresses that
// arrive through PROXY protocol v1 and v2.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { join } from 'node:path';
import { startGateway, type Gateway } from '../helpers/gateway.ts';
import { startEchoBackend, type EchoBackend } from '../helpers/echo-backend.ts';
import { createAuthority, type CertAndKey, type TestAuthority } from '../helpers/tls-ca.ts';
import { tempDir } from '../helpers/processes.ts';

let backend: EchoBackend;
let ca: TestAuthority;
let server: CertAndKey;
let finance: CertAndKey;
let devops: CertAndKey;
let stranger: CertAndKey;
const dir = tempDir('tenantgate-tls-');
const file = (name: string, content: string) => { const p = join(dir.path, name); writeFileSync(p, content); return p; };

before(async () => {
  backend = await startEchoBackend('tls-backend');
  ca = await createAuthority();
  server = await ca.issue('tenantgate', { server: true, ips: ['127.0.0.1'], dns: ['localhost'] });
  finance = await ca.issue('CN=alice, OU=finance, O=Example', { client: true });
  devops = await ca.issue('CN=bob, OU=devops, O=Example', { client: true });
  const otherCa = await createAuthority('someone else');
  stranger = await otherCa.issue('CN=mallory, OU=finance, O=Example', { client: true });
});

after(async () => {
  await backend?.close();
  dir.remove();
});

function get(port: number, path: string, client?: CertAndKey, ca0 = ca.caCert): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path, ca: ca0, ...(client ? { cert: client.cert, key: client.key } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('HTTPS and mTLS', () => {
  let gw: Gateway;
  before(async () => {
    const flags = [`-tls`, `-tlsCertFile=${file('server.crt', server.cert)}`, `-tlsKeyFile=${file('server.key', server.key)}`,
      '-mtls', `-mtlsCAFile=${file('ca.crt', ca.caCert)}`, '-tlsMinVersion=TLS12'];
    gw = await startGateway(`
users:
- mtls: {organizational_unit: finance}
  url_prefix: "${backend.url}/finance/"
- mtls: {organizational_unit: devops, common_name: bob}
  url_prefix: "${backend.url}/devops/"
`, { flags, internal: true });
  });

  after(async () => { await gw?.stop(); });

  test('routes by client certificate OU / CN', async () => {
    const a = await get(gw.port, '/api/v1/query', finance);
    assert.equal(a.status, 200);
    assert.equal(backend.received[backend.received.length - 1]?.url, '/finance/api/v1/query');
    const b = await get(gw.port, '/api/v1/query', devops);
    assert.equal(b.status, 200);
    assert.equal(backend.received[backend.received.length - 1]?.url, '/devops/api/v1/query');
  });

  test('a client without a certificate is refused at the handshake', async () => {
    await assert.rejects(get(gw.port, '/api/v1/query'));
  });

  test('a certificate from another CA is refused, whatever its subject says', async () => {
    await assert.rejects(get(gw.port, '/api/v1/query', stranger));
  });
});

/** Sends raw bytes (a PROXY header, then an HTTP request) and returns the status code. */
function rawStatus(port: number, bytes: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    // Write without half-closing, as HTTP clients do; `Connection: close` makes the server close.
    const sock = connect(port, "127.0.0.1", () => sock.write(bytes));
    const chunks: Buffer[] = [];
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('close', () => {
      const m = /^HTTP\/1\.1 (\d{3})/.exec(Buffer.concat(chunks).toString('latin1'));
      resolve(m ? Number(m[1]) : 0);
    });
    sock.on('error', reject);
    sock.setTimeout(5000, () => sock.destroy());
  });
}

const HTTP_GET = 'GET /api/v1/query HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';

function proxyV2(ip: string, port: number): Buffer {
  const sig = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
  const head = Buffer.from([0x21, 0x11, 0x00, 12]);
  const addr = Buffer.alloc(12);
  ip.split('.').forEach((o, i) => { addr[i] = Number(o); });
  addr.set([127, 0, 0, 1], 4);
  addr.writeUInt16BE(port, 8);
  addr.writeUInt16BE(8427, 10);
  return Buffer.concat([sig, head, addr]);
}

describe('PROXY protocol and IP filters', () => {
  let gw: Gateway;
  before(async () => {
    gw = await startGateway(`
ip_filters:
  allow_list: ["10.0.0.0/8", "2001:db8::/32"]
  deny_list: ["10.0.0.42"]
unauthorized_user:
  url_prefix: "${backend.url}/"
`, { flags: ['-httpListenAddr.useProxyProtocol'], internal: true });
  });
  after(async () => { await gw?.stop(); });

  test('v1: an allowed source address is served', async () => {
    assert.equal(await rawStatus(gw.port, Buffer.from(`PROXY TCP4 10.1.2.3 127.0.0.1 5555 8427\r\n${HTTP_GET}`)), 200);
    assert.equal(backend.received[backend.received.length - 1]?.headers['x-forwarded-for'], '10.1.2.3', 'X-Forwarded-For names the real client');
  });

  test('v1: deny wins over allow', async () => {
    assert.equal(await rawStatus(gw.port, Buffer.from(`PROXY TCP4 10.0.0.42 127.0.0.1 5555 8427\r\n${HTTP_GET}`)), 403);
  });

  test('v1: an address outside allow_list is refused; IPv6 inside it is served', async () => {
    assert.equal(await rawStatus(gw.port, Buffer.from(`PROXY TCP4 192.168.1.1 127.0.0.1 5555 8427\r\n${HTTP_GET}`)), 403);
    assert.equal(await rawStatus(gw.port, Buffer.from(`PROXY TCP6 2001:db8::7 ::1 5555 8427\r\n${HTTP_GET}`)), 200);
  });

  test('v2: binary header, allowed and denied', async () => {
    assert.equal(await rawStatus(gw.port, Buffer.concat([proxyV2('10.9.9.9', 4000), Buffer.from(HTTP_GET)])), 200);
    assert.equal(await rawStatus(gw.port, Buffer.concat([proxyV2('10.0.0.42', 4000), Buffer.from(HTTP_GET)])), 403);
  });

  test('a connection without a PROXY header is closed without an answer', async () => {
    assert.equal(await rawStatus(gw.port, Buffer.from(HTTP_GET)), 0);
  });

  test('a forged X-Forwarded-For does not change the filtered address', async () => {
    const req = `GET /api/v1/query HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 10.1.1.1\r\nConnection: close\r\n\r\n`;
    assert.equal(await rawStatus(gw.port, Buffer.from(`PROXY TCP4 10.0.0.42 127.0.0.1 5555 8427\r\n${req}`)), 403);
  });
});

describe('client IP from a header set by a trusted proxy', () => {
  let gw: Gateway;
  before(async () => {
    gw = await startGateway(`
ip_filters:
  deny_list: ["10.0.0.42"]
users:
- username: behind-lb
  password: "Lb-Secret-Pass"
  url_prefix: "${backend.url}/"
  ip_filters:
    allow_list: ["10.0.0.0/8"]
    real_ip_header: X-Real-IP
`, { flags: ['-httpRealIPHeader=X-Forwarded-For', '-httpRealIPTrustedProxies=127.0.0.1'] });
  });
  after(async () => { await gw?.stop(); });

  const call = async (headers: Record<string, string>) =>
    (await fetch(`${gw.url}/x`, { headers: { authorization: `Basic ${Buffer.from('behind-lb:Lb-Secret-Pass').toString('base64')}`, ...headers } })).status;

  test('a user filter reads its real_ip_header', async () => {
    assert.equal(await call({ 'x-real-ip': '10.1.1.1' }), 200);
    assert.equal(await call({ 'x-real-ip': '192.168.1.1' }), 403);
    assert.equal(await call({}), 403, 'without the header the TCP peer (127.0.0.1) is filtered');
  });

  test('the global filter reads -httpRealIPHeader (right-most hop that is not a trusted proxy)', async () => {
    assert.equal(await call({ 'x-real-ip': '10.1.1.1', 'x-forwarded-for': '10.0.0.42, 127.0.0.1' }), 403);
    assert.equal(await call({ 'x-real-ip': '10.1.1.1', 'x-forwarded-for': '10.0.0.7' }), 200);
  });

  test('a client-written left-most X-Forwarded-For entry does not pass an allow_list (the proxy appended the real address)', async () => {
    // As nginx/ALB/Envoy forward it: the client sent "10.9.9.9", the proxy appended what it saw.
    assert.equal(await call({ 'x-real-ip': '10.1.1.1', 'x-forwarded-for': '10.0.0.42, 198.51.100.7' }), 200, 'the denied entry was written by the client');
    assert.equal(await call({ 'x-real-ip': '10.9.9.9, 198.51.100.7' }), 403, 'the user filter judges 198.51.100.7, not the forged 10.9.9.9');
  });
});

/**
 * A TLS client behind a PROXY header, with the header and the TLS ClientHello sent in one write
 * (the hard case: the server's header reader necessarily reads into the handshake).
 */
function proxiedTls(port: number, header: string, client: CertAndKey | null, path = '/api/v1/query'): Promise<{ status: number; error?: string }> {
  return new Promise((resolve) => {
    const raw = connect(port, '127.0.0.1');
    let first = true;
    const duplex = new Duplex({
      read() { raw.resume(); },
      write(chunk: Buffer, _enc, cb) {
        const out = first ? Buffer.concat([Buffer.from(header, 'latin1'), chunk]) : chunk;
        first = false;
        raw.write(out, cb);
      },
      final(cb) { raw.end(); cb(); },
    });
    raw.on('data', (d: Buffer) => { if (!duplex.push(d)) raw.pause(); });
    raw.on('end', () => duplex.push(null));
    raw.on('error', (e) => duplex.destroy(e));
    const t = tlsConnect({ socket: duplex, ca: ca.caCert, servername: 'localhost', ...(client ? { cert: client.cert, key: client.key } : {}) });
    const chunks: Buffer[] = [];
    const done = (r: { status: number; error?: string }) => { clearTimeout(timer); raw.destroy(); resolve(r); };
    const timer = setTimeout(() => done({ status: 0, error: 'timeout' }), 5000);
    t.on('secureConnect', () => t.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
    t.on('data', (d: Buffer) => chunks.push(d));
    t.on('end', () => {
      const m = /^HTTP\/1\.1 (\d{3})/.exec(Buffer.concat(chunks).toString('latin1'));
      done({ status: m ? Number(m[1]) : 0 });
    });
    t.on('error', (e) => done({ status: 0, error: e.message }));
  });
}

describe('TLS and mTLS behind PROXY protocol', () => {
  let gw: Gateway;
  before(async () => {
    gw = await startGateway(`
ip_filters:
  allow_list: ["10.0.0.0/8"]
users:
- mtls: {organizational_unit: finance}
  url_prefix: "${backend.url}/finance/"
`, {
      flags: ['-tls', `-tlsCertFile=${file('p-server.crt', server.cert)}`, `-tlsKeyFile=${file('p-server.key', server.key)}`,
        '-mtls', `-mtlsCAFile=${file('p-ca.crt', ca.caCert)}`, '-httpListenAddr.useProxyProtocol'],
      internal: true,
    });
  });
  after(async () => { await gw?.stop(); });

  test('the header and the handshake in one write: served, with the real client address', async () => {
    const r = await proxiedTls(gw.port, 'PROXY TCP4 10.7.7.7 127.0.0.1 5555 8427\r\n', finance);
    assert.equal(r.status, 200, r.error);
    const got = backend.received[backend.received.length - 1];
    assert.equal(got?.url, '/finance/api/v1/query', 'routed by the client certificate');
    assert.equal(got?.headers['x-forwarded-for'], '10.7.7.7');
  });

  test('v2 header: a proxied address outside allow_list is refused after the handshake', async () => {
    const sig = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x21, 0x11, 0x00, 12, 192, 168, 1, 9, 127, 0, 0, 1, 0x15, 0xb3, 0x20, 0xeb]);
    const r = await proxiedTls(gw.port, sig.toString('latin1'), finance);
    assert.equal(r.status, 403, r.error);
  });

  test('without a client certificate the handshake fails; nothing is proxied', async () => {
    const before = backend.received.length;
    const r = await proxiedTls(gw.port, 'PROXY TCP4 10.7.7.7 127.0.0.1 5555 8427\r\n', null);
    assert.equal(r.status, 0);
    assert.equal(backend.received.length, before);
  });

  test('a certificate from another CA is refused', async () => {
    const r = await proxiedTls(gw.port, 'PROXY TCP4 10.7.7.7 127.0.0.1 5555 8427\r\n', stranger);
    assert.equal(r.status, 0);
  });
});
