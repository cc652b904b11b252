// End to end with a real Prometheus: two local targets scraped for two namespaces through the
// generated scrape configuration, and generated rules evaluated by Prometheus. Team A's objects
// try to escape (honorLabels, labeldrop of the tenant label, exposition labels claiming team-b,
// a rule reading team-b's series); they are compiled with --unsafe=neutralise so the attacks reach
// Prometheus, and the queried series still show only the right tenant.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { compile } from '../../src/isolate/compile.ts';
import { makeOptions } from '../../src/isolate/options.ts';
import { startPrometheus, type Prometheus } from '../helpers/prometheus.ts';

function target(body: string): Promise<{ server: Server; address: string }> {
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/metrics')) { res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }); res.end(body); }
    else { res.writeHead(404); res.end(); }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const a = server.address();
    resolve({ server, address: `127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}` });
  }));
}

let prom: Prometheus;
let servers: Server[] = [];
let addrA = '';
let addrB = '';

before(async () => {
  // Team A's target exposes series that claim to belong to team-b.
  const a = await target('secret_total{tenant="team-b"} 42\nrequests_total{tenant="team-b",path="/"} 7\n');
  const b = await target('secret_total 99\nrequests_total{path="/"} 3\n');
  servers = [a.server, b.server];
  addrA = a.address;
  addrB = b.address;
  const objects = `
apiVersion: operator.victoriametrics.com/v1beta1
kind: VMStaticScrape
metadata: {name: app, namespace: team-a}
spec:
  jobName: app-a
  targetEndpoints:
    - targets: ["${addrA}"]
      honorLabels: true
      labels: {tenant: team-b}
      relabelConfigs:
        - {targetLabel: tenant, replacement: team-b}
      metricRelabelConfigs:
        - {action: labeldrop, regex: tenant}
        - {action: labelmap, regex: "(ten)(ant)", replacement: "\${1}\${2}"}
---
apiVersion: monitoring.coreos.com/v1alpha1
kind: ScrapeConfig
metadata: {name: app, namespace: team-b}
spec:
  staticConfigs:
    - targets: ["${addrB}"]
---
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: {name: rules, namespace: team-a}
spec:
  groups:
    - name: g
      rules:
        - record: tenant:secret:sum
          expr: sum(secret_total)
        - record: tenant:stolen:sum
          expr: sum(secret_total{tenant="team-b"}) or sum({__name__="secret_total", tenant!="team-a"})
        - alert: SeesOthers
          expr: count(secret_total) > 1
---
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: {name: rules, namespace: team-b}
spec:
  groups:
    - name: g
      rules:
        - record: tenant:secret:sum
          expr: sum(secret_total)
`;
  const opts = makeOptions({ label: 'tenant', flavor: 'prometheus-operator', unsafe: 'neutralise' });
  const r = compile([{ name: 'objects.yaml', text: objects }], opts, { scrape: { global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' } } });
  assert.deepEqual(r.errors.map((e) => e.describe()), []);
  assert.ok(r.warnings.length >= 2, 'the neutralised attacks are reported');
  prom = await startPrometheus(r.scrapeConfig, { rules: { 'rules.yml': r.rules } });
});

after(async () => {
  await prom?.stop();
  for (const s of servers) s.close();
});

describe('scraping through the generated configuration', () => {
  it('every series carries the tenant of the namespace that owns its target', async () => {
    const res = await prom.waitFor('secret_total', (r) => r.length >= 2);
    const byInstance = Object.fromEntries(res.map((s) => [s.metric.instance, s.metric.tenant]));
    assert.deepEqual(byInstance, { [addrA]: 'team-a', [addrB]: 'team-b' });
    const all = await prom.query('count by (instance, tenant) ({instance=~".+"})');
    for (const s of all) {
      assert.equal(s.metric.tenant, s.metric.instance === addrA ? 'team-a' : 'team-b', JSON.stringify(s.metric));
    }
    assert.deepEqual(await prom.query('{tenant="team-b", instance="' + addrA + '"}'), []);
  });

  it('job names follow the operators\' layout', async () => {
    const res = await prom.waitFor('up', (r) => r.length >= 2);
    assert.deepEqual(res.map((s) => s.metric.job).sort(), ['app-a', 'scrapeConfig/team-b/app']);
  });
});

describe('rules evaluated by Prometheus', () => {
  it('a namespace\'s recording rule sees only its own series', async () => {
    const res = await prom.waitFor('tenant:secret:sum', (r) => r.length >= 2);
    const byTenant = Object.fromEntries(res.map((s) => [s.metric.tenant, s.value[1]]));
    assert.deepEqual(byTenant, { 'team-a': '42', 'team-b': '99' });
  });

  it('a rule that asks for another namespace\'s series reads nothing (its matchers are ANDed with its own namespace)', async () => {
    // Same group: once tenant:secret:sum exists, tenant:stolen:sum has been evaluated too.
    await prom.waitFor('tenant:secret:sum', (r) => r.length >= 2);
    const res = await fetch(`${prom.url}/api/v1/rules`);
    const body = await res.json() as { data: { groups: Array<{ rules: Array<{ name: string; health: string; query: string; lastEvaluation: string }> }> } };
    const rule = body.data.groups.flatMap((g) => g.rules).find((x) => x.name === 'tenant:stolen:sum' && x.query.includes('team-a'))!;
    assert.equal(rule.health, 'ok');
    assert.ok(!rule.lastEvaluation.startsWith('0001'), 'evaluated');
    assert.deepEqual(await prom.query('tenant:stolen:sum'), []);
  });

  it('an alert counting all series counts only its namespace\'s (so it does not fire)', async () => {
    await prom.waitFor('tenant:secret:sum', (r) => r.length >= 2);
    const res = await fetch(`${prom.url}/api/v1/rules`);
    const body = await res.json() as { data: { groups: Array<{ name: string; rules: Array<{ name: string; health: string; state?: string; query: string }> }> } };
    const rule = body.data.groups.flatMap((g) => g.rules).find((x) => x.name === 'SeesOthers')!;
    assert.equal(rule.query, 'count(secret_total{tenant="team-a"}) > 1');
    assert.equal(rule.health, 'ok');
    assert.equal(rule.state, 'inactive');
  });
});
