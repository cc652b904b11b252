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
