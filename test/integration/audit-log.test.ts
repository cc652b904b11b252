// The audit log end to end: the gateway runs against a real VictoriaMetrics with -auditLog set,
// and every kind of event — refusal, tenant-enforced request, reload (SIGHUP, /-/reload, failed),
// rejected JWT — is checked field by field in the file. No configured secret, credential or
// query-arg secret may appear in it, and the file rotates by size.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { basic, startGateway, type Gateway } from '../helpers/gateway.ts';
import { sleep, tempDir } from '../helpers/processes.ts';
import { startVictoriaMetrics, type VictoriaMetrics } from '../helpers/victoria-metrics.ts';

const SECRETS = ['audit-pass-a-1234', 'audit-pass-b-5678', 'wrong-password-99', 'authkey-in-url-42'];
const A = basic('team-a', 'audit-pass-a-1234');

type Line = Record<string, unknown>;

let vm: VictoriaMetrics;
let gw: Gateway;
let gwText: Gateway;
const dir = tempDir('tenantgate-audit-');
const auditPath = join(dir.path, 'audit.log');
const auditTextPath = join(dir.path, 'audit-text.log');
let config = '';

function lines(path: string): Line[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Line);
}

/** Waits (bounded: 5 s) until a line matching `pred` is in the file; the writer is asynchronous. */
async function waitLine(path: string, pred: (l: Line) => boolean): Promise<Line> {
  for (let i = 0; i < 100; i++) {
    const hit = lines(path).find(pred);
    if (hit !== undefined) return hit;
    await sleep(50);
  }
  throw new Error(`no matching audit line in ${path}; have:\n${readFileSync(path, 'utf8')}`);
}

before(async () => {
  vm = await startVictoriaMetrics();
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const pem = await exportSPKI(publicKey);
  signer = (claims) => new SignJWT(claims).setProtectedHeader({ alg: 'ES256' }).sign(privateKey);
  config = `
users:
- username: team-a
  password: audit-pass-a-1234
  url_prefix: ${vm.url}
  tenant: {labels: {tenant: team-a}, enforce: promql}
- username: team-b
  password: audit-pass-b-5678
  url_prefix: ${vm.url}
- name: jwt-users
  jwt:
    public_keys:
    - |
${pem.trim().split('\n').map((l) => '      ' + l).join('\n')}
  url_prefix: "${vm.url}/?extra_label={{.MetricsExtraLabels}}"
`;
  gw = await startGateway(config, { flags: [`-auditLog=${auditPath}`, '-auditLog.maxSize=4KiB'] });
  gwText = await startGateway(config, { flags: [`-auditLog=${auditTextPath}`, '-auditLog.queryText'] });
});

let signer: (claims: Record<string, unknown>) => Promise<string>;

after(async () => {
  await gw?.stop();
  await gwText?.stop();
  await vm?.stop();
  // The rotated file must be as clean as the current one.
  for (const p of [auditPath, `${auditPath}.1`, auditTextPath]) {
    if (!existsSync(p)) continue;
    const text = readFileSync(p, 'utf8');
    for (const s of SECRETS) assert.ok(!text.includes(s), `${p} contains a secret`);
  }
  dir.remove();
});

