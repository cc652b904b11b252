// Alertmanager objects: per-namespace routes, collision-free names, scoped inhibit rules, and a
// broken object that is left out without breaking the other namespaces.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildAlertmanagerConfig, NULL_RECEIVER } from '../../../src/isolate/alertmanager-config.ts';
import { hardenObject } from '../../../src/isolate/harden.ts';
import type { MonitoringObject } from '../../../src/isolate/objects.ts';
import { makeOptions } from '../../../src/isolate/options.ts';

const opts = makeOptions({ label: 'tenant' });

function vmAm(namespace: string, name: string, spec: Record<string, unknown>): MonitoringObject {
  return { apiVersion: 'operator.victoriametrics.com/v1beta1', kind: 'VMAlertmanagerConfig', metadata: { name, namespace }, spec };
}
function poAm(namespace: string, name: string, spec: Record<string, unknown>): MonitoringObject {
  return { apiVersion: 'monitoring.coreos.com/v1alpha1', kind: 'AlertmanagerConfig', metadata: { name, namespace }, spec };
}
const hook = (url: string) => ({ webhook_configs: [{ url }] });

function build(objects: MonitoringObject[], base?: Record<string, unknown>) {
  const inputs = objects.map((o, key) => ({ object: hardenObject(o, opts).object, key }));
  return buildAlertmanagerConfig(base, inputs, opts);
}

