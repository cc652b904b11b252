// Access logs parsed back field by field, secrets kept out of every log line, bcrypt password
// hashes, -http.pathPrefix, auth keys read from files.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { basic, startGateway, type Gateway } from '../helpers/gateway.ts';
import { startEchoBackend, type EchoBackend } from '../helpers/echo-backend.ts';
import { tempDir } from '../helpers/processes.ts';

let backend: EchoBackend;
before(async () => { backend = await startEchoBackend('logs'); });
after(async () => { await backend?.close(); });

/** Parses `key="value" key2=3` as written by the access log. */
function logfmt(line: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of line.matchAll(/(\w+)=("(?:[^"\\]|\\.)*"|\S+)/g)) {
    const v = m[2] as string;
    out[m[1] as string] = v.startsWith('"') ? JSON.parse(v) as string : v;
  }
  return out;
}

describe('access log', () => {
  let gw: Gateway;
  before(async () => {
    gw = await startGateway(`
users:
- username: auditor
  password: "Sup3r-Secret-Pass"
  access_log:
    filters:
      skip_status_codes: [204]
  url_map:
  - src_paths: ["/ok"]
    url_prefix: "${backend.url}"
  - src_paths: ["/nocontent"]
    url_prefix: "${backend.url}/nc"
- bearer_token: "tok-Very-Secret-123"
  url_prefix: "${backend.url}"
unauthorized_user:
  access_log: {}
`, { flags: ['-logInvalidAuthTokens'] });
    backend.respond((r, res) => { res.writeHead(r.url.startsWith('/nc') ? 204 : 200); res.end(); });
  });
  after(async () => { await gw?.stop(); });

  test('one line per logged request, every field as vmauth writes it', async () => {
    await (await fetch(`${gw.url}/ok?query=up&authKey=hunter22&password=pw123456`, {
      headers: { authorization: basic('auditor', 'Sup3r-Secret-Pass'), 'user-agent': 'grafana/11', referer: 'http://grafana/d/x', cookie: 'session=Cookie-Secret-999' },
    })).text();
    await (await fetch(`${gw.url}/nocontent`, { headers: { authorization: basic('auditor', 'Sup3r-Secret-Pass') } })).text();
    await (await fetch(`${gw.url}/ok`)).text();
    await (await fetch(`${gw.url}/ok`, { headers: { authorization: 'Bearer tok-Wrong-Secret-456' } })).text();
    await new Promise((r) => setTimeout(r, 200));
    const lines = gw.proc.output().split('\n').filter((l) => l.includes('access_log'));
    const auditor = lines.map((l) => logfmt(l)).filter((f) => f['username'] === 'auditor');
    assert.equal(auditor.length, 1, '204 is skipped by skip_status_codes');
    const f = auditor[0] as Record<string, string>;
    assert.equal(f['status_code'], '200');
    assert.equal(f['request_host'], `127.0.0.1:${gw.port}`);
    assert.equal(f['request_uri'], '/ok?query=up&authKey=***&password=***');
    assert.equal(f['user_agent'], 'grafana/11');
    assert.equal(f['referer'], 'http://grafana/d/x');
    assert.match(f['remote_addr'] as string, /^127\.0\.0\.1:\d+$/);
    assert.match(f['duration_ms'] as string, /^\d+$/);
    const unauthorized = lines.map((l) => logfmt(l)).filter((x) => x['username'] === 'unauthorized');
    assert.deepEqual(unauthorized.map((x) => x['status_code']).sort(), ['401', '401']);
    const all = gw.proc.output();
    for (const secret of ['Sup3r-Secret-Pass', 'hunter22', 'pw123456', 'Cookie-Secret-999', 'tok-Wrong-Secret-456', 'tok-Very-Secret-123']) {
      assert.ok(!all.includes(secret), `log leaks ${secret}`);
    }
    assert.match(all, /cannot authorize request: invalid auth token/);
  });

  test('-loggerFormat=json writes one JSON object per line', async () => {
    const g = await startGateway(`users:\n- username: j\n  password: "Json-Secret-Pass"\n  access_log: {}\n  url_prefix: "${backend.url}"\n`, { flags: ['-loggerFormat=json'] });
    try {
      await (await fetch(`${g.url}/ok`, { headers: { authorization: basic('j', 'Json-Secret-Pass') } })).text();
      await new Promise((r) => setTimeout(r, 200));
      const lines = g.proc.output().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      const access = lines.find((l) => l['msg'] === 'access_log');
      assert.ok(access !== undefined);
      assert.equal(access['username'], 'j');
      assert.equal(access['status_code'], 200);
      assert.equal(access['level'], 'info');
    } finally {
      await g.stop();
    }
  });
});

