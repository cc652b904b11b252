// The tenant lint of Alertmanager configurations: for each kind of finding, an unsafe config and
// its safe twin that differs only in the fix.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatConfigPath, lintAlertmanagerConfig } from '../../../src/enforce/alertmanager/lint.ts';
import { lintAlertmanagerYaml } from '../../../src/enforce/alertmanager/lint-yaml.ts';
import { parseMatcherList } from '../../../src/enforce/alertmanager/matchers.ts';

const L = ['namespace'];
const lint = (cfg: unknown, labels = L) => lintAlertmanagerConfig(cfg, labels).map((f) => `${f.kind} ${formatConfigPath(f.path)}`);
const base = (extra: object = {}, route: object = {}) => ({
  route: { receiver: 'ops', group_by: ['alertname', 'namespace'], ...route },
  receivers: [{ name: 'ops' }, { name: 'a' }, { name: 'b' }],
  ...extra,
});

describe('matchers', () => {
  test('lists, braces, quotes and operators are read like Alertmanager', () => {
    assert.deepEqual(parseMatcherList('{foo="b,ar", baz=~"q.*"}'), [{ name: 'foo', op: '=', value: 'b,ar' }, { name: 'baz', op: '=~', value: 'q.*' }]);
    assert.deepEqual(parseMatcherList('namespace = team-a'), [{ name: 'namespace', op: '=', value: 'team-a' }]);
    assert.deepEqual(parseMatcherList('x!="a\\"b"'), [{ name: 'x', op: '!=', value: 'a"b' }]);
    assert.throws(() => parseMatcherList('x'));
  });
});

describe('inhibit rules', () => {
  const rule = (equal: string[], src: object = { source_match: { severity: 'critical' } }, tgt: object = { target_matchers: ['severity="warning"'] }) =>
    base({ inhibit_rules: [{ ...src, ...tgt, equal }] });

  test('equal without the tenant label is unsafe; with it, safe', () => {
    assert.deepEqual(lint(rule(['alertname', 'cluster', 'service'])), ['inhibit_rule inhibit_rules[0]']);
    assert.deepEqual(lint(rule(['alertname', 'cluster', 'service', 'namespace'])), []);
  });

  test('a rule without equal mutes across everything', () => {
    assert.deepEqual(lint(rule([])), ['inhibit_rule inhibit_rules[0]']);
  });

  test('both sides pinned to the same value is safe; to different values or one side only is not', () => {
    const pin = (v: string) => [`severity="x"`, `namespace="${v}"`];
    assert.deepEqual(lint(rule([], { source_matchers: pin('a') }, { target_matchers: pin('a') })), []);
    assert.deepEqual(lint(rule([], { source_matchers: pin('a') }, { target_match: { namespace: 'a' } })), []);
    assert.deepEqual(lint(rule([], { source_matchers: pin('a') }, { target_matchers: pin('b') })), ['inhibit_rule inhibit_rules[0]']);
    assert.deepEqual(lint(rule([], { source_matchers: pin('a') }, { target_matchers: ['severity="y"'] })), ['inhibit_rule inhibit_rules[0]']);
    assert.deepEqual(lint(rule([], { source_matchers: ['namespace=~"a|b"'] }, { target_matchers: ['namespace=~"a|b"'] })), ['inhibit_rule inhibit_rules[0]']);
  });

  test('every tenant label is needed', () => {
    assert.deepEqual(lint(rule(['namespace']), ['namespace', 'team']), ['inhibit_rule inhibit_rules[0]', 'group_by route.group_by']);
    assert.deepEqual(lint(base({ inhibit_rules: [{ equal: ['namespace', 'team'] }] }, { group_by: ['...'] }), ['namespace', 'team']), []);
  });
});

