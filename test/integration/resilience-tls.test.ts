// HTTPS backends behind the tenantgate process, with a CA made in the test: verification against
// tls_ca_file / -backend.TLSCAFile, tls_server_name, client certificates (mTLS), skip-verify,
// and CA files re-read when they change. Every accepting case has a refusing twin.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { basic, CLI, startGateway, type Gateway } from '../helpers/gateway.ts';
import { sleep, startProcess, tempDir } from '../helpers/processes.ts';
import { createAuthority, writePem, type TestAuthority } from '../helpers/tls-ca.ts';

let ca: TestAuthority;
let otherCa: TestAuthority;
const dir = tempDir('tenantgate-tls-');
const files: Record<string, string> = {};
const servers: Server[] = [];
const seen: string[] = [];
let ipBackend: string; // cert for IP 127.0.0.1
let namedBackend: string; // cert for backend.internal only
let mtlsBackend: string; // cert for backend.internal, requires a client cert from `ca`
let gw: Gateway;
let gwFlags: Gateway;

async function httpsBackend(name: string, opts: { cert: string; key: string; clientCa?: string }): Promise<string> {
  const srv = createServer({ cert: opts.cert, key: opts.key, ...(opts.clientCa ? { ca: opts.clientCa, requestCert: true, rejectUnauthorized: true } : {}) }, (req, res) => {
    seen.push(`${name} ${req.url}`);
    res.end(`${name} ok`);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  servers.push(srv);
  return `https://127.0.0.1:${(srv.address() as AddressInfo).port}`;
}

const user = (name: string, url: string, extra = '') => `
- username: ${name}
  password: ${name}-secret
  url_prefix: ${url}/${name}/${extra}`;

before(async () => {
  ca = await createAuthority();
  otherCa = await createAuthority('another CA');
  const ipCert = await ca.issue('backend-ip', { ips: ['127.0.0.1'], server: true });
  const namedCert = await ca.issue('backend.internal', { dns: ['backend.internal'], server: true });
  const client = await ca.issue('tenantgate', { client: true });
  files['ca'] = writePem(dir.path, 'ca.pem', ca.caCert);
  files['rotating'] = writePem(dir.path, 'rotating-ca.pem', otherCa.caCert);
  files['clientCert'] = writePem(dir.path, 'client.pem', client.cert);
  files['clientKey'] = writePem(dir.path, 'client.key', client.key);
  ipBackend = await httpsBackend('ip', ipCert);
  namedBackend = await httpsBackend('named', namedCert);
  mtlsBackend = await httpsBackend('mtls', { ...namedCert, clientCa: ca.caCert });
  gw = await startGateway(`
users:${user('verified', ipBackend, `
  tls_ca_file: ${files['ca']}`)}${user('unverified', ipBackend)}${user('skipverify', ipBackend, `
  tls_insecure_skip_verify: true`)}${user('servername', namedBackend, `
  tls_ca_file: ${files['ca']}
  tls_server_name: backend.internal`)}${user('wrongname', namedBackend, `
  tls_ca_file: ${files['ca']}`)}${user('mtls', mtlsBackend, `
  tls_ca_file: ${files['ca']}
  tls_server_name: backend.internal
  tls_cert_file: ${files['clientCert']}
  tls_key_file: ${files['clientKey']}`)}${user('nocert', mtlsBackend, `
  tls_ca_file: ${files['ca']}
  tls_server_name: backend.internal`)}${user('rotating', ipBackend, `
  tls_ca_file: ${files['rotating']}`)}
`, { flags: ['-loggerLevel=ERROR'] });
  // The same trust set up once for all users through the -backend.* flags.
  gwFlags = await startGateway(`
users:${user('viaflags', mtlsBackend)}
`, { flags: [`-backend.TLSCAFile=${files['ca']}`, '-backend.TLSServerName=backend.internal', `-backend.TLSCertFile=${files['clientCert']}`, `-backend.TLSKeyFile=${files['clientKey']}`] });
});

after(async () => {
  await gw?.stop();
  await gwFlags?.stop();
  for (const s of servers) { s.closeAllConnections(); s.close(); }
  dir.remove();
});

async function get(g: Gateway, name: string): Promise<{ status: number; body: string }> {
  const r = await fetch(`${g.url}/x`, { headers: { authorization: basic(name, `${name}-secret`) } });
  return { status: r.status, body: await r.text() };
}

describe('backend TLS verification', () => {
  test('a backend certificate issued by tls_ca_file is accepted', async () => {
    assert.deepEqual(await get(gw, 'verified'), { status: 200, body: 'ip ok' });
  });

  test('without the CA the same backend is refused (system roots do not know it)', async () => {
    const before = seen.length;
    const r = await get(gw, 'unverified');
    assert.equal(r.status, 502);
    assert.match(r.body, /all the 1 backends for the user "unverified" are unavailable/);
    assert.equal(seen.length, before, 'no request reached the backend');
  });

  test('tls_insecure_skip_verify accepts it without the CA', async () => {
    assert.equal((await get(gw, 'skipverify')).status, 200);
  });

  test('tls_server_name verifies the certificate against that name, not the URL host', async () => {
    assert.deepEqual(await get(gw, 'servername'), { status: 200, body: 'named ok' });
    assert.equal((await get(gw, 'wrongname')).status, 502, 'the certificate is not valid for 127.0.0.1');
  });

  test('tls_cert_file / tls_key_file present a client certificate; without one the mTLS backend refuses', async () => {
    assert.deepEqual(await get(gw, 'mtls'), { status: 200, body: 'mtls ok' });
    assert.equal((await get(gw, 'nocert')).status, 502);
  });

  test('-backend.TLSCAFile, -backend.TLSServerName, -backend.TLSCertFile and -backend.TLSKeyFile apply to every user', async () => {
    assert.deepEqual(await get(gwFlags, 'viaflags'), { status: 200, body: 'mtls ok' });
  });
});

describe('certificate rotation', () => {
  test('a CA file that changes is re-read: new connections trust the new content', async () => {
    assert.equal((await get(gw, 'rotating')).status, 502, 'the file first holds a CA that did not issue the backend certificate');
    writeFileSync(files['rotating'] as string, ca.caCert);
    let status = 0;
    for (let i = 0; i < 40 && status !== 200; i++) {
      await sleep(150);
      status = (await get(gw, 'rotating')).status;
    }
    assert.equal(status, 200, 'the rewritten CA file was picked up without a restart or reload');
  });
});

test('a TLS file that cannot be read fails the config check with the file named', async () => {
  const cfg = writePem(dir.path, 'bad.yml', `users:\n- username: a\n  password: b\n  url_prefix: ${ipBackend}\n  tls_ca_file: ${dir.path}/missing-ca.pem\n`);
  const p = startProcess(process.execPath, [CLI, `-auth.config=${cfg}`, '-dryRun']);
  const code = await p.exited;
  assert.equal(code, 1);
  assert.match(p.output(), /users\[0\]\.url_prefix: cannot read backend TLS CA file ".*missing-ca\.pem"/);
});
