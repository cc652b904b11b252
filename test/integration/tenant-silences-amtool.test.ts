// Silence and alert ownership through the real `amtool` (Debian's 0.25), pointed at tenantgate
// with basic auth (`--http.config.file`), in front of a real Alertmanager. Each tenant creates,
// lists, and expires its own silences; expiring or reading another tenant's silence is refused
// (and the silence stays active on Alertmanager); silences naming another tenant, two tenants, or
// no tenant are refused with the reason; alerts are posted and listed per tenant; a lookup that
// cannot reach Alertmanager fails closed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { basic, startGateway, type Gateway } from '../helpers/gateway.ts';
import { startAlertmanager, type Alertmanager } from '../helpers/alertmanager.ts';
import { freePort, tempDir } from '../helpers/processes.ts';
import { deniedTotal, tenantGet } from '../helpers/tenant-http.ts';

let am: Alertmanager;
let gw: Gateway;
const dir = tempDir('tenantgate-amtool-');
const TENANTS = ['team-a', 'team-b'] as const;

interface AmtoolResult { readonly code: number; readonly out: string; readonly err: string }

/** Runs amtool as a tenant (basic auth through --http.config.file), bounded by a timeout. */
function amtool(tenant: string, args: readonly string[]): Promise<AmtoolResult> {
  return new Promise((resolve) => {
    execFile('amtool', [`--alertmanager.url=${gw.url}${tenant === 'team-c' ? '/am' : ''}`, `--http.config.file=${join(dir.path, `${tenant}.yml`)}`, ...args],
      { timeout: 20_000 }, (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1;
        resolve({ code, out: stdout, err: stderr });
      });
  });
}

async function ok(tenant: string, args: readonly string[]): Promise<string> {
  const r = await amtool(tenant, args);
  assert.equal(r.code, 0, `amtool ${args.join(' ')} as ${tenant}: ${r.err}${r.out}`);
  return r.out.trim();
}

interface Silence { id: string; status: { state: string }; matchers: { name: string; value: string; isRegex: boolean }[]; createdBy: string }

/** A silence as Alertmanager itself has it (bypassing the gateway). */
async function onAlertmanager(id: string): Promise<Silence> {
  const r = await fetch(`${am.url}/api/v2/silence/${id}`, { signal: AbortSignal.timeout(5000) });
  assert.equal(r.status, 200);
  return await r.json() as Silence;
}

before(async () => {
  am = await startAlertmanager({ route: { receiver: 'none', group_wait: '1h', group_by: ['alertname', 'tenant'] }, receivers: [{ name: 'none' }] });
  const users = TENANTS.map((t) => `
- username: ${t}
  password: pass-${t}
  url_prefix: "${am.url}/"
  tenant: {labels: {tenant: ${t}}}`).join('');
  // team-c reaches Alertmanager under /am/, a prefix the route drops: lookups must take the same way.
  // team-d's Alertmanager is down: a lookup that cannot be made refuses the request.
  const dead = await freePort();
  gw = await startGateway(`users:${users}
- username: team-d
  password: pass-team-d
  url_prefix: "http://127.0.0.1:${dead}/"
  tenant: {labels: {tenant: team-d}}
- username: team-c
  password: pass-team-c
  tenant: {labels: {tenant: team-c}}
  url_map:
  - {src_paths: ["/am/.*"], drop_src_path_prefix_parts: 1, url_prefix: "${am.url}/"}
`);
  for (const t of [...TENANTS, 'team-c']) writeFileSync(join(dir.path, `${t}.yml`), `basic_auth:\n  username: ${t}\n  password: pass-${t}\n`);
});

after(async () => {
  await gw?.stop();
  await am?.stop();
  dir.remove();
});

const add = (tenant: string, matchers: readonly string[]) =>
  amtool(tenant, ['silence', 'add', ...matchers, `--author=${tenant}`, `--comment=by ${tenant}`, '--duration=1h']);

/**
 * The reason the gateway gives for refusing a silence with these matchers (`name=value`,
 * `name!=value`, `name=~value`). amtool prints only the status for a 403 (its API spec lists no
 * 403 body), so the reason is read with a plain POST of the same silence.
 */
