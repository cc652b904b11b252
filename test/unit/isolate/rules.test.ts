// Rule objects: every rule carries the namespace label and every selector is scoped to it;
// group settings that would read another tenant's data are refused.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IsolationError } from '../../../src/isolate/errors.ts';
import { hardenObject } from '../../../src/isolate/harden.ts';
import type { MonitoringObject } from '../../../src/isolate/objects.ts';
import { makeOptions } from '../../../src/isolate/options.ts';
import { ruleGroups } from '../../../src/isolate/rule-files.ts';

const vmOpts = makeOptions({ label: 'tenant' });
const poOpts = makeOptions({ label: 'tenant', flavor: 'prometheus-operator' });

function rule(kind: 'VMRule' | 'PrometheusRule', groups: unknown[], namespace = 'team-a'): MonitoringObject {
  return { apiVersion: kind === 'VMRule' ? 'operator.victoriametrics.com/v1beta1' : 'monitoring.coreos.com/v1', kind, metadata: { name: 'r', namespace }, spec: { groups } };
}

function code(fn: () => unknown, expected: string, field: RegExp) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof IsolationError, String(e));
    assert.equal(e.code, expected, e.message);
    assert.match(e.field, field);
    return true;
  });
}

describe('golden rule groups', () => {
  it('PrometheusRule: label added and every selector scoped (prometheus-operator enforcedNamespaceLabel behaviour)', () => {
    const o = rule('PrometheusRule', [{ name: 'g', interval: '1m', rules: [
      { record: 'job:errors:rate5m', expr: 'sum by (job) (rate(errors_total[5m])) / on(job) group_left sum by (job) (rate(requests_total[5m]))' },
      { alert: 'Down', expr: 'up == 0', for: '5m', labels: { severity: 'page' }, annotations: { summary: '{{ $labels.job }} down' } },
    ] }]);
    const h = hardenObject(o, poOpts);
    assert.deepEqual(ruleGroups(h.object, poOpts), [{
      name: 'team-a/r/g',
      interval: '1m',
      rules: [
        { record: 'job:errors:rate5m', expr: 'sum by (job) (rate(errors_total{tenant="team-a"}[5m])) / on(job) group_left sum by (job) (rate(requests_total{tenant="team-a"}[5m]))', labels: { tenant: 'team-a' } },
        { alert: 'Down', expr: 'up{tenant="team-a"} == 0', for: '5m', labels: { severity: 'page', tenant: 'team-a' }, annotations: { summary: '{{ $labels.job }} down' } },
      ],
    }]);
  });

  it('VMRule: label (VictoriaMetrics operator behaviour) plus scoped expressions and params.extra_label (hardening)', () => {
    const h = hardenObject(rule('VMRule', [{ name: 'g', params: { nocache: ['1'] }, rules: [{ record: 'a', expr: 'sum(x)' }] }]), vmOpts);
    const [g] = ruleGroups(h.object, vmOpts);
    assert.deepEqual(g!.params, { nocache: ['1'], extra_label: ['tenant=team-a'] });
    assert.deepEqual(g!.rules, [{ record: 'a', expr: 'sum(x{tenant="team-a"})', labels: { tenant: 'team-a' } }]);
    const crd = h.object.spec.groups as Array<Record<string, unknown>>;
    assert.deepEqual(crd[0]!.params, { nocache: ['1'], extra_label: ['tenant=team-a'] });
  });

  it('group labels are folded into rules; the enforced label always wins', () => {
    const h = hardenObject(rule('VMRule', [{ name: 'g', labels: { team: 'a', tenant: 'team-b' }, rules: [{ alert: 'A', expr: 'x > 0', labels: { team: 'override' } }] }]), vmOpts);
    const [g] = ruleGroups(h.object, vmOpts);
    assert.deepEqual((g!.rules as Array<Record<string, unknown>>)[0]!.labels, { team: 'override', tenant: 'team-a' });
    assert.match(h.warnings.join('\n'), /labels\.tenant: overridden/);
  });
});

