// One named test per behaviour where tenantgate used to differ from vmauth (v1.152 docs and
// source), each through the built gateway process; side by side with Debian's vmauth where its
// version (1.79.5) has the behaviour.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SignJWT, exportSPKI, generateKeyPair } from 'jose';
import { basic, CLI, startGateway, type Gateway } from '../helpers/gateway.ts';
import { startEchoBackend, type EchoBackend } from '../helpers/echo-backend.ts';
import { sleep, startProcess, tempDir } from '../helpers/processes.ts';
import { startVmAuth } from '../helpers/vmauth.ts';

let backend: EchoBackend;
const stops: (() => Promise<unknown>)[] = [];

before(async () => { backend = await startEchoBackend('diff'); });
after(async () => {
  for (const s of stops.reverse()) await s();
  await backend?.close();
});

async function gateway(yaml: string, flags: string[] = [], internal = false): Promise<Gateway> {
  const gw = await startGateway(yaml, { flags: ['-loggerLevel=INFO', ...flags], internal });
  stops.push(() => gw.stop());
  return gw;
}

/** Runs a binary to completion (bounded) and returns its exit code and output. */
async function run(command: string, args: string[]): Promise<{ code: number | string | null; output: string }> {
  const p = startProcess(command, args);
  const timer = setTimeout(() => { void p.stop(); }, 15_000);
  const code = await p.exited;
  clearTimeout(timer);
  return { code, output: p.output() };
}

describe('config', () => {
  test('url_prefix without a host is refused, as by Debian vmauth', async () => {
    const dir = tempDir('tenantgate-nohost-');
    const path = join(dir.path, 'auth.yml');
    writeFileSync(path, 'users:\n- username: a\n  password: b\n  url_prefix: "http:///select/0/prometheus"\n');
    try {
      const tg = await run(process.execPath, [CLI, `-auth.config=${path}`, '-dryRun']);
      assert.equal(tg.code, 1, tg.output);
      assert.match(tg.output, /url_prefix: missing hostname in "http:\/\/\/select\/0\/prometheus"/);
      const vm = await run('vmauth', [`-auth.config=${path}`, '-httpListenAddr=127.0.0.1:0']);
      assert.notEqual(vm.code, 0, vm.output);
      assert.match(vm.output, /missing hostname/);
    } finally {
      dir.remove();
    }
  });
});