describe('routes', () => {
  test('a route matching on other labels reaches several tenants; pinning the tenant label fixes it', () => {
    assert.deepEqual(lint(base({}, { routes: [{ match: { service: 'db' }, receiver: 'a' }] })), ['route route.routes[0]']);
    assert.deepEqual(lint(base({}, { routes: [{ match: { service: 'db', namespace: 'team-a' }, receiver: 'a' }] })), []);
    assert.deepEqual(lint(base({}, { routes: [{ matchers: ['service="db"', 'namespace="team-a"'], receiver: 'a' }] })), []);
  });

  test('regex and negative matchers do not pin; a metacharacter-free regex does', () => {
    assert.deepEqual(lint(base({}, { routes: [{ matchers: ['namespace=~"team-a|team-b"'], receiver: 'a' }] })), ['route route.routes[0]']);
    assert.deepEqual(lint(base({}, { routes: [{ matchers: ['namespace!="team-b"'], receiver: 'a' }] })), ['route route.routes[0]']);
    assert.deepEqual(lint(base({}, { routes: [{ match_re: { namespace: 'team-.*' }, receiver: 'a' }] })), ['route route.routes[0]']);
    assert.deepEqual(lint(base({}, { routes: [{ match_re: { namespace: 'team-a' }, receiver: 'a' }] })), []);
  });

  test('nested routes inherit their parents\' pins', () => {
    const nested = (parent: object, child: object) => base({}, { routes: [{ ...parent, receiver: 'a', routes: [{ receiver: 'b', ...child }] }] });
    assert.deepEqual(lint(nested({ match: { namespace: 'team-a' } }, { match: { severity: 'critical' } })), []);
    assert.deepEqual(lint(nested({ match: { severity: 'critical' } }, { match: { service: 'db' } })), ['route route.routes[0]', 'route route.routes[0].routes[0]']);
    assert.deepEqual(lint(nested({ match: { severity: 'critical' } }, { match: { namespace: 'team-a' } })), ['route route.routes[0]']);
  });

  test('an unpinned route is allowed only while it delivers to the root receiver (with tenant grouping)', () => {
    const tree = (receiver: string | undefined, groupBy?: string[]) => base({}, { routes: [{
      match: { severity: 'critical' }, ...(receiver ? { receiver } : {}), ...(groupBy ? { group_by: groupBy } : {}),
      routes: [{ match: { namespace: 'team-a' }, receiver: 'a' }, { match: { namespace: 'team-b' }, receiver: 'b' }],
    }] });
    assert.deepEqual(lint(tree(undefined)), []);
    assert.deepEqual(lint(tree('ops')), []);
    assert.deepEqual(lint(tree('a')), ['route route.routes[0]']);
    assert.deepEqual(lint(tree(undefined, ['alertname'])), ['group_by route.routes[0].group_by']);
    assert.deepEqual(lint(tree(undefined, ['alertname', 'namespace'])), []);
  });

  test('continue: a catch-all sibling with continue lets later unpinned siblings receive alerts; without it they never do', () => {
    const routes = (cont: boolean) => base({}, { routes: [
      { receiver: 'ops', continue: cont },
      { match: { service: 'db' }, receiver: 'a' },
    ] });
    assert.deepEqual(lint(routes(true)), ['route route.routes[1]']);
    assert.deepEqual(lint(routes(false)), []);
    // continue does not make an unpinned route safe, wherever it sits
    assert.deepEqual(lint(base({}, { routes: [{ match: { namespace: 'team-a' }, receiver: 'a', continue: true }, { match: { severity: 'page' }, receiver: 'b', continue: true }] })), ['route route.routes[1]']);
  });
});

describe('group_by', () => {
  test('the root must group by the tenant label or by ...', () => {
    assert.deepEqual(lint(base({}, { group_by: ['alertname', 'cluster', 'service'] })), ['group_by route.group_by']);
    assert.deepEqual(lint(base({}, { group_by: undefined })), ['group_by route']);
    assert.deepEqual(lint(base({}, { group_by: [] })), ['group_by route.group_by']);
    assert.deepEqual(lint(base({}, { group_by: ['...'] })), []);
  });

  test('a pinned route may group by anything: all its alerts are one tenant\'s', () => {
    assert.deepEqual(lint(base({}, { routes: [{ match: { namespace: 'team-a' }, receiver: 'a', group_by: ['alertname'] }] })), []);
  });
});

describe('YAML with lines', () => {
  test('findings carry the line of the offending node; invalid YAML is an error with its line', () => {
    const text = [
      'route:',
      '  receiver: ops',
      '  group_by: [alertname, namespace]',
      '  routes:',
      '  - match: {service: db}',
      '    receiver: a',
      'inhibit_rules:',
      '- source_match: {severity: critical}',
      '  target_match: {severity: warning}',
      '  equal: [alertname]',
      'receivers: [{name: ops}, {name: a}]',
    ].join('\n');
    const r = lintAlertmanagerYaml(text, L);
    assert.ok(r.ok);
    assert.deepEqual(r.findings.map((f) => [f.kind, f.line]), [['inhibit_rule', 8], ['route', 5]]);
    const bad = lintAlertmanagerYaml('route:\n  receiver: [x\n', L);
    assert.ok(!bad.ok);
    assert.equal(typeof bad.error, 'string');
    assert.equal(lintAlertmanagerYaml('a: 1\na: 2\n', L).ok, false);
  });
});