describe('attacks on rules', () => {
  it('a rule reading another namespace is ANDed with its own namespace (it selects nothing of team-b)', () => {
    const h = hardenObject(rule('PrometheusRule', [{ name: 'g', rules: [{ record: 'steal', expr: 'secret_total{tenant="team-b"} or on() secret_total{tenant=~".+"}' }] }]), poOpts);
    const expr = ((h.object.spec.groups as any[])[0].rules[0].expr) as string;
    assert.equal(expr, 'secret_total{tenant="team-b", tenant="team-a"} or on() secret_total{tenant=~".+", tenant="team-a"}');
  });

  it('a rule labelling its output as another tenant is overridden', () => {
    const h = hardenObject(rule('VMRule', [{ name: 'g', rules: [{ record: 'x', expr: 'y', labels: { tenant: 'team-b' } }] }]), vmOpts);
    assert.equal((h.object.spec.groups as any[])[0].rules[0].labels.tenant, 'team-a');
  });

  for (const key of ['tenant', 'headers', 'notifier_headers']) {
    it(`VMRule group "${key}" is refused`, () => {
      code(() => hardenObject(rule('VMRule', [{ name: 'g', [key]: key === 'tenant' ? '1:0' : ['X-Scope-OrgID: team-b'], rules: [] }]), vmOpts), 'ERR_ISOLATE_UNSAFE', new RegExp(`groups\\[0\\]\\.${key}$`));
    });
  }

  it('params that change the data read are refused; user extra_label is replaced', () => {
    code(() => hardenObject(rule('VMRule', [{ name: 'g', params: { extra_filters: ['{tenant="team-b"}'] }, rules: [] }]), vmOpts), 'ERR_ISOLATE_UNSAFE', /params\.extra_filters/);
    const h = hardenObject(rule('VMRule', [{ name: 'g', params: { extra_label: ['tenant=team-b'] }, rules: [] }]), vmOpts);
    assert.deepEqual((h.object.spec.groups as any[])[0].params, { extra_label: ['tenant=team-a'] });
  });

  it('graphite groups cannot be scoped and are refused', () => {
    code(() => hardenObject(rule('VMRule', [{ name: 'g', type: 'graphite', rules: [] }]), vmOpts), 'ERR_ISOLATE_UNSAFE', /type$/);
  });

  it('templates calling query (unscoped at notification time) are refused', () => {
    code(() => hardenObject(rule('PrometheusRule', [{ name: 'g', rules: [{ alert: 'A', expr: 'x', annotations: { d: '{{ with query "secret{tenant=\\"team-b\\"}" }}{{ . | first | value }}{{ end }}' } }] }]), poOpts),
      'ERR_ISOLATE_UNSAFE', /annotations\.d$/);
    code(() => hardenObject(rule('PrometheusRule', [{ name: 'g', rules: [{ alert: 'A', expr: 'x', labels: { v: '{{ "secret" | query }}' } }] }]), poOpts), 'ERR_ISOLATE_UNSAFE', /labels\.v$/);
  });

  it('an expression that cannot be parsed is refused with ERR_ISOLATE_PROMQL and the rule path', () => {
    code(() => hardenObject(rule('VMRule', [{ name: 'g', rules: [{ record: 'a', expr: 'sum(x' }] }]), vmOpts), 'ERR_ISOLATE_PROMQL', /groups\[0\]\.rules\[0\]\.expr/);
  });

  it('duplicate group names and rules without alert/record are refused', () => {
    code(() => hardenObject(rule('VMRule', [{ name: 'g', rules: [] }, { name: 'g', rules: [] }]), vmOpts), 'ERR_ISOLATE_CONFLICT', /groups\[1\]\.name/);
    code(() => hardenObject(rule('VMRule', [{ name: 'g', rules: [{ expr: 'x' }] }]), vmOpts), 'ERR_ISOLATE_OBJECT', /rules\[0\]$/);
  });

  it('hardening rules is idempotent', () => {
    const once = hardenObject(rule('VMRule', [{ name: 'g', rules: [{ record: 'a', expr: 'rate(x[5m]) > on(job) y' }] }]), vmOpts).object;
    assert.deepEqual(hardenObject(once, vmOpts).object, once);
  });
});
