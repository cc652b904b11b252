// `tenantgate explain` cannot drift from the real pipeline: for every auth kind, route kind and
// enforcement kind, the request explain says each backend would receive is compared with what a
// recording backend actually receives when the same request goes through a running gateway;
// refusals are compared by status. Plus the CLI itself: text and JSON output, exit codes, usage
// errors, and no secret in its output.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { loadConfig } from '../../src/config/load.ts';
import { compileDefaultsFromFlags } from '../../src/gateway/main.ts';
import { parseFlags } from '../../src/flags/parse.ts';
import { closeAllDispatchers } from '../../src/forward/dispatchers.ts';
import { explainRequest, type Explanation, type ExplainInput } from '../../src/explain/explain-request.ts';
import { Logger } from '../../src/observe/logger.ts';
import { startEchoBackend, type EchoBackend } from '../helpers/echo-backend.ts';
import { basic, CLI, startGateway, type Gateway } from '../helpers/gateway.ts';
import { tempDir } from '../helpers/processes.ts';

const run = promisify(execFile);

let backend: EchoBackend;
let gw: Gateway;
let configText = '';
let configPath = '';
let sign: (claims: Record<string, unknown>) => Promise<string>;
const dir = tempDir('tenantgate-explain-');

before(async () => {
  backend = await startEchoBackend('rec');
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const pem = await exportSPKI(publicKey);
  sign = (claims) => new SignJWT(claims).setProtectedHeader({ alg: 'ES256' }).setExpirationTime('5m').sign(privateKey);
  const b = backend.url;
  configText = `
users:
- username: vm-team
  password: vm-team-pass-123
  url_prefix: "${b}/select/0/prometheus?extra_label=team=vm"
- bearer_token: bearer-secret-456
  name: grafana
  url_map:
  - src_paths: ["/api/v1/query.*"]
    url_prefix: "${b}/q"
    headers: ["X-Scope-OrgID: 7"]
  - src_hosts: ["logs\\\\.example\\\\.com"]
    url_prefix: "${b}/by-host"
  - src_query_args: ["db=influx"]
    url_prefix: "${b}/by-arg"
  - src_headers: ["X-Route: special"]
    url_prefix: "${b}/by-header"
  default_url: "${b}/missing"
- auth_token: "Custom token-789"
  url_prefix: "${b}/custom"
  drop_src_path_prefix_parts: 1
- username: prom-tenant
  password: prom-tenant-pass-1
  url_prefix: "${b}"
  tenant: {labels: {tenant: team-a}, enforce: promql}
- username: vm-tenant
  password: vm-tenant-pass-1
  url_prefix: "${b}"
  tenant: {labels: {tenant: team-b}, enforce: victoriametrics}
- username: logs-tenant
  password: logs-tenant-pass-1
  url_prefix: "${b}"
  tenant: {enforce: victorialogs, logs: {account_id: 3, project_id: 4, extra_filters: ["level:error"]}}
- name: jwt-users
  jwt:
    public_keys:
    - |
${pem.trim().split('\n').map((l) => '      ' + l).join('\n')}
  url_prefix: "${b}/jwt?extra_label={{.MetricsExtraLabels}}"
- username: maponly
  password: maponly-pass-1
  url_map:
  - src_paths: ["/only/.*"]
    url_prefix: "${b}/only"
unauthorized_user:
  url_map:
  - src_paths: ["/public/.*"]
    url_prefix: "${b}/open"
`;
  configPath = join(dir.path, 'auth.yml');
  writeFileSync(configPath, configText);
  gw = await startGateway(configText);
});

after(async () => {
  await gw?.stop();
  await backend?.close();
  await closeAllDispatchers();
  dir.remove();
});

interface Case {
  readonly name: string;
  readonly method: string;
  readonly url: string;
  readonly headers: [string, string][];
  readonly body?: string;
  /** For explain: a named user or JWT claims instead of the request's credentials. */
  readonly explainAs?: Pick<ExplainInput, 'userName' | 'jwtClaims'>;
}

const A = (u: string, p: string): [string, string] => ['Authorization', basic(u, p)];