describe('audit log (-auditLog)', () => {
  test('a tenant refusal is one line with user, tenant, method, path, status and reason — never the query string', async () => {
    const r = await fetch(`${gw.url}/api/v1/admin/tsdb/delete_series?match[]=up&authKey=authkey-in-url-42`, { method: 'POST', headers: { authorization: A } });
    assert.equal(r.status, 403);
    const l = await waitLine(auditPath, (x) => x['event'] === 'refusal' && x['path'] === '/api/v1/admin/tsdb/delete_series');
    assert.equal(l['user'], 'team-a');
    assert.equal(l['tenant'], 'tenant=team-a');
    assert.equal(l['method'], 'POST');
    assert.equal(l['status'], 403);
    assert.equal(l['reason'], 'tenant_admin_path');
    assert.match(String(l['remote_addr']), /^127\.0\.0\.1:\d+$/);
    assert.match(String(l['ts']), /^\d{4}-\d\d-\d\dT/);
    assert.ok(!JSON.stringify(l).includes('authkey-in-url-42'));
  });

  test('a tenant-enforced query is recorded with its classification and the SHA-256 of what was enforced', async () => {
    const r = await fetch(`${gw.url}/api/v1/query?query=up`, { headers: { authorization: A } });
    assert.equal(r.status, 200);
    const l = await waitLine(auditPath, (x) => x['event'] === 'tenant_request' && x['path'] === '/api/v1/query');
    assert.equal(l['user'], 'team-a');
    assert.equal(l['access'], 'read');
    assert.equal(l['status'], 200);
    assert.match(String(l['enforced_sha256']), /^[0-9a-f]{64}$/);
    assert.equal(l['enforced_query'], undefined, 'query text only with -auditLog.queryText');
  });

  test('with -auditLog.queryText the enforced query text is there, with the tenant matcher injected', async () => {
    const r = await fetch(`${gwText.url}/api/v1/query?query=${encodeURIComponent('sum(rate(http_requests_total[5m]))')}`, { headers: { authorization: A } });
    assert.equal(r.status, 200);
    const l = await waitLine(auditTextPath, (x) => x['event'] === 'tenant_request');
    const q = (l['enforced_query'] as string[]).join(' ');
    assert.match(q, /tenant="team-a"/);
    assert.match(q, /http_requests_total/);
  });

  test('a plain vmauth-style user is audited only when refused; wrong passwords are refusals without the password', async () => {
    const ok = await fetch(`${gw.url}/api/v1/query?query=up`, { headers: { authorization: basic('team-b', 'audit-pass-b-5678') } });
    assert.equal(ok.status, 200);
    const bad = await fetch(`${gw.url}/api/v1/query?query=up`, { headers: { authorization: basic('team-b', 'wrong-password-99') } });
    assert.equal(bad.status, 401);
    const l = await waitLine(auditPath, (x) => x['event'] === 'refusal' && x['reason'] === 'invalid_auth_token');
    assert.equal(l['user'], '');
    assert.equal(l['status'], 401);
    assert.ok(!lines(auditPath).some((x) => x['event'] === 'tenant_request' && x['user'] === 'team-b'));
  });

  test('a rejected JWT is recorded with its reason code', async () => {
    const token = await signer({ vm_access: { metrics_extra_labels: ['team=a'] }, exp: Math.floor(Date.now() / 1000) - 3600 });
    const r = await fetch(`${gw.url}/api/v1/query?query=up`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(r.status, 401);
    const good = await signer({ vm_access: { metrics_extra_labels: ['team=a'] }, exp: Math.floor(Date.now() / 1000) + 300 });
    assert.equal((await fetch(`${gw.url}/api/v1/query?query=up`, { headers: { authorization: `Bearer ${good}` } })).status, 200, 'the same key with a live token passes');
    const l = await waitLine(auditPath, (x) => x['event'] === 'jwt_rejected');
    assert.match(String(l['reason_code']), /^ERR_JWT_/);
    assert.equal(l['path'], '/api/v1/query');
    assert.ok(!readFileSync(auditPath, 'utf8').includes(token.split('.')[1] as string), 'no part of the token is logged');
  });

  test('reloads are recorded: /-/reload with the client IP, applied with old and new config hashes, and a failed one', async () => {
    const r1 = await fetch(`${gw.url}/-/reload`);
    assert.equal(r1.status, 200);
    const unchanged = await waitLine(auditPath, (x) => x['event'] === 'reload' && x['result'] === 'unchanged');
    assert.equal(unchanged['trigger'], '/-/reload from 127.0.0.1');
    gw.writeConfig(config.replace('tenant=team-a', 'tenant=team-a').replace('team-b\n  password', 'team-b\n  max_concurrent_requests: 7\n  password'));
    assert.equal((await fetch(`${gw.url}/-/reload`)).status, 200);
    const applied = await waitLine(auditPath, (x) => x['event'] === 'reload' && x['result'] === 'applied');
    assert.match(String(applied['old_sha256']), /^[0-9a-f]{64}$/);
    assert.match(String(applied['new_sha256']), /^[0-9a-f]{64}$/);
    assert.notEqual(applied['old_sha256'], applied['new_sha256']);
    gw.writeConfig('users:\n- username: [broken\n');
    assert.equal((await fetch(`${gw.url}/-/reload`)).status, 400);
    const failed = await waitLine(auditPath, (x) => x['event'] === 'reload' && x['result'] === 'failed');
    assert.equal(failed['old_sha256'], applied['new_sha256']);
    assert.equal(typeof failed['error'], 'string');
    gw.writeConfig(config);
    assert.equal((await fetch(`${gw.url}/-/reload`)).status, 200);
  });

  test('the file is renamed to .1 past -auditLog.maxSize and writing continues in a new file', async () => {
    // Bounded: at most 200 refusals (each line ~250 bytes) to pass 4 KiB, then up to 5 s for the check.
    for (let i = 0; i < 40; i++) await fetch(`${gw.url}/nope-${i}`, { headers: { authorization: A } });
    for (let i = 0; i < 100 && !existsSync(`${auditPath}.1`); i++) await sleep(50);
    assert.ok(existsSync(`${auditPath}.1`), 'rotated');
    await fetch(`${gw.url}/after-rotation`, { headers: { authorization: A } });
    await waitLine(auditPath, (x) => x['path'] === '/after-rotation');
    assert.ok(lines(`${auditPath}.1`).length > 0);
  });
});

describe('audit log with -workers=2', () => {
  test('every worker appends to one file, and a reload is recorded once, by the primary', async () => {
    const path = join(dir.path, 'audit-workers.log');
    const g = await startGateway(config, { workers: 2, flags: [`-auditLog=${path}`] });
    try {
      // Fresh connections spread over both workers; every refusal lands in the one file.
      for (let i = 0; i < 20; i++) await fetch(`${g.url}/nope-${i}`, { headers: { authorization: A, connection: 'close' } });
      assert.equal((await fetch(`${g.url}/-/reload`)).status, 200);
      await waitLine(path, (x) => x['event'] === 'reload');
      for (let i = 0; i < 100 && lines(path).filter((x) => x['event'] === 'refusal').length < 20; i++) await sleep(50);
      assert.equal(lines(path).filter((x) => x['event'] === 'refusal').length, 20, 'every refusal, from both workers');
      assert.equal(lines(path).filter((x) => x['event'] === 'reload').length, 1, 'one reload line for the whole gateway');
    } finally {
      await g.stop();
    }
  });
});