describe('JWT', () => {
  let gw: Gateway;
  let sign: (claims: Record<string, unknown>) => Promise<string>;
  before(async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    const pem = await exportSPKI(publicKey);
    sign = (claims) => new SignJWT(claims).setProtectedHeader({ alg: 'RS256' }).setExpirationTime('5m').sign(privateKey);
    gw = await gateway(`
users:
- name: signed
  jwt:
    public_keys:
    - |
${pem.trim().split('\n').map((l) => '      ' + l).join('\n')}
    match_claims: {team: signed}
  url_prefix: "${backend.url}/signed"
- name: testing
  jwt:
    skip_verify: true
    match_claims: {team: testing}
  url_prefix: "${backend.url}/unverified"
- name: defaulted
  jwt:
    public_keys:
    - |
${pem.trim().split('\n').map((l) => '      ' + l).join('\n')}
    match_claims: {team: defaulted}
    default_vm_access_claim: {metrics_account_id: 5, metrics_project_id: 6}
  url_prefix: "${backend.url}/select/{{.MetricsTenant}}/prometheus"
  headers: ["AccountID: {{.MetricsAccountID}}", "ProjectID: {{.MetricsProjectID}}"]
unauthorized_user:
  url_prefix: "${backend.url}/anonymous"
`);
  });

  test('the Bearer scheme is case-insensitive', async () => {
    const token = await sign({ team: 'signed', vm_access: {} });
    for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
      const r = await fetch(`${gw.url}/q`, { headers: { authorization: `${scheme} ${token}` } });
      assert.equal(r.status, 200, `${scheme}: ${await r.text()}`);
    }
    assert.equal(backend.received.at(-1)?.url, '/signed/q');
  });

  test('jwt.skip_verify accepts unsigned and unverified tokens, and says so at start-up', async () => {
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const exp = Math.floor(Date.now() / 1000) + 300;
    const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ team: 'testing', exp, vm_access: {} })}.`;
    const hs = `${b64({ alg: 'HS256' })}.${b64({ team: 'testing', exp, vm_access: {} })}.c2lnbmF0dXJl`;
    for (const t of [unsigned, hs]) {
      const r = await fetch(`${gw.url}/q`, { headers: { authorization: `Bearer ${t}` } });
      assert.equal(r.status, 200, await r.text());
      assert.equal(backend.received.at(-1)?.url, '/unverified/q');
    }
    assert.match(gw.proc.output(), /skip_verify: true — token signatures are NOT verified/);
  });

  test('a JWT without vm_access and no default_vm_access_claim falls through to unauthorized_user', async () => {
    const token = await sign({ team: 'signed' });
    const r = await fetch(`${gw.url}/q`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(r.status, 200, await r.text());
    assert.equal(backend.received.at(-1)?.url, '/anonymous/q');
  });

  test('default_vm_access_claim fills {{.MetricsTenant}}, {{.MetricsAccountID}} and {{.MetricsProjectID}}; client tenant headers lose', async () => {
    const token = await sign({ team: 'defaulted' });
    const res = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: gw.port, path: '/api/v1/query?query=up', headers: { authorization: `Bearer ${token}`, AccountID: 'multitenant', ProjectID: '9' } }, (r) => { r.resume(); r.on('end', () => resolve(r.statusCode ?? 0)); });
      req.on('error', reject);
      req.end();
    });
    assert.equal(res, 200);
    const got = backend.received.at(-1)!;
    assert.equal(got.url, '/select/5:6/prometheus/api/v1/query?query=up');
    assert.equal(got.headers['accountid'], '5');
    assert.equal(got.headers['projectid'], '6');
  });

  test('an unsigned token never reaches a user that verifies signatures', async () => {
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const forged = `${b64({ alg: 'none' })}.${b64({ team: 'signed', exp: Math.floor(Date.now() / 1000) + 300, vm_access: {} })}.`;
    const r = await fetch(`${gw.url}/q`, { headers: { authorization: `Bearer ${forged}` } });
    // Not the verifying user: the request is served as unauthorized_user, never as `signed`.
    assert.equal(r.status, 200);
    assert.equal(backend.received.at(-1)?.url, '/anonymous/q');
  });
});

describe('retry_status_codes without a retry', () => {
  let gw: Gateway;
  let noRetry: Gateway;
  let flaky: EchoBackend;
  before(async () => {
    flaky = await startEchoBackend('flaky');
    stops.push(() => flaky.close());
    // 500, not 503: passing the backend's status through must not look like the right answer.
    flaky.respond((_r, res) => { res.writeHead(500); res.end('busy'); });
    const cfg = `unauthorized_user:\n  url_prefix: ["${flaky.url}/", "${flaky.url}/"]\n  retry_status_codes: [500]\n`;
    gw = await gateway(cfg, ['-maxRequestBodySizeToRetry=16'], false);
    noRetry = await gateway(cfg, ['-maxRequestBodySizeToRetry=0'], false);
  });

  test('503 when the body is too large to retry', async () => {
    const r = await fetch(`${gw.url}/write`, { method: 'POST', body: 'x'.repeat(64) });
    assert.equal(r.status, 503);
    assert.match(await r.text(), /got response status code=500 .* cannot retry the request at another backend/);
  });

  test('503 when retries are disabled (-maxRequestBodySizeToRetry=0)', async () => {
    const r = await fetch(`${noRetry.url}/write`, { method: 'POST', body: 'small' });
    assert.equal(r.status, 503);
  });

  test('a retryable request still goes to the next backend and ends in 502 when all answer a retry status', async () => {
    const before = flaky.received.length;
    const r = await fetch(`${gw.url}/read`);
    assert.equal(r.status, 502);
    assert.equal(flaky.received.length - before, 2);
  });
});

describe('first_available after the first backend recovers', () => {
  test('the first request after recovery goes to the first backend again', async () => {
    let firstHits = 0;
    const first: Server = createServer((req, res) => { firstHits++; req.resume(); res.end('first'); });
    await new Promise<void>((r) => first.listen(0, '127.0.0.1', r));
    const port = (first.address() as AddressInfo).port;
    const second = await startEchoBackend('second');
    stops.push(() => second.close());
    const gw = await gateway(`unauthorized_user:\n  url_prefix: ["http://127.0.0.1:${port}/", "${second.url}/"]\n  load_balancing_policy: first_available\n`, ['-failTimeout=200ms']);
    const body = async () => (await fetch(`${gw.url}/x`)).text();
    assert.equal(await body(), 'first');
    first.closeAllConnections();
    await new Promise<void>((r) => first.close(() => r()));
    assert.equal(await body(), 'backend second');
    assert.equal(await body(), 'backend second');
    // The first backend comes back; vmauth's health check dials it every -failTimeout, so once
    // that has happened the very next request goes to it (no request is spent noticing).
    const back = createServer((req, res) => { firstHits++; req.resume(); res.end('first'); });
    await new Promise<void>((r) => back.listen(port, '127.0.0.1', r));
    stops.push(() => new Promise<void>((r) => { back.closeAllConnections(); back.close(() => r()); }));
    await sleep(1500);
    const hitsBefore = firstHits;
    assert.equal(await body(), 'first');
    assert.equal(firstHits, hitsBefore + 1);
  });
});

describe('built-in paths', () => {
  test('/favicon.ico answers 200 with an empty body (any path ending in it)', async () => {
    const gw = await gateway(`unauthorized_user:\n  url_prefix: "${backend.url}/"\n`);
    for (const p of ['/favicon.ico', '/ui/favicon.ico']) {
      const r = await fetch(gw.url + p);
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('cache-control'), 'max-age=3600');
      assert.equal(await r.text(), '');
    }
  });

  test('with -httpInternalListenAddr: unknown paths there get 400, and the main listener proxies every path', async () => {
    const gw = await gateway(`users:\n- username: u\n  password: p\n  url_prefix: "${backend.url}/main"\n`, [], true);
    const r = await fetch(`${gw.internalUrl}/nope`);
    assert.equal(r.status, 400);
    assert.equal(await r.text(), 'unsupported path requested: "/nope"\n');
    // /metrics and /nope on the main listener are ordinary proxied paths there.
    assert.equal((await fetch(`${gw.url}/metrics`)).status, 401);
    const proxied = await fetch(`${gw.url}/nope`, { headers: { authorization: basic('u', 'p') } });
    assert.equal(proxied.status, 200);
    assert.equal(backend.received.at(-1)?.url, '/main/nope');
  });
});

describe('deny_paths', () => {
  let gw: Gateway;
  before(async () => {
    gw = await gateway(`