describe('bcrypt password hashes', () => {
  test('a password_hash user logs in with the password; wrong passwords fail; the config holds no plaintext', async () => {
    const hash = await bcrypt.hash('Hashed-Pass-42', 4);
    const gw = await startGateway(`users:\n- username: hashed\n  password_hash: "${hash}"\n  url_prefix: "${backend.url}/h/"\n`);
    try {
      backend.respond((_r, res) => { res.writeHead(200); res.end('ok'); });
      for (let i = 0; i < 3; i++) {
        assert.equal((await fetch(`${gw.url}/x`, { headers: { authorization: basic('hashed', 'Hashed-Pass-42') } })).status, 200);
      }
      assert.equal(backend.received[backend.received.length - 1]?.url, '/h/x');
      assert.equal((await fetch(`${gw.url}/x`, { headers: { authorization: basic('hashed', 'hashed-pass-42') } })).status, 401);
      assert.equal((await fetch(`${gw.url}/x`, { headers: { authorization: basic('other', 'Hashed-Pass-42') } })).status, 401);
    } finally {
      await gw.stop();
    }
  });
});

describe('path prefix and auth keys from files', () => {
  test('-http.pathPrefix serves proxied and built-in paths under the prefix', async () => {
    const dir = tempDir();
    const keyFile = join(dir.path, 'metrics.key');
    writeFileSync(keyFile, 'key-from-file\n');
    const gw = await startGateway(`unauthorized_user:\n  url_prefix: "${backend.url}/"\n`, {
      flags: ['-http.pathPrefix=/gw', `-metricsAuthKey=file://${keyFile}`], readyPath: '/gw/health',
    });
    try {
      backend.respond((_r, res) => { res.writeHead(200); res.end('ok'); });
      assert.equal((await fetch(`${gw.url}/gw/api/v1/query`)).status, 200);
      assert.equal(backend.received[backend.received.length - 1]?.url, '/api/v1/query');
      assert.equal((await fetch(`${gw.url}/api/v1/query`)).status, 400);
      const redirect = await fetch(`${gw.url}/gw`, { redirect: 'manual' });
      assert.equal(redirect.status, 302);
      assert.equal(redirect.headers.get('location'), '/gw/');
      assert.equal((await fetch(`${gw.url}/gw/metrics`)).status, 401);
      assert.equal((await fetch(`${gw.url}/gw/metrics?authKey=key-from-file`)).status, 200);
    } finally {
      await gw.stop();
      dir.remove();
    }
  });
});

