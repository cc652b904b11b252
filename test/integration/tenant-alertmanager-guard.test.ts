// Alertmanager side effects across tenants, on a real Alertmanager behind the gateway. With
// Debian's style of inhibit rule (equal without the tenant label) or a route matching on another
// label, one tenant's alert could mute or reach another's; the gateway reads the Alertmanager's
// configuration and refuses tenant alert posts until it is fixed. Once fixed and reloaded, the
// same posts are accepted and inhibition, routing and grouping stay inside each tenant.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { startAlertmanager, type Alertmanager } from '../helpers/alertmanager.ts';
import { startEchoBackend, type EchoBackend } from '../helpers/echo-backend.ts';
import { basic, startGateway, type Gateway } from '../helpers/gateway.ts';
import { freePort, sleep } from '../helpers/processes.ts';
import { deniedTotal, tenantGet, tenantPost } from '../helpers/tenant-http.ts';

const A = basic('team-a', 'pass-a');
const B = basic('team-b', 'pass-b');
const JSONH = { 'content-type': 'application/json' };

let am: Alertmanager;
let users = '';
let gw: Gateway;
const hooks: Record<string, EchoBackend> = {};

const receivers = () => ['ops', 'hook-a', 'hook-b'].map((name) => (name === 'ops'
  ? { name }
  : { name, webhook_configs: [{ url: `${hooks[name]!.url}/`, send_resolved: false }] }));
const timing = { group_wait: '1s', group_interval: '1s', repeat_interval: '1h' };
const inhibit = (equal: string[]) => [{ source_matchers: ['severity="critical"'], target_matchers: ['severity="warning"'], equal }];

/** Debian's default shape: equal without the tenant label, a route on `service`. */
const UNSAFE = () => ({
  route: { receiver: 'ops', group_by: ['alertname', 'cluster', 'service'], ...timing, routes: [{ matchers: ['service="pg"'], receiver: 'hook-b' }] },
  inhibit_rules: inhibit(['alertname', 'cluster', 'service']),
  receivers: receivers(),
});
const SAFE = () => ({
  route: {
    receiver: 'ops', group_by: ['alertname', 'namespace'], ...timing,
    routes: [
      // Severity first, tenant second: the unpinned parent still delivers only to the root receiver.
      { matchers: ['severity=~"critical|warning"'], routes: [
        { matchers: ['namespace="team-a"'], receiver: 'hook-a', group_by: ['alertname'] },
        { matchers: ['namespace="team-b"'], receiver: 'hook-b', group_by: ['alertname'] },
      ] },
    ],
  },
  inhibit_rules: inhibit(['alertname', 'cluster', 'service', 'namespace']),
  receivers: receivers(),
});

const labels = (alertname: string, severity: string, ns?: string) => ({ alertname, severity, cluster: 'prod', service: 'pg', ...(ns ? { namespace: ns } : {}) });
const alertsBody = (...ls: Record<string, string>[]) => JSON.stringify(ls.map((l) => ({ labels: l, startsAt: new Date().toISOString() })));
const postAs = (auth: string, ...ls: Record<string, string>[]) => tenantPost(gw.url, '/api/v2/alerts', auth, alertsBody(...ls), JSONH);

interface AmAlert { labels: Record<string, string>; status: { state: string; inhibitedBy: string[] } }
async function amAlerts(): Promise<AmAlert[]> {
  const r = await fetch(`${am.url}/api/v2/alerts`, { signal: AbortSignal.timeout(5000) });
  return await r.json() as AmAlert[];
}
const find = (list: AmAlert[], alertname: string, severity: string, ns: string) =>
  list.find((a) => a.labels.alertname === alertname && a.labels.severity === severity && a.labels.namespace === ns);

/** Polls Alertmanager (bounded) until `pred` holds; returns the last list. */
async function waitFor(pred: (list: AmAlert[]) => boolean, what: string): Promise<AmAlert[]> {
  let list: AmAlert[] = [];
  for (let i = 0; i < 100; i++) {
    list = await amAlerts();
    if (pred(list)) return list;
    await sleep(100);
  }
  assert.fail(`timed out waiting for ${what}: ${JSON.stringify(list.map((a) => [a.labels, a.status.state]))}`);
}

