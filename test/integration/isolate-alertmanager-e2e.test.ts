// End to end with a real Alertmanager: the generated configuration routes each namespace's alerts
// to that namespace's webhook receiver only. An attacker namespace ("team", object "a-routing")
// picks names that collide with team-a's under the VictoriaMetrics operator's naming
// (team-a-routing-hook), routes everything to itself and adds an inhibit rule aimed at team-a.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { compile } from '../../src/isolate/compile.ts';
import { makeOptions } from '../../src/isolate/options.ts';
import { startAlertmanager, type Alertmanager } from '../helpers/alertmanager.ts';
import { sleep } from '../helpers/processes.ts';

interface Receiver { server: Server; url: string; alerts: Array<Record<string, string>> }

function receiver(): Promise<Receiver> {
  const r: Receiver = { server: createServer(), url: '', alerts: [] };
  r.server.on('request', (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { alerts: Array<{ labels: Record<string, string> }> };
      for (const a of body.alerts) r.alerts.push(a.labels);
      res.writeHead(200); res.end();
    });
  });
  return new Promise((resolve) => r.server.listen(0, '127.0.0.1', () => {
    const a = r.server.address();
    r.url = `http://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}/hook`;
    resolve(r);
  }));
}

let am: Alertmanager;
let a: Receiver, b: Receiver, evil: Receiver, platform: Receiver;

before(async () => {
  [a, b, evil, platform] = await Promise.all([receiver(), receiver(), receiver(), receiver()]);
  const objects = `
apiVersion: operator.victoriametrics.com/v1beta1
kind: VMAlertmanagerConfig
metadata: {name: routing, namespace: team-a}
spec:
  route: {receiver: hook}
  receivers:
    - name: hook
      webhook_configs: [{url: "${a.url}", send_resolved: false}]
---
apiVersion: monitoring.coreos.com/v1alpha1
kind: AlertmanagerConfig
metadata: {name: routing, namespace: team-b}
spec:
  route: {receiver: hook}
  receivers:
    - name: hook
      webhookConfigs: [{url: "${b.url}", sendResolved: false}]
---
apiVersion: operator.victoriametrics.com/v1beta1
kind: VMAlertmanagerConfig
metadata: {name: a-routing, namespace: team}
spec:
  route:
    receiver: hook
    matchers: ['tenant=~".*"']
    routes:
      - {receiver: hook, matchers: ['tenant="team-a"']}
  receivers:
    - name: hook
      webhook_configs: [{url: "${evil.url}", send_resolved: false}]
  inhibit_rules:
    - source_matchers: ['alertname="Attack"']
      target_matchers: ['tenant="team-a"']
`;
  const base = {
    route: { receiver: 'platform', group_by: ['alertname', 'tenant'], group_wait: '0s', group_interval: '1s', repeat_interval: '1h',
      // A catch-all base route without continue: it must not starve the tenant routes.
      routes: [{ receiver: 'platform', matchers: ['alertname=~".+"'] }] },
    receivers: [{ name: 'platform', webhook_configs: [{ url: platform.url, send_resolved: false }] }],
  };
  const r = compile([{ name: 'am.yaml', text: objects }], makeOptions({ label: 'tenant' }), { alertmanager: base });
  assert.deepEqual(r.errors.map((e) => e.describe()), []);
  am = await startAlertmanager(r.alertmanager);
});

after(async () => {
  await am?.stop();
  for (const r of [a, b, evil, platform]) r?.server.close();
});

describe('alert routing through the generated configuration', () => {
  it('each namespace\'s alert reaches only that namespace\'s receiver', async () => {
    await am.postAlerts([
      { labels: { alertname: 'Attack', tenant: 'team' } },
      { labels: { alertname: 'ApiDown', tenant: 'team-a' } },
      { labels: { alertname: 'WebDown', tenant: 'team-b' } },
      { labels: { alertname: 'NoTenant' } },
    ]);
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && (a.alerts.length === 0 || b.alerts.length === 0 || evil.alerts.length === 0 || platform.alerts.length < 4)) {
      await sleep(200);
    }
    await sleep(1500); // room for any misrouted duplicate to arrive
    assert.deepEqual(a.alerts.map((x) => [x.alertname, x.tenant]), [['ApiDown', 'team-a']], 'team-a got its alert despite the inhibit rule aimed at it');
    assert.deepEqual(b.alerts.map((x) => [x.alertname, x.tenant]), [['WebDown', 'team-b']]);
    assert.deepEqual(evil.alerts.map((x) => [x.alertname, x.tenant]), [['Attack', 'team']]);
    // The platform's routes still see every alert because tenant routes continue.
    assert.deepEqual(platform.alerts.map((x) => x.alertname).sort(), ['ApiDown', 'Attack', 'NoTenant', 'WebDown']);
  });

  it('the attacker\'s colliding receiver did not replace team-a\'s', async () => {
    const res = await fetch(`${am.url}/api/v2/receivers`);
    const names = (await res.json() as Array<{ name: string }>).map((r) => r.name).sort();
    assert.deepEqual(names, ['platform', 'team-a/routing/hook', 'team-b/routing/hook', 'team/a-routing/hook', 'tenantgate:null']);
  });
});
