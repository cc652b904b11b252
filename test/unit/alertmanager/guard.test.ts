// The tenant policy refuses alert posts unless every Alertmanager behind its route has been read
// and keeps tenants apart for the poster's labels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alertmanagerGuard } from '../../../src/enforce/alertmanager/guard.ts';
import { forwarded, policy, refused, run } from '../tenant/helpers.ts';

const JSONH = { 'content-type': 'application/json' };
const post = (p: ReturnType<typeof policy>, path = '/api/v2/alerts') =>
  run(p, { method: 'POST', path, body: '[{"labels":{"alertname":"X","severity":"critical"}}]', headers: JSONH });
const SAFE = { route: { receiver: 'ops', group_by: ['alertname', 'namespace'], routes: [{ match: { namespace: 'a' }, receiver: 'a' }] }, inhibit_rules: [{ source_match: { severity: 'critical' }, target_match: { severity: 'warning' }, equal: ['alertname', 'namespace'] }] };
const UNSAFE = { ...SAFE, inhibit_rules: [{ source_match: { severity: 'critical' }, target_match: { severity: 'warning' }, equal: ['alertname', 'cluster', 'service'] }] };

test('alert posts: refused until read, refused while unreadable or unsafe, forwarded when safe', () => {
  const p = policy({ labels: { namespace: 'a' } });
  refused(post(p), 503, 'tenant_alertmanager_unchecked');
  alertmanagerGuard.watch(p, ['http://am1/api/v2/status', 'http://am2/api/v2/status']);
  refused(post(p), 503, 'tenant_alertmanager_unchecked');
  alertmanagerGuard.record('http://am1/api/v2/status', { kind: 'read', config: SAFE });
  alertmanagerGuard.record('http://am2/api/v2/status', { kind: 'unread', error: 'connection refused', answered: false });
  refused(post(p), 503, 'tenant_alertmanager_unchecked');
  alertmanagerGuard.record('http://am2/api/v2/status', { kind: 'read', config: UNSAFE });
  const r = refused(post(p), 403, 'tenant_alertmanager_unsafe');
  assert.match(r.message, /inhibit_rules\[0\]: an inhibit rule/);
  alertmanagerGuard.record('http://am2/api/v2/status', { kind: 'read', config: SAFE });
  const f = forwarded(post(p));
  assert.equal(JSON.parse(f.body!.toString())[0].labels.namespace, 'a');
  // Only posts are guarded: reading alerts and silences is not affected.
  alertmanagerGuard.record('http://am2/api/v2/status', { kind: 'read', config: UNSAFE });
  forwarded(run(p, { path: '/api/v2/alerts' }));
  // An Alertmanager under a further /alertmanager prefix is one the watcher never read.
  alertmanagerGuard.record('http://am2/api/v2/status', { kind: 'read', config: SAFE });
  refused(post(p, '/alertmanager/api/v2/alerts'), 503, 'tenant_alertmanager_unchecked');
});

test('the client is told where the problem is, never other tenants\' values', () => {
  const p = policy({ labels: { namespace: 'a' } });
  alertmanagerGuard.watch(p, ['http://am3/api/v2/status']);
  alertmanagerGuard.record('http://am3/api/v2/status', { kind: 'read', config: { ...SAFE, route: { ...SAFE.route, routes: [{ match: { team: 'secret-team-b' }, receiver: 'team-b-pager' }] } } });
  const r = refused(post(p), 403, 'tenant_alertmanager_unsafe');
  assert.match(r.message, /route\.routes\[0\]: a route can receive alerts of several tenants/);
  assert.ok(!r.message.includes('secret-team-b') && !r.message.includes('team-b-pager'), r.message);
});

test('tenants of one Alertmanager told apart by different label names: refused', () => {
  const p = policy({ labels: { namespace: 'a' } });
  alertmanagerGuard.watch(p, ['http://am4/api/v2/status']);
  alertmanagerGuard.record('http://am4/api/v2/status', { kind: 'read', config: { route: { receiver: 'ops', group_by: ['...'] } } });
  alertmanagerGuard.labelSets('http://am4/api/v2/status', new Set(['namespace']));
  forwarded(post(p));
  alertmanagerGuard.labelSets('http://am4/api/v2/status', new Set(['namespace', 'team']));
  refused(post(p), 403, 'tenant_alertmanager_unsafe');
});

test('the lint runs for the poster\'s own label names', () => {
  const p = policy({ labels: { namespace: 'a', team: 'x' } });
  alertmanagerGuard.watch(p, ['http://am5/api/v2/status']);
  alertmanagerGuard.record('http://am5/api/v2/status', { kind: 'read', config: SAFE });
  refused(post(p), 403, 'tenant_alertmanager_unsafe');
});