describe('no secret leaves where it belongs, for every credential kind', () => {
  test('configured and client secrets never appear in logs, /metrics, /flags, error bodies or backend requests', async () => {
    const { generateKeyPair, exportSPKI, SignJWT } = await import('jose');
    const { randomBytes, createServer } = await Promise.all([import('node:crypto'), import('node:http')]).then(([c, h]) => ({ randomBytes: c.randomBytes, createServer: h.createServer }));
    const rnd = (p: string) => `${p}-${randomBytes(12).toString('base64url')}`;
    const s = {
      basicPass: rnd('BasicPass'), bearer: rnd('BearerTok'), authToken: rnd('AuthTok'), hashedPass: rnd('HashedPass'),
      headerToken: rnd('HdrTok'), backendHeader: rnd('BackendHdr'), backendArg: rnd('BackendArg'),
      metricsKey: rnd('MetricsKey'), flagsKey: rnd('FlagsKey'), reloadKey: rnd('ReloadKey'),
      cfgPass: rnd('CfgPass'), cfgToken: rnd('CfgTok'),
      wrongPass: rnd('WrongPass'), wrongToken: rnd('WrongTok'), queryToken: rnd('QueryTok'), cookie: rnd('Cookie'), vault: rnd('Vault'),
    };
    const keys = await generateKeyPair('RS256');
    const pem = (await exportSPKI(keys.publicKey)).trim().split('\n').map((l) => `        ${l}`).join('\n');
    const jwtValid = await new SignJWT({ vm_access: { logs_account_id: 4 } }).setProtectedHeader({ alg: 'RS256' }).setExpirationTime('10m').sign(keys.privateKey);
    const jwtOtherKey = await new SignJWT({ vm_access: { logs_account_id: 4 } }).setProtectedHeader({ alg: 'RS256' }).setExpirationTime('10m').sign((await generateKeyPair('RS256')).privateKey);
    const hash = await bcrypt.hash(s.hashedPass, 4);
    const configYaml = `
users:
- username: basic-user
  password: "${s.basicPass}"
  dump_request_on_errors: true
  url_map:
  - src_paths: ["/ok.*"]
    url_prefix: "${backend.url}/?authKey=${s.backendArg}"
    headers:
    - "X-Vault-Token: ${s.backendHeader}"
- bearer_token: "${s.bearer}"
  url_prefix: "${backend.url}/"
- auth_token: "${s.authToken}"
  url_prefix: "${backend.url}/"
- username: hashed-user
  password_hash: "${hash}"
  url_prefix: "${backend.url}/"
- name: jwt-user
  jwt:
    public_keys:
      - |
${pem}
  url_prefix: "${backend.url}/"
  headers:
  - "AccountID: {{.LogsAccountID}}"
unauthorized_user:
  access_log: {}
  url_map:
  - src_paths: ["/public.*"]
    url_prefix: "${backend.url}/"
`;
    // -auth.config served over HTTP with user:password@ and a token query arg
    const cfgServer = createServer((req, res) => {
      const ok = req.headers.authorization === basic('cfg', s.cfgPass) && (req.url ?? '').includes(`token=${s.cfgToken}`);
      res.writeHead(ok ? 200 : 401); res.end(ok ? configYaml : 'no');
    });
    await new Promise<void>((r) => cfgServer.listen(0, '127.0.0.1', r));
    let failed = false;
    const cfgPort = (cfgServer.address() as { port: number }).port;
    let gw: Gateway | undefined;
    try {
      const g = await startGateway(configYaml, {
        flags: [
          `-auth.config=http://cfg:${s.cfgPass}@127.0.0.1:${cfgPort}/auth.yml?token=${s.cfgToken}`,
          `-metricsAuthKey=${s.metricsKey}`, `-flagsAuthKey=${s.flagsKey}`, `-reloadAuthKey=${s.reloadKey}`,
          '-logInvalidAuthTokens', '-httpAuthHeader=Authorization', '-httpAuthHeader=X-Api-Token',
        ],
      });
      gw = g;
      failed = true;
      const mark = backend.received.length;
      for (const v of Object.values(s)) g.addSecret(v);
      g.addSecret(jwtValid);
      g.addSecret(jwtOtherKey);
      const bodies: string[] = [];
      const call = async (path: string, headers: Record<string, string>, method = 'GET') => {
        const r = await fetch(`${g.url}${path}`, { method, headers, ...(method === 'POST' ? { body: 'x' } : {}) });
        const text = await r.text();
        if (r.status >= 400) bodies.push(`${r.status} ${text}`);
        return r.status;
      };
      const secretArgs = `?query=up&token=${s.queryToken}&api-key=${s.queryToken}&X-Amz-Security-Token=${s.queryToken}`;
      const extra = { cookie: `sessionid=${s.cookie}`, 'x-vault-token': s.vault, 'private-token': s.vault };
      // every credential kind, right and wrong
      assert.equal(await call(`/ok${secretArgs}`, { authorization: basic('basic-user', s.basicPass), ...extra }), 200);
      assert.equal(await call(`/missing${secretArgs}`, { authorization: basic('basic-user', s.basicPass), ...extra }), 400, 'dump_request_on_errors');
      assert.equal(await call(`/x${secretArgs}`, { authorization: `Bearer ${s.bearer}`, ...extra }), 200);
      assert.equal(await call(`/x${secretArgs}`, { authorization: s.authToken, ...extra }), 200);
      assert.equal(await call(`/x${secretArgs}`, { 'x-api-token': `Bearer ${s.bearer}`, ...extra }), 200);
      assert.equal(await call(`/x${secretArgs}`, { authorization: basic('hashed-user', s.hashedPass), ...extra }), 200);
      assert.equal(await call(`/x${secretArgs}`, { authorization: `Bearer ${jwtValid}`, ...extra }), 200);
      assert.equal(await call(`/public${secretArgs}`, { authorization: basic('basic-user', s.wrongPass), ...extra }), 200, 'failed credentials reach unauthorized_user');
      assert.equal(await call(`/public${secretArgs}`, { authorization: `Bearer ${jwtOtherKey}`, ...extra }), 200, 'a token signed by another key reaches unauthorized_user');
      assert.equal(await call(`/x${secretArgs}`, { authorization: `Bearer ${s.wrongToken}` }), 401);
      assert.equal(await call(`/x${secretArgs}`, { authorization: basic('hashed-user', s.wrongPass) }), 401);
      // operator endpoints with their keys, and with wrong keys
      const metrics = await (await fetch(`${g.url}/metrics?authKey=${s.metricsKey}`)).text();
      const flags = await (await fetch(`${g.url}/flags?authKey=${s.flagsKey}`)).text();
      assert.match(metrics, /flag\{name="auth.config",value="http:\/\/cfg:\*\*\*@127\.0\.0\.1:\d+\/auth\.yml\?token=\*\*\*"/);
      assert.match(flags, /-auth\.config="http:\/\/cfg:\*\*\*@/);
      await call(`/metrics?authKey=${s.wrongPass}`, {});
      // a failing reload (the config server refuses) must not print the config URL's secrets
      cfgServer.removeAllListeners('request');
      cfgServer.on('request', (_req, res) => { res.writeHead(500); res.end('down'); });
      assert.equal(await call(`/-/reload?authKey=${s.reloadKey}`, {}), 400);
      await new Promise((r) => setTimeout(r, 200));

      const places: [string, string][] = [['/metrics', metrics], ['/flags', flags], ['error bodies', bodies.join('\n')], ['logs', g.proc.output()]];
      for (const [where, text] of places) {
        const found = g.secretsIn(text);
        const context = found.map((x) => text.slice(Math.max(0, text.indexOf(x) - 160), text.indexOf(x)).split('\n').pop()).join('\n');
        assert.deepEqual(found.map((x) => x.slice(0, 12)), [], `secrets in ${where}, after: ${context}`);
      }
      assert.match(g.proc.output(), /failed to reload -auth.config="http:\/\/cfg:\*\*\*@/);
      assert.match(g.proc.output(), /missing route for .*args: .*token=\*\*\*/, 'dump_request_on_errors masks secret args');

      // backends get what their route sends, never a credential the gateway consumed
      const consumed = [s.basicPass, s.bearer, s.authToken, s.hashedPass, s.wrongPass, jwtValid, jwtOtherKey,
        Buffer.from(`basic-user:${s.basicPass}`).toString('base64'), Buffer.from(`hashed-user:${s.hashedPass}`).toString('base64'), Buffer.from(`basic-user:${s.wrongPass}`).toString('base64')];
      const mine = backend.received.slice(mark);
      for (const r of mine) {
        const all = `${r.url}\n${r.rawHeaders.join('\n')}\n${r.body}`;
        for (const c of consumed) assert.ok(!all.includes(c), `a consumed credential reached the backend: ${c.slice(0, 12)}…`);
      }
      const ok = mine.find((r) => r.url.startsWith('/ok'));
      assert.equal(ok?.headers['x-vault-token'], s.backendHeader, 'the route\'s own header is sent');
      assert.match(ok?.url ?? '', new RegExp(`authKey=${s.backendArg}`), 'the url_prefix\'s own arg is sent');
      failed = false;
    } finally {
      cfgServer.closeAllConnections();
      cfgServer.close();
      // stop() also checks the whole log for every secret; an earlier failure is the one to report
      await gw?.stop().catch((err: Error) => { if (!failed) throw err; });
    }
  });
});
