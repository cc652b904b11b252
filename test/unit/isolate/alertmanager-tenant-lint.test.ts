// `tenantgate isolate` emits Alertmanager configurations the gateway's tenant lint accepts: the
// base config's grouping and inhibition are made per tenant, and a base route that would send
// several tenants' alerts to a receiver other than the root's is refused.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lintAlertmanagerConfig } from '../../../src/enforce/alertmanager/lint.ts';
import { buildAlertmanagerConfig } from '../../../src/isolate/alertmanager-config.ts';
import { IsolationError } from '../../../src/isolate/errors.ts';
import { hardenObject } from '../../../src/isolate/harden.ts';
import type { MonitoringObject } from '../../../src/isolate/objects.ts';
import { makeOptions } from '../../../src/isolate/options.ts';

const opts = makeOptions({ label: 'tenant' });
const vmAm = (namespace: string, name: string, spec: Record<string, unknown>): MonitoringObject =>
  ({ apiVersion: 'operator.victoriametrics.com/v1beta1', kind: 'VMAlertmanagerConfig', metadata: { name, namespace }, spec });
const poAm = (namespace: string, name: string, spec: Record<string, unknown>): MonitoringObject =>
  ({ apiVersion: 'monitoring.coreos.com/v1alpha1', kind: 'AlertmanagerConfig', metadata: { name, namespace }, spec });
const build = (objects: MonitoringObject[], base?: Record<string, unknown>) =>
  buildAlertmanagerConfig(base, objects.map((o, key) => ({ object: hardenObject(o, opts).object, key })), opts);

// Objects written to escape their namespace: routes and inhibit rules on other labels,
// regexes on the tenant label, group_by without it, continue everywhere.
const HOSTILE = [
  vmAm('team-a', 'x', {
    route: { receiver: 'r', matchers: ['tenant=~".*"', 'severity="critical"'], group_by: ['alertname'], continue: true,
      routes: [{ receiver: 'r', matchers: ['service="pg"'], continue: true, routes: [{ receiver: 'r', matchers: ['tenant="team-b"'] }] }] },
    receivers: [{ name: 'r' }],
    inhibit_rules: [{ source_matchers: ['severity="critical"'], target_matchers: ['severity="warning"'], equal: ['alertname'] }],
  }),
  poAm('team-b', 'y', {
    route: { receiver: 'p', groupBy: ['service'], routes: [{ receiver: 'p', matchers: [{ name: 'tenant', value: 'team-a', matchType: '=' }] }] },
    receivers: [{ name: 'p' }],
    inhibitRules: [{ sourceMatch: [{ name: 'severity', value: 'critical' }], targetMatch: [{ name: 'severity', value: 'warning' }], equal: ['cluster'] }],
  }),
];

describe('isolate output passes the gateway\'s Alertmanager tenant lint', () => {
  it('generated routes and inhibit rules, default base', () => {
    const { config, failures } = build(HOSTILE);
    assert.equal(failures.size, 0);
    assert.deepEqual(lintAlertmanagerConfig(config, ['tenant']), []);
    assert.deepEqual((config.route as { group_by: string[] }).group_by, ['alertname', 'tenant']);
  });

  it('a base with tenant-mixing grouping and inhibition is made per tenant', () => {
    const base = {
      route: { receiver: 'ops', group_by: ['alertname', 'cluster'], routes: [{ receiver: 'ops', matchers: ['severity="critical"'], group_by: ['service'] }] },
      receivers: [{ name: 'ops' }],
      inhibit_rules: [{ source_matchers: ['severity="critical"'], target_matchers: ['severity="warning"'], equal: ['alertname', 'cluster', 'service'] }],
    };
    assert.ok(lintAlertmanagerConfig(base, ['tenant']).length === 3);
    const { config } = build(HOSTILE, base);
    assert.deepEqual(lintAlertmanagerConfig(config, ['tenant']), []);
    assert.deepEqual((config.inhibit_rules as { equal: string[] }[])[0]!.equal, ['alertname', 'cluster', 'service', 'tenant']);
    assert.deepEqual(base.route.group_by, ['alertname', 'cluster'], 'the caller\'s base is not modified');
  });

  it('a base route that sends every tenant\'s alerts to another receiver is refused, naming it', () => {
    const base = { route: { receiver: 'ops', group_by: ['...'], routes: [{ receiver: 'pager', matchers: ['severity="critical"'] }] }, receivers: [{ name: 'ops' }, { name: 'pager' }] };
    assert.throws(() => build(HOSTILE, base), (err: unknown) => err instanceof IsolationError && err.code === 'ERR_ISOLATE_UNSAFE' && /route\.routes\[0\]/.test(err.message));
    // pinned to one tenant, or sent to the root receiver, it is accepted
    assert.doesNotThrow(() => build(HOSTILE, { ...base, route: { ...base.route, routes: [{ receiver: 'pager', matchers: ['severity="critical"', 'tenant="platform"'] }] } }));
    assert.doesNotThrow(() => build(HOSTILE, { ...base, route: { ...base.route, routes: [{ receiver: 'ops', matchers: ['severity="critical"'] }] } }));
  });
});