async function refusalReason(tenant: string, matchers: readonly string[]): Promise<{ status: number; body: string }> {
  const parsed = matchers.map((m) => {
    const [, name, op, value] = /^(\w+)(=~|!~|!=|=)(.*)$/.exec(m)!;
    return { name, value, isRegex: op!.includes('~'), isEqual: !op!.startsWith('!') };
  });
  const r = await fetch(`${gw.url}/api/v2/silences`, {
    method: 'POST', signal: AbortSignal.timeout(5000),
    headers: { 'content-type': 'application/json', authorization: basic(tenant, `pass-${tenant}`) },
    body: JSON.stringify({ matchers: parsed, startsAt: new Date().toISOString(), endsAt: new Date(Date.now() + 3_600_000).toISOString(), createdBy: tenant, comment: 'x' }),
  });
  return { status: r.status, body: await r.text() };
}

describe('silences through amtool', () => {
  const ids: Record<string, string> = {};

  test('each tenant creates a silence on its own tenant value and lists only its own', async () => {
    for (const t of TENANTS) {
      ids[t] = await ok(t, ['silence', 'add', `tenant=${t}`, 'alertname=Disk', `--author=${t}`, `--comment=by ${t}`, '--duration=1h']);
      assert.match(ids[t]!, /^[0-9a-f-]{36}$/);
    }
    for (const t of TENANTS) {
      const list = JSON.parse(await ok(t, ['silence', 'query', '-o', 'json'])) as Silence[];
      assert.deepEqual(list.map((s) => s.id), [ids[t]]);
      assert.ok(list.every((s) => s.createdBy === t));
      // amtool's own filter is ANDed with the tenant's: naming the other tenant finds nothing.
      const other = TENANTS.find((x) => x !== t)!;
      assert.deepEqual(JSON.parse(await ok(t, ['silence', 'query', '-o', 'json', `tenant=${other}`])), []);
    }
  });

  test('a regex matcher that is exactly the own value counts; one that is more does not', async () => {
    const literal = await add('team-a', ['tenant=~team-a', 'alertname=Cpu']);
    assert.equal(literal.code, 0, literal.err);
    const wide = await add('team-a', ['tenant=~team-.*', 'alertname=Cpu']);
    assert.notEqual(wide.code, 0);
    assert.match(wide.err, /status 403/);
    const why = await refusalReason('team-a', ['tenant=~team-.*', 'alertname=Cpu']);
    assert.equal(why.status, 403);
    assert.match(why.body, /regex matcher on tenant must be exactly the tenant's value/);
  });

  test('silences naming another tenant, two tenants, a negative matcher or no tenant are refused with the reason', async () => {
    const cases: Array<[readonly string[], RegExp]> = [
      [['tenant=team-b', 'alertname=X'], /must name this tenant's value: tenant="team-a"/],
      [['tenant=team-a', 'tenant=team-b', 'alertname=X'], /2 matchers on the tenant label tenant; exactly one is allowed/],
      [['tenant=team-a', 'tenant!=team-b'], /exactly one is allowed/],
      [['tenant!=team-b', 'alertname=X'], /must be an equality/],
      [['alertname=X'], /needs a matcher tenant="team-a"/],
    ];
    const before = (await (await fetch(`${am.url}/api/v2/silences`)).json() as Silence[]).length;
    for (const [matchers, reason] of cases) {
      const r = await add('team-a', matchers);
      assert.notEqual(r.code, 0, `${matchers.join(' ')} was accepted`);
      assert.match(r.err, /status 403/, matchers.join(' '));
      const why = await refusalReason('team-a', matchers);
      assert.equal(why.status, 403);
      // Alertmanager's own error shape: {"code":403,"message":"…"}.
      const message = (JSON.parse(why.body) as { code: number; message: string }).message;
      assert.match(message, reason, matchers.join(' '));
    }
    const after = (await (await fetch(`${am.url}/api/v2/silences`)).json() as Silence[]).length;
    assert.equal(after, before, 'no refused silence reached Alertmanager');
  });

  test('the other tenant can neither read nor expire a silence; it stays active', async () => {
    const victim = ids['team-a']!;
    const r = await amtool('team-b', ['silence', 'expire', victim]);
    assert.notEqual(r.code, 0, 'cross-tenant expire succeeded');
    assert.equal((await onAlertmanager(victim)).status.state, 'active');
    const get = await tenantGet(gw.url, `/api/v2/silence/${victim}`, basic('team-b', 'pass-team-b'));
    assert.equal(get.status, 404, get.body);
    assert.ok(!get.body.includes('team-a'));
    // Updating it by id (amtool silence update) is refused the same way.
    const upd = await amtool('team-b', ['silence', 'update', victim, '--duration=2h']);
    assert.notEqual(upd.code, 0);
    assert.equal((await onAlertmanager(victim)).status.state, 'active');
  });

  test('the owner reads, updates and expires its own silence', async () => {
    const own = ids['team-a']!;
    const get = await tenantGet(gw.url, `/api/v2/silence/${own}`, basic('team-a', 'pass-team-a'));
    assert.equal(get.status, 200, get.body);
    assert.equal((JSON.parse(get.body) as Silence).id, own);
    await ok('team-a', ['silence', 'update', own, '--comment=updated by team-a']);
    await ok('team-a', ['silence', 'expire', own]);
    assert.equal((await onAlertmanager(own)).status.state, 'expired');
    // Expiring an id that does not exist is refused like another tenant's.
    const ghost = await amtool('team-a', ['silence', 'expire', '00000000-0000-0000-0000-000000000000']);
    assert.notEqual(ghost.code, 0);
    // team-b's silence is untouched.
    assert.equal((await onAlertmanager(ids['team-b']!)).status.state, 'active');
  });
});

describe('through a route that drops a path prefix', () => {
  test('the owner expires its silence via /am/…; others still cannot', async () => {
    const id = await ok('team-c', ['silence', 'add', 'tenant=team-c', '--author=c', '--comment=c', '--duration=1h']);
    assert.notEqual((await amtool('team-a', ['silence', 'expire', id])).code, 0);
    assert.equal((await onAlertmanager(id)).status.state, 'active');
    const list = JSON.parse(await ok('team-c', ['silence', 'query', '-o', 'json'])) as Silence[];
    assert.deepEqual(list.map((s) => s.id), [id]);
    await ok('team-c', ['silence', 'expire', id]);
    assert.equal((await onAlertmanager(id)).status.state, 'expired');
  });
});

describe('a lookup that cannot be made', () => {
  test('fails closed: 502 tenant_lookup_failed, nothing forwarded', async () => {
    const auth = basic('team-d', 'pass-team-d');
    for (const method of ['GET', 'DELETE']) {
      const r = await fetch(`${gw.url}/api/v2/silence/00000000-0000-0000-0000-000000000000`, { method, headers: { authorization: auth }, signal: AbortSignal.timeout(15_000) });
      assert.equal(r.status, 502, `${method}: ${await r.text()}`);
    }
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    assert.ok(deniedTotal(text, 'tenant_lookup_failed') >= 2);
  });
});

describe('alerts through amtool', () => {
  test('posted alerts carry the poster\'s tenant; each tenant queries only its own', async () => {
    await ok('team-a', ['alert', 'add', 'alertname=Posted', 'tenant=team-b', 'severity=critical']);
    await ok('team-b', ['alert', 'add', 'alertname=Posted', 'severity=warning']);
    const onAm = await (await fetch(`${am.url}/api/v2/alerts?filter=alertname%3D%22Posted%22`)).json() as { labels: Record<string, string> }[];
    assert.deepEqual(onAm.map((a) => `${a.labels['tenant']}/${a.labels['severity']}`).sort(), ['team-a/critical', 'team-b/warning']);
    for (const t of TENANTS) {
      const list = JSON.parse(await ok(t, ['alert', 'query', '-o', 'json', 'alertname=Posted'])) as { labels: Record<string, string> }[];
      assert.deepEqual(list.map((a) => a.labels['tenant']), [t]);
    }
  });

  test('refusals are counted', async () => {
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    assert.ok(deniedTotal(text, 'tenant_silence_not_owned') >= 7);
  });
});