async function metrics(): Promise<string> {
  return await (await fetch(`${gw.url}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
}

/** Posts as `auth` until the gateway accepts (it reads the Alertmanager config every second here). */
async function postWhenAccepted(auth: string, ...ls: Record<string, string>[]): Promise<void> {
  let last = { status: 0, body: '' };
  for (let i = 0; i < 100; i++) {
    last = await postAs(auth, ...ls);
    if (last.status === 200) return;
    await sleep(200);
  }
  assert.fail(`the gateway never accepted the post: ${last.status} ${last.body}`);
}

before(async () => {
  hooks['hook-a'] = await startEchoBackend('hook-a');
  hooks['hook-b'] = await startEchoBackend('hook-b');
  am = await startAlertmanager(UNSAFE());
  users = ['team-a', 'team-b'].map((t) => `
- username: ${t}
  password: pass-${t.slice(5)}
  tenant: {labels: {namespace: ${t}}}
  url_prefix: "${am.url}/"`).join('');
  // team-c's Alertmanager cannot be reached: its status cannot be read, so its posts fail closed.
  const dead = await freePort();
  gw = await startGateway(`users:${users}
- username: team-c
  password: pass-c
  tenant: {labels: {namespace: team-c}}
  url_prefix: "http://127.0.0.1:${dead}/"
`, { flags: ['-tenant.alertmanagerCheckInterval=1s', '-tenant.alertmanagerCheckTimeout=2s'] });
});

after(async () => {
  await gw?.stop();
  await am?.stop();
  for (const h of Object.values(hooks)) await h.close();
});

describe('unsafe Alertmanager configuration', () => {
  test('tenant alert posts are refused with the offending rule; the other tenant\'s alert is not suppressed', async () => {
    // team-b's warning, from a source that does not go through the gateway (e.g. its Prometheus).
    await am.postAlerts([{ labels: labels('ReplicaLag', 'warning', 'team-b') }]);
    for (const auth of [A, B]) {
      const r = await postAs(auth, labels('ReplicaLag', 'critical'));
      assert.equal(r.status, 403, r.body);
      assert.match(r.body, /inhibit_rules\[0\]: an inhibit rule does not keep tenants apart/);
      assert.match(r.body, /\(and 2 more\)/);
    }
    const list = await amAlerts();
    assert.equal(find(list, 'ReplicaLag', 'warning', 'team-b')?.status.state, 'active');
    assert.equal(list.filter((a) => a.labels.severity === 'critical').length, 0);
    const m = await metrics();
    assert.ok(m.includes(`tenantgate_alertmanager_unsafe_config{backend="${am.url}/api/v2/status"} 1`), m);
    assert.ok(deniedTotal(m, 'tenant_alertmanager_unsafe') >= 2, m);
    const log = gw.proc.output();
    assert.match(log, /does not keep tenants apart; tenant alert posts to it are refused until it is fixed/);
    assert.match(log, /route\.routes\[0\]: route to receiver "hook-b" can receive alerts of several tenants/);
    // Alertmanager's v1 API is no way around it: posting there is not allowed for tenants.
    assert.equal((await tenantPost(gw.url, '/api/v1/alerts', A, alertsBody(labels('ReplicaLag', 'critical')), JSONH)).status, 405);
    // Reading is not affected.
    assert.equal((await tenantGet(gw.url, '/api/v2/alerts', B)).status, 200);
  });

  test('the refusal is real: posted straight to this Alertmanager, team-a\'s critical alert suppresses team-b\'s warning', async () => {
    await am.postAlerts([{ labels: labels('ReplicaLag', 'critical', 'team-a') }]);
    await waitFor((l) => find(l, 'ReplicaLag', 'warning', 'team-b')?.status.state === 'suppressed', 'cross-tenant inhibition on the unsafe config');
    // and amtool shows the route on `service` sending team-a's alert to team-b's receiver
    const out = execFileSync('amtool', ['config', 'routes', 'test', `--config.file=${am.configPath}`, 'namespace=team-a', 'service=pg', 'alertname=X'], { encoding: 'utf8', timeout: 10_000 });
    assert.equal(out.trim(), 'hook-b');
    // End it, so it does not act on the next part.
    await fetch(`${am.url}/api/v2/alerts`, { method: 'POST', headers: JSONH, body: JSON.stringify([{ labels: labels('ReplicaLag', 'critical', 'team-a'), startsAt: new Date(Date.now() - 60_000).toISOString(), endsAt: new Date(Date.now() - 1000).toISOString() }]), signal: AbortSignal.timeout(5000) });
    await waitFor((l) => find(l, 'ReplicaLag', 'warning', 'team-b')?.status.state === 'active', 'team-b\'s warning active again');
  });
});

test('an Alertmanager whose configuration cannot be read: posts fail closed (503)', async () => {
  const r = await postAs(basic('team-c', 'pass-c'), labels('X', 'critical'));
  assert.equal(r.status, 503, r.body);
  assert.match(r.body, /cannot read the Alertmanager configuration/);
  assert.match(await metrics(), /tenantgate_alertmanager_unsafe_config\{backend="http:\/\/127\.0\.0\.1:\d+\/api\/v2\/status"\} 1/);
  assert.match(gw.proc.output(), /cannot read the Alertmanager configuration at http:\/\/127\.0\.0\.1:\d+\/api\/v2\/status: GET \/api\/v2\/status failed/);
});

describe('fixed and reloaded', () => {
  before(async () => {
    await am.reload(SAFE());
    assert.equal(execFileSync('amtool', ['check-config', am.configPath], { encoding: 'utf8', timeout: 10_000 }).includes('SUCCESS'), true);
  });

  test('posts are accepted; team-a\'s critical alert does not suppress team-b\'s warning, but does suppress team-a\'s', async () => {
    await postWhenAccepted(B, labels('DiskFull', 'warning'));
    const res = await postAs(A, labels('DiskFull', 'critical'), labels('DiskFull', 'warning'));
    assert.equal(res.status, 200, res.body);
    // team-a's own warning is suppressed: the inhibitor has seen team-a's critical alert...
    const list = await waitFor((l) => find(l, 'DiskFull', 'warning', 'team-a')?.status.state === 'suppressed', 'same-tenant inhibition');
    // ...and team-b's is not.
    assert.equal(find(list, 'DiskFull', 'warning', 'team-b')?.status.state, 'active');
    const m = await metrics();
    assert.ok(m.includes(`tenantgate_alertmanager_unsafe_config{backend="${am.url}/api/v2/status"} 0`), m);
    assert.match(gw.proc.output(), /keeps tenants apart; tenant alert posts to it are accepted/);
  });

  test('each tenant\'s notifications reach only its receiver, one tenant per notification', async () => {
    await postAs(A, labels('Notify', 'critical'));
    await postAs(B, labels('Notify', 'critical'));
    const seen = (h: EchoBackend) => h.received.flatMap((r) => (JSON.parse(r.body) as { alerts: { labels: Record<string, string> }[] }).alerts.map((a) => a.labels));
    for (let i = 0; i < 100 && !(seen(hooks['hook-a']!).some((l) => l.alertname === 'Notify') && seen(hooks['hook-b']!).some((l) => l.alertname === 'Notify')); i++) await sleep(100);
    for (const [hook, ns] of [['hook-a', 'team-a'], ['hook-b', 'team-b']] as const) {
      const got = seen(hooks[hook]!);
      assert.ok(got.some((l) => l.alertname === 'Notify'), `${hook} got no notification`);
      assert.ok(got.every((l) => l.namespace === ns), `${hook} got another tenant's alert: ${JSON.stringify(got)}`);
    }
    // Groups (as Alertmanager reports them) never mix tenants.
    const groups = await (await fetch(`${am.url}/api/v2/alerts/groups`, { signal: AbortSignal.timeout(5000) })).json() as { alerts: { labels: Record<string, string> }[] }[];
    assert.ok(groups.length > 0);
    for (const g of groups) assert.ok(new Set(g.alerts.map((a) => a.labels.namespace)).size === 1, JSON.stringify(g));
  });

  test('after a gateway reload, a new tenant on the same Alertmanager is served at once (no unchecked window)', async () => {
    gw.writeConfig(`users:${users}
- username: team-d
  password: pass-d
  tenant: {labels: {namespace: team-d}}
  url_prefix: "${am.url}/"
`);
    const reload = await fetch(`${gw.url}/-/reload`, { signal: AbortSignal.timeout(10_000) });
    assert.equal(reload.status, 200, await reload.text());
    let r = { status: 401, body: '' };
    for (let i = 0; i < 100 && r.status === 401; i++) {
      r = await postAs(basic('team-d', 'pass-d'), labels('Fresh', 'critical'));
      if (r.status === 401) await sleep(100);
    }
    assert.equal(r.status, 200, r.body);
  });

  test('made unsafe again and reloaded, the gate closes again at the next check', async () => {
    await am.reload(UNSAFE());
    let last = { status: 0, body: '' };
    for (let i = 0; i < 100 && last.status !== 403; i++) {
      last = await postAs(A, labels('Again', 'critical'));
      if (last.status !== 403) await sleep(200);
    }
    assert.equal(last.status, 403, last.body);
  });
});