const CASES: Case[] = [
  { name: 'basic user, url_prefix args win', method: 'GET', url: '/api/v1/query?query=up&extra_label=team=other', headers: [A('vm-team', 'vm-team-pass-123')] },
  { name: 'bearer user, url_map by path with a header', method: 'GET', url: '/api/v1/query_range?query=up&step=15', headers: [['Authorization', 'Bearer bearer-secret-456']] },
  { name: 'url_map by host', method: 'GET', url: '/select/logsql/query?query=*', headers: [['Authorization', 'Bearer bearer-secret-456'], ['Host', 'logs.example.com']] },
  { name: 'url_map by query arg', method: 'POST', url: '/write?db=influx', headers: [['Authorization', 'Bearer bearer-secret-456'], ['Content-Type', 'text/plain']], body: 'cpu value=1\n' },
  { name: 'url_map by header', method: 'GET', url: '/anything', headers: [['Authorization', 'Bearer bearer-secret-456'], ['X-Route', 'special']] },
  { name: 'default_url', method: 'GET', url: '/nowhere?x=1', headers: [['Authorization', 'Bearer bearer-secret-456']] },
  { name: 'auth_token with drop_src_path_prefix_parts', method: 'GET', url: '/prefix/api/v1/labels', headers: [['Authorization', 'Custom token-789']] },
  { name: 'promql tenant: query rewritten', method: 'GET', url: '/api/v1/query?query=sum(rate(http_requests_total[5m]))', headers: [A('prom-tenant', 'prom-tenant-pass-1')] },
  { name: 'promql tenant: series with match[]', method: 'POST', url: '/api/v1/series', headers: [A('prom-tenant', 'prom-tenant-pass-1'), ['Content-Type', 'application/x-www-form-urlencoded']], body: 'match[]=up&match[]=node_load1' },
  { name: 'victoriametrics tenant: client extra_label replaced', method: 'GET', url: '/api/v1/export?match[]=up&extra_label=tenant=team-a', headers: [A('vm-tenant', 'vm-tenant-pass-1')] },
  { name: 'victorialogs tenant: query with filters', method: 'GET', url: '/select/logsql/query?query=error', headers: [A('logs-tenant', 'logs-tenant-pass-1'), ['AccountID', '0']] },
  { name: 'victorialogs tenant: jsonline insert', method: 'POST', url: '/insert/jsonline?_stream_fields=app', headers: [A('logs-tenant', 'logs-tenant-pass-1'), ['Content-Type', 'application/stream+json']], body: '{"_msg":"hello","app":"x"}\n' },
  { name: 'unauthorized_user', method: 'GET', url: '/public/page', headers: [] },
  { name: 'a named user instead of credentials', method: 'GET', url: '/api/v1/query?query=up', headers: [A('vm-team', 'vm-team-pass-123')], explainAs: { userName: 'vm-team' } },
];

const REFUSALS: Case[] = [
  { name: 'promql tenant: admin path', method: 'POST', url: '/api/v1/admin/tsdb/delete_series?match[]=up', headers: [A('prom-tenant', 'prom-tenant-pass-1')] },
  { name: 'promql tenant: unknown path', method: 'GET', url: '/api/v1/status/top_queries', headers: [A('prom-tenant', 'prom-tenant-pass-1')] },
  { name: 'wrong password', method: 'GET', url: '/api/v1/query?query=up', headers: [A('vm-team', 'not-the-password')] },
  { name: 'no credentials, no unauthorized route', method: 'GET', url: '/api/v1/query?query=up', headers: [] },
  { name: 'missing route', method: 'GET', url: '/nope', headers: [A('maponly', 'maponly-pass-1')] },
  { name: 'unauthorized_user without a route asks for credentials', method: 'GET', url: '/private', headers: [] },
];

/** Headers compared between explain and the backend: the ones a route or policy decides. */
function decided(lines: readonly string[]): string[] {
  const skip = new Set(['host', 'content-length', 'connection', 'x-forwarded-for', 'transfer-encoding', 'authorization']);
  return lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()] as const)
    .filter(([n]) => !skip.has(n)).map(([n, v]) => `${n}: ${v}`).sort();
}

async function explainInProcess(c: Case): Promise<Explanation> {
  const flags = parseFlags([]);
  const log = new Logger({ level: 'ERROR', format: 'default', output: 'stderr', disableTimestamps: true });
  const { config } = await loadConfig(configPath, { ...compileDefaultsFromFlags(flags), jwtLogger: log });
  try {
    return await explainRequest(config, { method: c.method, url: c.url, headers: c.body !== undefined ? [...c.headers, ['Content-Length', String(Buffer.byteLength(c.body))]] : c.headers, body: c.body !== undefined ? Buffer.from(c.body) : null, ...c.explainAs }, { authHeaderNames: ['authorization'], configText });
  } finally {
    config.jwt?.authenticator.close();
    for (const s of config.backendSets) s.retire();
  }
}

/** The request exactly as the case lists it (node:http adds only Connection). */
function sendThroughGateway(c: Case): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers: [string, string][] = [...c.headers];
    if (c.body !== undefined) headers.push(['Content-Length', String(Buffer.byteLength(c.body))]);
    // Raw header arrays get no automatic Host.
    if (!headers.some(([k]) => k.toLowerCase() === 'host')) headers.unshift(['Host', `127.0.0.1:${gw.port}`]);
    const req = request(`${gw.url}${c.url}`, { method: c.method, agent: false, headers: headers.flat() }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode ?? 0)); });
    req.on('error', reject);
    req.end(c.body);
  });
}