users:
- username: u
  password: p
  url_map:
  - src_paths: ["/select/.*"]
    deny_paths: ["/select/[^/]+/prometheus/api/v1/status/active_queries"]
    url_prefix: "${backend.url}/vmselect"
  - src_paths: ["/.*"]
    url_prefix: "${backend.url}/fallthrough"
unauthorized_user:
  url_map:
  - src_paths: ["/pub/.*"]
    deny_paths: ["/pub/secret"]
    url_prefix: "${backend.url}/public"
`, ['-tenantDefaults=vmauth']);
  });

  test('a denied path is refused with 403 and does not fall through to later entries', async () => {
    const n = backend.received.length;
    const r = await fetch(`${gw.url}/select/0/prometheus/api/v1/status/active_queries`, { headers: { authorization: basic('u', 'p') } });
    assert.equal(r.status, 403);
    assert.match(await r.text(), /denied by deny_paths/);
    assert.equal(backend.received.length, n);
    const ok = await fetch(`${gw.url}/select/0/prometheus/api/v1/query`, { headers: { authorization: basic('u', 'p') } });
    assert.equal(ok.status, 200);
    assert.equal(backend.received.at(-1)?.url, '/vmselect/select/0/prometheus/api/v1/query');
  });

  test('for a request without credentials, a denied path asks for credentials instead', async () => {
    const r = await fetch(`${gw.url}/pub/secret`);
    assert.equal(r.status, 401);
    assert.equal(r.headers.get('www-authenticate'), 'Basic realm="Restricted"');
    assert.equal((await fetch(`${gw.url}/pub/open`)).status, 200);
  });

  test('refusals are counted by reason', async () => {
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    assert.match(text, /vmauth_http_request_errors_total\{reason="path_denied"\} [1-9]/);
  });
});

describe('tenant-selecting headers', () => {
  /** Sends raw header lines (fetch would merge or refuse some). */
  function send(port: number, path: string, headers: Record<string, string>): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, headers }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode ?? 0)); });
      req.on('error', reject);
      req.end();
    });
  }
  const config = (b: EchoBackend) => `
users:
- username: pinned
  password: p
  url_prefix: "${b.url}/?extra_label=tenant=a"
- username: cluster
  password: p
  url_prefix: "${b.url}/select/3/prometheus"
- username: tenant
  password: p
  url_prefix: "${b.url}/"
  tenant: {enforce: victoriametrics, labels: {tenant: a}}
- username: open
  password: p
  url_prefix: "${b.url}/"