describe('alertmanager configuration', () => {
  it('puts each namespace under a route matching only its label, before the base routes, with continue', () => {
    const { config, failures } = build([
      vmAm('team-a', 'r', { route: { receiver: 'x' }, receivers: [{ name: 'x', ...hook('http://a/') }] }),
      poAm('team-b', 'r', { route: { receiver: 'x', groupBy: ['alertname'] }, receivers: [{ name: 'x', webhookConfigs: [{ url: 'http://b/', sendResolved: false }] }] }),
    ], { route: { receiver: 'ops', routes: [{ receiver: 'ops', matchers: ['severity="page"'] }] }, receivers: [{ name: 'ops' }] });
    assert.equal(failures.size, 0);
    const routes = (config.route as any).routes as any[];
    assert.deepEqual(routes.map((r) => [r.matchers, r.continue, r.receiver]), [
      [['tenant="team-a"'], true, NULL_RECEIVER],
      [['tenant="team-b"'], true, NULL_RECEIVER],
      [['severity="page"'], undefined, 'ops'],
    ]);
    assert.deepEqual(routes[1].routes, [{ receiver: 'team-b/r/x', matchers: ['tenant="team-b"'], group_by: ['alertname'], continue: true }]);
    assert.deepEqual((config.receivers as any[]).map((r) => r.name), ['ops', NULL_RECEIVER, 'team-a/r/x', 'team-b/r/x']);
    assert.deepEqual((config.receivers as any[])[3].webhook_configs, [{ url: 'http://b/', send_resolved: false }]);
  });

  it('receiver names crafted to collide under the VictoriaMetrics operator naming (ns-name-receiver) stay distinct', () => {
    // VictoriaMetrics operator: "team-a" + "x" + "hook" and "team" + "a-x" + "hook" both give "team-a-x-hook".
    const { config, failures } = build([
      vmAm('team-a', 'x', { route: { receiver: 'hook' }, receivers: [{ name: 'hook', ...hook('http://a/') }] }),
      vmAm('team', 'a-x', { route: { receiver: 'hook' }, receivers: [{ name: 'hook', ...hook('http://evil/') }] }),
    ]);
    assert.equal(failures.size, 0);
    const names = (config.receivers as any[]).map((r) => r.name as string);
    assert.equal(new Set(names).size, names.length);
    const a = (config.receivers as any[]).find((r) => r.name === 'team-a/x/hook');
    assert.equal(a.webhook_configs[0].url, 'http://a/');
  });

  it('a receiver named like another tenant\'s full name only gets its own prefix', () => {
    const { config } = build([
      vmAm('team-a', 'x', { route: { receiver: 'hook' }, receivers: [{ name: 'hook', ...hook('http://a/') }] }),
      vmAm('team-b', 'y', { route: { receiver: 'team-a/x/hook' }, receivers: [{ name: 'team-a/x/hook', ...hook('http://evil/') }] }),
    ]);
    const a = (config.receivers as any[]).filter((r) => r.name === 'team-a/x/hook');
    assert.equal(a.length, 1);
    assert.equal(a[0].webhook_configs[0].url, 'http://a/');
  });

  it('a collision with the base configuration fails only that object', () => {
    const { config, failures } = build([
      vmAm('team-a', 'x', { route: { receiver: 'hook' }, receivers: [{ name: 'hook', ...hook('http://a/') }] }),
      vmAm('team-b', 'y', { route: { receiver: 'h' }, receivers: [{ name: 'h', ...hook('http://b/') }] }),
    ], { route: { receiver: 'team-a/x/hook' }, receivers: [{ name: 'team-a/x/hook' }] });
    assert.deepEqual([...failures.keys()], [0]);
    assert.equal(failures.get(0)!.code, 'ERR_ISOLATE_CONFLICT');
    assert.ok((config.receivers as any[]).some((r) => r.name === 'team-b/y/h'));
  });

  it('inhibit rules are scoped on both sides; a matcher on the label is replaced', () => {
    const { config } = build([vmAm('team-a', 'x', { inhibit_rules: [{ source_matchers: ['severity="critical"', 'tenant=~".*"'], target_matchers: ['tenant="team-b"'], equal: ['alertname'] }] })]);
    assert.deepEqual(config.inhibit_rules, [{ source_matchers: ['severity="critical"', 'tenant="team-a"'], target_matchers: ['tenant="team-a"'], equal: ['alertname'] }]);
  });

  it('time intervals are renamed with the same prefix and references follow', () => {
    const { config } = build([poAm('team-b', 'r', {
      route: { receiver: 'p', muteTimeIntervals: ['night'] },
      receivers: [{ name: 'p' }],
      muteTimeIntervals: [{ name: 'night', timeIntervals: [{ times: [{ startTime: '00:00', endTime: '06:00' }], daysOfMonth: [{ start: 1, end: 5 }] }] }],
    })]);
    assert.deepEqual(config.time_intervals, [{ name: 'team-b/r/night', time_intervals: [{ times: [{ start_time: '00:00', end_time: '06:00' }], days_of_month: ['1:5'] }] }]);
    assert.deepEqual((config.route as any).routes[0].routes[0].mute_time_intervals, ['team-b/r/night']);
  });

  it('dangling references, duplicate receivers and bad matchers are errors of that object', () => {
    assert.throws(() => hardenObject(vmAm('team-a', 'x', { route: { receiver: 'nope' }, receivers: [] }), opts), /spec\.route\.receiver: receiver "nope" is not defined/);
    assert.throws(() => hardenObject(vmAm('team-a', 'x', { receivers: [{ name: 'a' }, { name: 'a' }] }), opts), { code: 'ERR_ISOLATE_CONFLICT' });
    assert.throws(() => hardenObject(vmAm('team-a', 'x', { route: { matchers: ['a="b", tenant=~".*"'] } }), opts), /spec\.route\.matchers\[0\]/);
    assert.throws(() => hardenObject(vmAm('team-a', 'x', { route: { routes: [{ active_time_intervals: ['t'] }] } }), opts), /routes\[0\]\.active_time_intervals\[0\]/);
  });

  it('receivers reading Alertmanager files are refused unless allowed', () => {
    assert.throws(() => hardenObject(vmAm('team-a', 'x', { receivers: [{ name: 'a', webhook_configs: [{ url: 'http://e/', http_config: { bearer_token_file: '/etc/alertmanager/secret' } }] }] }), opts), { code: 'ERR_ISOLATE_UNSAFE' });
  });

  it('object-level hardening pins the top route and inhibit rules (what the webhook patches in)', () => {
    const h = hardenObject(poAm('team-b', 'r', { route: { receiver: 'p', matchers: [{ name: 'tenant', value: '.*', matchType: '=~' }] }, receivers: [{ name: 'p' }], inhibitRules: [{ sourceMatch: [{ name: 'a', value: 'b' }], targetMatch: [] }] }), opts);
    assert.deepEqual((h.object.spec.route as any).matchers, [{ name: 'tenant', value: 'team-b', matchType: '=' }]);
    assert.deepEqual((h.object.spec.inhibitRules as any)[0].targetMatch, [{ name: 'tenant', value: 'team-b', matchType: '=' }]);
    assert.deepEqual(hardenObject(h.object, opts).object, h.object);
  });
});