describe('explain equals what the backend receives', () => {
  for (const c of CASES) {
    test(c.name, async () => {
      const e = await explainInProcess(c);
      assert.equal(e.decision, 'forward', JSON.stringify(e.refusal));
      const before = backend.received.length;
      const status = await sendThroughGateway(c);
      assert.equal(status, 200);
      const got = backend.received[before];
      assert.ok(got !== undefined, 'the backend received the request');
      const want = e.forward?.requests[0];
      assert.ok(want !== undefined);
      assert.equal(want.method, got.method);
      assert.equal(want.path, got.url);
      const gotLines: string[] = [];
      for (let i = 0; i < got.rawHeaders.length; i += 2) gotLines.push(`${got.rawHeaders[i]}: ${got.rawHeaders[i + 1]}`);
      assert.deepEqual(decided(want.headers), decided(gotLines));
      if (c.body !== undefined) assert.equal(e.forward?.body, got.body);
    });
  }

  test('a JWT user: --jwt-claims explains what the signed token gets', async () => {
    const claims = { vm_access: { metrics_extra_labels: ['team=jwt-a'] } };
    const c: Case = { name: 'jwt', method: 'GET', url: '/api/v1/query?query=up', headers: [], explainAs: { jwtClaims: claims } };
    const e = await explainInProcess(c);
    assert.equal(e.decision, 'forward');
    assert.equal(e.user?.matched_by, 'jwt_claims');
    const before = backend.received.length;
    const token = await sign(claims);
    assert.equal(await sendThroughGateway({ ...c, headers: [['Authorization', `Bearer ${token}`]] }), 200);
    assert.equal(e.forward?.requests[0]?.path, backend.received[before]?.url);
    assert.match(backend.received[before]?.url ?? '', /extra_label=team%3Djwt-a/);
  });

  for (const c of REFUSALS) {
    test(`refusal: ${c.name}`, async () => {
      const e = await explainInProcess(c);
      assert.equal(e.decision, 'refuse');
      const before = backend.received.length;
      const status = await sendThroughGateway(c);
      assert.equal(e.refusal?.status, status);
      assert.equal(backend.received.length, before, 'nothing reached the backend');
    });
  }
});

describe('tenantgate explain (CLI)', () => {
  test('text output in pipeline order with config lines; exit 0 on forward', async () => {
    const { stdout } = await run(process.execPath, [CLI, 'explain', `-auth.config=${configPath}`, '--basic', 'prom-tenant:prom-tenant-pass-1', 'GET', '/api/v1/query?query=up']);
    const lines = stdout.split('\n').map((l) => l.split(/\s+/)[0]).filter((w) => w !== '' && w !== '→');
    assert.deepEqual(lines.slice(0, 6), ['request', 'user', 'route', 'backends', 'headers', 'tenant']);
    assert.match(stdout, new RegExp(`prom-tenant \\[basic\\], matched by credentials — users\\[3\\] \\(${configPath.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:\\d+\\)`));
    assert.match(stdout, /query=up%7Btenant%3D%22team-a%22%7D|query=%7B__name__%3D%22up%22%2Ctenant%3D%22team-a%22%7D|tenant%3D%22team-a%22/);
    assert.ok(!stdout.includes('prom-tenant-pass-1'), 'no password in the output');
  });

  test('--json and exit code 3 on a refusal', async () => {
    const r = await run(process.execPath, [CLI, 'explain', `-auth.config=${configPath}`, '--user', 'prom-tenant', '--json', 'POST', '/api/v1/admin/tsdb/delete_series']).catch((e: { code: number; stdout: string }) => e);
    assert.equal((r as { code?: number }).code, 3);
    const e = JSON.parse((r as { stdout: string }).stdout) as Explanation;
    assert.equal(e.decision, 'refuse');
    assert.deepEqual(e.refusal, { status: 403, reason: 'tenant_admin_path', message: '/api/v1/admin/tsdb/delete_series is an administrative endpoint and is not available to tenant users' });
  });

  test('usage errors exit 2 and say what was expected', async () => {
    const r = await run(process.execPath, [CLI, 'explain', `-auth.config=${configPath}`, '--user', 'a', '--bearer', 'b', 'GET', '/x']).catch((e: { code: number; stderr: string }) => e);
    assert.equal((r as { code?: number }).code, 2);
    assert.match((r as { stderr: string }).stderr, /at most one of --user, --basic, --bearer, --jwt-claims/);
    const r2 = await run(process.execPath, [CLI, 'explain', `-auth.config=${configPath}`, 'GET', 'no-slash']).catch((e: { code: number; stderr: string }) => e);
    assert.equal((r2 as { code?: number }).code, 2);
    assert.match((r2 as { stderr: string }).stderr, /PATH must start with \//);
  });

  test('secrets in the bearer token and url_prefix auth keys are never printed', async () => {
    const { stdout } = await run(process.execPath, [CLI, 'explain', `-auth.config=${configPath}`, '--bearer', 'bearer-secret-456', '--json', 'GET', '/api/v1/query?query=up']);
    assert.ok(!stdout.includes('bearer-secret-456'));
    const e = JSON.parse(stdout) as Explanation;
    assert.equal(e.user?.name, 'grafana');
    assert.deepEqual(e.route?.headers_set, ['X-Scope-OrgID: 7']);
  });
});
