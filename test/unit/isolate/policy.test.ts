// The alert-definition policy: strict file validation with file:line, and every rule as an
// allowed/denied pair on real objects (hardened first, as the compiler and webhook do).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compile } from '../../../src/isolate/compile.ts';
import { hardenObject } from '../../../src/isolate/harden.ts';
import { makeOptions } from '../../../src/isolate/options.ts';
import { policyViolations } from '../../../src/isolate/policy/apply.ts';
import { parsePolicy, PolicyError } from '../../../src/isolate/policy/load.ts';

const POLICY = `
global:
  rules:
    requiredLabels:
      severity: [critical, warning]
      team: []
    requiredAnnotations: [summary, runbook_url]
    maxAnnotationBytes: 64
    minFor: 1m
    maxRulesPerNamespace: 3
    metrics:
      deny: ['apiserver_.*']
  notifications:
    integrations: [webhook, email, slack, pushover]
    urlHosts: [hooks.example.com, '*.alerts.example.com']
    emailDomains: [example.com]
    minGroupInterval: 1m
    minRepeatInterval: 1h
namespaces:
  team-a:
    rules:
      metrics:
        allow: ['http_.*', 'up']
        deny: ['http_debug_.*']
`;
const policy = parsePolicy(POLICY, 'policy.yml');
const opts = makeOptions({ label: 'tenant', policy });

const goodAlert = { alert: 'Down', expr: 'up == 0', for: '5m', labels: { severity: 'critical', team: 'a' }, annotations: { summary: 's', runbook_url: 'https://r' } };
function rule(ns: string, overrides: Record<string, unknown>, kind = 'VMRule') {
  const r: Record<string, unknown> = { ...goodAlert, ...overrides };
  for (const [k, v] of Object.entries(overrides)) if (v === undefined) delete r[k];
  return { apiVersion: kind === 'VMRule' ? 'operator.victoriametrics.com/v1beta1' : 'monitoring.coreos.com/v1', kind, metadata: { name: 'r', namespace: ns }, spec: { groups: [{ name: 'g', rules: [r] }] } };
}
function am(spec: Record<string, unknown>, ns = 'team-b') {
  return { apiVersion: 'operator.victoriametrics.com/v1beta1', kind: 'VMAlertmanagerConfig', metadata: { name: 'a', namespace: ns }, spec };
}
const violations = (o: unknown) => policyViolations(hardenObject(o, opts).object, policy);

function pair(name: string, ok: unknown, bad: unknown, reason: RegExp): void {
  it(`${name}: allowed`, () => assert.deepEqual(violations(ok), []));
  it(`${name}: denied`, () => {
    const v = violations(bad);
    assert.equal(v.length, 1, v.join('\n'));
    assert.match(v[0]!, reason);
  });
}

describe('policy file', () => {
  it('errors carry file:line and the field path', () => {
    assert.throws(() => parsePolicy('global:\n  rules:\n    minFor: 1m\n    requiredLabel: {}\n', 'p.yml'), (e: PolicyError) => /^p\.yml:4: global\.rules\.requiredLabel: unknown field "requiredLabel"/.test(e.message));
    assert.throws(() => parsePolicy('global:\n  rules:\n    minFor: 5minutes\n', 'p.yml'), (e: PolicyError) => /^p\.yml:3: global\.rules\.minFor: must be a duration/.test(e.message));
    assert.throws(() => parsePolicy('global:\n  rules:\n    metrics:\n      deny: ["("]\n', 'p.yml'), (e: PolicyError) => /^p\.yml:4: global\.rules\.metrics\.deny\.0: invalid regex/.test(e.message));
    assert.throws(() => parsePolicy('namespaces:\n  Team_A: {}\n', 'p.yml'), (e: PolicyError) => /p\.yml:2: namespaces\.Team_A: must be a namespace name/.test(e.message));
    assert.throws(() => parsePolicy('global:\n  notifications:\n    integrations: [carrier_pigeon]\n', 'p.yml'), (e: PolicyError) => /p\.yml:3: global\.notifications\.integrations\.0/.test(e.message));
    assert.throws(() => parsePolicy('global:\n  notifications:\n    urlHosts: ["https://x"]\n', 'p.yml'), (e: PolicyError) => /urlHosts\.0: must be a lower-case host name/.test(e.message));
    assert.throws(() => parsePolicy('a: 1\na: 2\n', 'p.yml'), (e: PolicyError) => /^p\.yml:2: invalid YAML/.test(e.message));
  });
  it('lists every problem, not just the first', () => {
    assert.throws(() => parsePolicy('global:\n  rules:\n    minFor: x\n    maxRulesPerNamespace: -1\n', 'p.yml'), (e: PolicyError) => e.message.split('\n').length === 2);
  });
  it('an empty file is a valid policy that allows everything', () => {
    const p = parsePolicy('', 'empty.yml');
    assert.deepEqual(policyViolations(hardenObject(rule('team-b', { labels: undefined, annotations: undefined, for: undefined }), opts).object, p), []);
  });
});