`;
  const spoof = { AccountID: 'multitenant', ProjectID: '7' };

  test('client AccountID/ProjectID never reach the backend where url_prefix or tenant: fixes the tenant', async () => {
    const rec = await startEchoBackend('rec');
    stops.push(() => rec.close());
    const gw = await gateway(config(rec));
    for (const u of ['pinned', 'cluster', 'tenant']) {
      for (const h of [spoof, { AccountID: '1' }, { accountid: '0:0', projectid: '1' }] as Record<string, string>[]) {
        const n = rec.received.length;
        assert.equal(await send(gw.port, '/api/v1/query?query=up', { authorization: basic(u, 'p'), ...h }), 200, u);
        assert.equal(rec.received.length, n + 1);
        const got = rec.received.at(-1)!;
        assert.equal(got.headers['accountid'], undefined, `${u}: ${JSON.stringify(h)}`);
        assert.equal(got.headers['projectid'], undefined, `${u}: ${JSON.stringify(h)}`);
      }
    }
    // A user whose url_prefix fixes nothing is proxied as vmauth proxies it.
    await send(gw.port, '/api/v1/query?query=up', { authorization: basic('open', 'p'), ...spoof });
    assert.equal(rec.received.at(-1)!.headers['accountid'], 'multitenant');
  });

  test('-tenantDefaults=vmauth forwards them and proxies unscoped paths, exactly as Debian vmauth does', async () => {
    const rec = await startEchoBackend('rec-vmauth');
    stops.push(() => rec.close());
    const pinnedOnly = `users:\n- username: pinned\n  password: p\n  url_prefix: "${rec.url}/?extra_label=tenant=a"\n`;
    const gw = await gateway(pinnedOnly, ['-tenantDefaults=vmauth']);
    const vm = await startVmAuth(pinnedOnly);
    stops.push(() => vm.stop());
    const seen: Record<string, string | undefined>[] = [];
    for (const port of [gw.port, vm.port]) {
      assert.equal(await send(port, '/api/v1/query?query=up', { authorization: basic('pinned', 'p'), ...spoof }), 200);
      const h = rec.received.at(-1)!.headers;
      seen.push({ accountid: h['accountid'] as string | undefined, projectid: h['projectid'] as string | undefined });
      assert.equal(await send(port, '/api/v1/status/top_queries', { authorization: basic('pinned', 'p') }), 200);
    }
    assert.deepEqual(seen, [{ accountid: 'multitenant', projectid: '7' }, { accountid: 'multitenant', projectid: '7' }]);
    assert.match(gw.proc.output(), /-tenantDefaults=vmauth: users whose url_prefix pins extra_label\/extra_filters are NOT protected/);
  });
});

describe('vmauth-style VictoriaLogs tenant (url_prefix pins extra_filters)', () => {
  test('LogsQL paths are proxied as vmauth proxies them; the tenant list, admin paths and client AccountID are not', async () => {
    const vl = await startEchoBackend('victorialogs');
    stops.push(() => vl.close());
    const gw = await gateway(`
users:
- username: logs-a
  password: p
  url_prefix: "${vl.url}/?extra_filters=team:a"
  headers: ["AccountID: 3"]
`);
    const auth = { authorization: basic('logs-a', 'p') };
    for (const p of ['/select/logsql/query?query=error', '/select/logsql/hits?query=*', '/select/logsql/field_names', '/insert/jsonline', '/abc/def']) {
      const n = vl.received.length;
      assert.equal((await fetch(gw.url + p, { headers: auth })).status, 200, p);
      assert.equal(vl.received.length, n + 1, p);
    }
    assert.match(vl.received.at(-5)!.url, /^\/select\/logsql\/query\?extra_filters=team%3Aa&extra_filters%5B%5D=team%3Aa&query=error$/);
    for (const [p, reason] of [['/select/tenant_ids', 'tenant_unscoped_endpoint'], ['/internal/force_merge', 'tenant_admin_endpoint'], ['/debug/pprof/heap', 'tenant_admin_endpoint']]) {
      const n = vl.received.length;
      const r = await fetch(gw.url + p!, { headers: auth });
      assert.equal(r.status, 403, p);
      assert.equal(vl.received.length, n, `${p} reached the backend`);
      assert.ok((await r.text()).length > 0);
      assert.match(await (await fetch(`${gw.url}/metrics`)).text(), new RegExp(`tenantgate_requests_denied_total\\{reason="${reason}"\\} [1-9]`));
    }
    // The route's own AccountID is sent; the client's never replaces it, and ProjectID is dropped.
    await fetch(`${gw.url}/select/logsql/query?query=x`, { headers: { ...auth, AccountID: '0', ProjectID: '9' } });
    assert.equal(vl.received.at(-1)!.headers['accountid'], '3');
    assert.equal(vl.received.at(-1)!.headers['projectid'], undefined);
  });
});