describe('rules policy (allowed / denied twins)', () => {
  pair('required label present', rule('team-b', {}), rule('team-b', { labels: { team: 'a' } }), /labels\.severity: required by the policy \(one of critical, warning\)/);
  pair('required label value allowed', rule('team-b', { labels: { severity: 'warning', team: 'a' } }), rule('team-b', { labels: { severity: 'page-everyone', team: 'a' } }), /labels\.severity: "page-everyone" is not allowed/);
  pair('required label from group labels counts', rule('team-b', {}), rule('team-b', { labels: { severity: 'critical' } }), /labels\.team: required/);
  pair('required annotation', rule('team-b', {}), rule('team-b', { annotations: { summary: 's' } }), /annotations\.runbook_url: required by the policy/);
  pair('annotation size limit', rule('team-b', { annotations: { summary: 'x'.repeat(64), runbook_url: 'r' } }), rule('team-b', { annotations: { summary: 'x'.repeat(65), runbook_url: 'r' } }), /annotations\.summary: 65 bytes exceed the policy's limit of 64/);
  pair('minimum for', rule('team-b', { for: '1m' }), rule('team-b', { for: '30s' }), /\.for: "30s" is shorter than the policy's minimum of 1m/);
  pair('minimum for: unset for is zero', rule('team-b', { for: '2m' }), rule('team-b', { for: undefined }), /\.for: unset/);
  pair('global metric deny list', rule('team-b', { expr: 'rate(http_requests_total[5m]) > 1' }), rule('team-b', { expr: 'rate(apiserver_request_total[5m]) > 1' }), /metric "apiserver_request_total" is denied/);
  pair('namespace metric allow list', rule('team-a', { expr: 'up == 0' }), rule('team-a', { expr: 'node_load1 > 4' }), /metric "node_load1" is not in the policy's allow list/);
  pair('namespace deny adds to the global one', rule('team-a', { expr: 'http_requests_total > 0' }), rule('team-a', { expr: 'http_debug_requests > 0' }), /"http_debug_requests" is denied/);
  pair('a selector without an exact name cannot pass a metric list', rule('team-a', { expr: '{__name__="up"} == 0' }), rule('team-a', { expr: '{__name__=~"up|node_.*"} == 0' }), /without an exact metric name/);
  pair('metrics checked inside binary operations and functions', rule('team-b', { expr: 'sum(rate(http_a[5m])) / sum(rate(http_b[5m]))' }), rule('team-b', { expr: 'sum(rate(http_a[5m])) / sum(rate(apiserver_x[5m]))' }), /apiserver_x/);
  pair('recording rules: metric lists apply, alert-only rules do not', rule('team-b', { alert: undefined, for: undefined, annotations: undefined, labels: undefined, record: 'job:up:sum', expr: 'sum(up)' }), rule('team-b', { alert: undefined, for: undefined, annotations: undefined, labels: undefined, record: 'x:y', expr: 'sum(apiserver_up)' }), /denied/);
  it('PrometheusRule follows the same policy', () => {
    assert.deepEqual(violations(rule('team-b', {}, 'PrometheusRule')), []);
    assert.match(violations(rule('team-b', { for: '10s' }, 'PrometheusRule'))[0]!, /minimum of 1m/);
  });
  it('every violation of an object is listed', () => {
    const v = violations(rule('team-b', { labels: {}, annotations: {}, for: '1s', expr: 'apiserver_x > 0' }));
    assert.equal(v.length, 6, v.join('\n'));
  });
  it('maxRulesPerNamespace: a single object over the limit is refused', () => {
    const o = rule('team-b', {});
    (o.spec.groups[0]!.rules as unknown[]).push({ ...goodAlert, alert: 'B' }, { ...goodAlert, alert: 'C' }, { ...goodAlert, alert: 'D' });
    assert.match(violations(o)[0]!, /4 rules exceed the policy's maximum of 3 rules per namespace/);
  });
  it('maxRulesPerNamespace: the compiler counts across objects and refuses the one that crosses the limit', () => {
    const yaml = (name: string, n: number) => JSON.stringify({ ...rule('team-b', {}), metadata: { name, namespace: 'team-b' }, spec: { groups: [{ name: 'g', rules: Array.from({ length: n }, (_, i) => ({ ...goodAlert, alert: `A${i}` })) }] } });
    const r = compile([{ name: 'x.yaml', text: `${yaml('one', 2)}\n---\n${yaml('two', 2)}\n---\n${yaml('three', 1)}` }], opts);
    assert.deepEqual(r.report.objects.map((o) => [o.name, o.status]), [['one', 'changed'], ['two', 'refused'], ['three', 'changed']]);
    assert.match(r.report.objects[1]!.errors[0]!.reason, /2 rules on top of 2 already defined in namespace team-b exceed/);
  });
});

describe('notification policy (allowed / denied twins)', () => {
  const recv = (cfg: Record<string, unknown>) => am({ route: { receiver: 'r' }, receivers: [{ name: 'r', ...cfg }] });
  pair('approved integration types', recv({ webhook_configs: [{ url: 'https://hooks.example.com/x' }] }), recv({ telegram_configs: [{ bot_token: 'b', chat_id: 1 }] }), /integration "telegram" is not approved by the policy \(approved: webhook, email, slack, pushover\)/);
  pair('webhook URL host allow-list', recv({ webhook_configs: [{ url: 'https://hooks.example.com/x' }] }), recv({ webhook_configs: [{ url: 'https://hooks.example.com.evil.net/x' }] }), /host "hooks\.example\.com\.evil\.net" is not an approved notification destination/);
  pair('pushover url is a link in the message, not a destination', recv({ pushover_configs: [{ user_key: 'u', token: 't', url: 'https://grafana.internal/' }] }), recv({ pushover_configs: [{ user_key: 'u', token: 't', url: 'https://grafana.internal/', http_config: { proxy_url: 'http://evil.net/' } }] }), /proxy_url/);
  pair('wildcard host matches subdomains only', recv({ webhook_configs: [{ url: 'https://eu.alerts.example.com/x' }] }), recv({ webhook_configs: [{ url: 'https://alerts.example.com/x' }] }), /not an approved notification destination/);
  pair('proxy URL is a destination too', recv({ webhook_configs: [{ url: 'https://hooks.example.com/x', http_config: { proxy_url: 'http://hooks.example.com:3128/' } }] }), recv({ webhook_configs: [{ url: 'https://hooks.example.com/x', http_config: { proxy_url: 'http://exfil.example.org:3128/' } }] }), /proxy_url: host "exfil\.example\.org"/);
  pair('an own SMTP relay is a destination', recv({ email_configs: [{ to: 'oncall@example.com', smarthost: 'hooks.example.com:25' }] }), recv({ email_configs: [{ to: 'oncall@example.com', smarthost: 'smtp.evil.net:587' }] }), /smarthost: host "smtp\.evil\.net" is not an approved/);
  pair('e-mail domains', recv({ email_configs: [{ to: 'oncall@example.com, Team <team@example.com>' }] }), recv({ email_configs: [{ to: 'oncall@example.com, x@gmail.com' }] }), /"x@gmail\.com" is not in an approved e-mail domain/);
  pair('templated e-mail addresses cannot be verified', recv({ email_configs: [{ to: 'oncall@example.com' }] }), recv({ email_configs: [{ to: '{{ .CommonLabels.owner }}@example.com' }] }), /templated address/);
  pair('minimum group interval', am({ route: { receiver: 'r', group_interval: '1m' }, receivers: [{ name: 'r' }] }), am({ route: { receiver: 'r', routes: [{ receiver: 'r', group_interval: '10s' }] }, receivers: [{ name: 'r' }] }), /spec\.route\.routes\[0\]\.group_interval: "10s" is shorter than the policy's minimum group interval 1m/);
  pair('repeat interval floor', am({ route: { receiver: 'r', repeat_interval: '4h' }, receivers: [{ name: 'r' }] }), am({ route: { receiver: 'r', repeat_interval: '5m' }, receivers: [{ name: 'r' }] }), /repeat_interval: "5m" is shorter than the policy's repeat interval floor 1h/);
  it('a destination held in a Secret cannot be verified against urlHosts / emailDomains', () => {
    const po = (receiver: Record<string, unknown>) => ({ apiVersion: 'monitoring.coreos.com/v1alpha1', kind: 'AlertmanagerConfig', metadata: { name: 'a', namespace: 'team-b' }, spec: { route: { receiver: 'r' }, receivers: [{ name: 'r', ...receiver }] } });
    assert.match(violations(po({ slackConfigs: [{ apiURL: { name: 'slack', key: 'url' }, channel: '#a' }] }))[0]!, /slack_configs\[0\]\.api_url: the destination is held in a Secret/);
    assert.match(violations(po({ webhookConfigs: [{ urlSecret: { name: 'hook', key: 'url' } }] }))[0]!, /webhook_configs\[0\]\.url: the destination is held in a Secret/);
    assert.deepEqual(violations(po({ slackConfigs: [{ channel: '#a' }] })), []);
  });
  it('prometheus-operator spelling: field names of the CRD in the reasons', () => {
    const o = { apiVersion: 'monitoring.coreos.com/v1alpha1', kind: 'AlertmanagerConfig', metadata: { name: 'a', namespace: 'team-b' }, spec: { route: { receiver: 'r', repeatInterval: '1m' }, receivers: [{ name: 'r', webhookConfigs: [{ url: 'https://x.example.org/' }] }] } };
    const v = violations(o);
    assert.equal(v.length, 2, v.join('\n'));
    assert.match(v[0]!, /spec\.receivers\[0\]\.webhook_configs\[0\]\.url: host "x\.example\.org"/);
    assert.match(v[1]!, /spec\.route\.repeatInterval/);
  });
});
