import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  alertmanagerFilterParams, checkSilenceOwnership, compileTenant, filterAlertsResponse, filterRulesResponse, PromqlResponseError,
} from '../../../src/enforce/promql/index.ts';

const tenant = compileTenant({ matchers: [{ label: 'namespace', values: ['a'] }] });
const multi = compileTenant({ matchers: [{ label: 'namespace', values: ['a', 'b'] }] });

function alert(labels: Record<string, string>, state: string) {
  return { labels, annotations: {}, state, activeAt: '2026-01-01T00:00:00Z', value: '1e+00' };
}

function rulesResponse() {
  return {
    status: 'success',
    data: {
      groups: [
        {
          name: 'tenant-a',
          file: '/etc/prometheus/rules/a.yml',
          interval: 30,
          rules: [
            { type: 'recording', name: 'a:up', query: 'sum(up{namespace="a"})', labels: {}, health: 'ok' },
            { type: 'recording', name: 'labelled', query: 'sum(up)', labels: { namespace: 'a' }, health: 'ok' },
            { type: 'alerting', name: 'APinned', query: 'rate(x{namespace="a", job="j"}[5m]) / rate(y{namespace="a"}[5m]) > 1', labels: {}, state: 'firing', alerts: [alert({ alertname: 'APinned' }, 'firing')], health: 'ok' },
          ],
        },
        {
          name: 'cluster',
          file: '/etc/prometheus/rules/cluster.yml',
          interval: 30,
          rules: [
            { type: 'recording', name: 'all:up', query: 'sum(up)', labels: {}, health: 'ok' },
            { type: 'recording', name: 'regex', query: 'sum(up{namespace=~"a"})', labels: {}, health: 'ok' },
            { type: 'recording', name: 'partly', query: 'up{namespace="a"} + on() group_left sum(up)', labels: {}, health: 'ok' },
            { type: 'recording', name: 'no-selectors', query: 'vector(1)', labels: {}, health: 'ok' },
            { type: 'recording', name: 'other', query: 'sum(up{namespace="b"})', labels: { namespace: 'b' }, health: 'ok' },
            {
              type: 'alerting', name: 'CrashLooping', query: 'increase(restarts_total[5m]) > 3', labels: { severity: 'warning' }, state: 'firing',
              alerts: [alert({ alertname: 'CrashLooping', namespace: 'b' }, 'firing'), alert({ alertname: 'CrashLooping', namespace: 'a' }, 'pending')],
              health: 'ok',
            },
            { type: 'weird', name: 'unknown type', query: 'up{namespace="a"}', labels: { namespace: 'a' } },
          ],
        },
      ],
    },
  };
}

function ruleNames(resp: unknown): string[] {
  const r = resp as { data: { groups: { rules: { name: string }[] }[] } };
  return r.data.groups.flatMap((g) => g.rules.map((x) => x.name));
}

describe('filterRulesResponse', () => {
  it('keeps rules pinned by labels or by every selector of the expression', () => {
    assert.deepEqual(ruleNames(filterRulesResponse(rulesResponse(), tenant)), ['a:up', 'labelled', 'APinned']);
  });
  it('drops groups left empty and does not modify its input', () => {
    const input = rulesResponse();
    const before = JSON.stringify(input);
    const out = filterRulesResponse(input, tenant) as { data: { groups: { name: string }[] } };
    assert.deepEqual(out.data.groups.map((g) => g.name), ['tenant-a']);
    assert.equal(JSON.stringify(input), before);
  });
  it('optionally shows an unpinned alerting rule with only the tenant alerts, state recomputed', () => {
    const out = filterRulesResponse(rulesResponse(), tenant, { includeRulesWithTenantAlerts: true }) as {
      data: { groups: { rules: { name: string; state?: string; alerts?: { labels: Record<string, string> }[] }[] }[] };
    };
    const crash = out.data.groups[1]!.rules.find((r) => r.name === 'CrashLooping')!;
    assert.deepEqual(crash.alerts!.map((a) => a.labels.namespace), ['a']);
    assert.equal(crash.state, 'pending');
    assert.deepEqual(ruleNames(out), ['a:up', 'labelled', 'APinned', 'CrashLooping']);
  });
  it('several tenant values: either value pins', () => {
    assert.deepEqual(ruleNames(filterRulesResponse(rulesResponse(), multi)), ['a:up', 'labelled', 'APinned', 'other']);
  });
  it('passes an error response through and refuses malformed ones', () => {
    const err = { status: 'error', errorType: 'internal', error: 'boom' };
    assert.equal(filterRulesResponse(err, tenant), err);
    for (const bad of [null, [], { status: 'success' }, { status: 'success', data: { groups: {} } }, { status: 'success', data: { groups: [{ rules: 1 }] } }, { status: 'weird', data: {} }]) {
      assert.throws(() => filterRulesResponse(bad, tenant), PromqlResponseError, JSON.stringify(bad));
    }
  });
});

describe('filterAlertsResponse', () => {
  it('keeps only alerts whose labels carry a tenant value', () => {
    const resp = {
      status: 'success',
      data: {
        alerts: [
          alert({ alertname: 'X', namespace: 'a' }, 'firing'),
          alert({ alertname: 'Y', namespace: 'b' }, 'firing'),
          alert({ alertname: 'Z' }, 'firing'),
          alert({ alertname: 'W', namespace: 'ab' }, 'pending'),
          { labels: null },
          'garbage',
        ],
      },
    };
    const out = filterAlertsResponse(resp, tenant) as { data: { alerts: { labels: Record<string, string> }[] } };
    assert.deepEqual(out.data.alerts.map((a) => a.labels.alertname), ['X']);
    const outMulti = filterAlertsResponse(resp, multi) as { data: { alerts: { labels: Record<string, string> }[] } };
    assert.deepEqual(outMulti.data.alerts.map((a) => a.labels.alertname), ['X', 'Y']);
  });
  it('does not trust inherited properties', () => {
    const labels = Object.create({ namespace: 'a' }) as Record<string, string>;
    const out = filterAlertsResponse({ status: 'success', data: { alerts: [{ labels }] } }, tenant) as { data: { alerts: unknown[] } };
    assert.equal(out.data.alerts.length, 0);
  });
  it('refuses a malformed response', () => {
    assert.throws(() => filterAlertsResponse({ status: 'success', data: {} }, tenant), PromqlResponseError);
  });
});

describe('alertmanagerFilterParams', () => {
  it('one equality matcher per single-value label, an escaped regex for several values', () => {
    assert.deepEqual(alertmanagerFilterParams(tenant), ['namespace="a"']);
    const t = compileTenant({ matchers: [{ label: 'cluster', values: ['eu'] }, { label: 'namespace', values: ['a.b', 'c"d'] }] });
    assert.deepEqual(alertmanagerFilterParams(t), ['cluster="eu"', 'namespace=~"a\\\\.b|c\\"d"']);
  });
  it('escapes quotes, backslashes and newlines; refuses other control characters', () => {
    assert.deepEqual(alertmanagerFilterParams(compileTenant({ matchers: [{ label: 'ns', values: ['a"b\\c\nd'] }] })), ['ns="a\\"b\\\\c\\nd"']);
    assert.throws(() => alertmanagerFilterParams(compileTenant({ matchers: [{ label: 'ns', values: ['a\tb'] }] })));
  });
});

describe('checkSilenceOwnership', () => {
  const m = (name: string, value: string, isRegex = false, isEqual?: boolean) => ({ name, value, isRegex, ...(isEqual === undefined ? {} : { isEqual }) });
  it('owned with a positive equality matcher on the tenant label', () => {
    assert.equal(checkSilenceOwnership({ matchers: [m('alertname', 'X'), m('namespace', 'a')] }, tenant).owned, true);
    assert.equal(checkSilenceOwnership({ matchers: [m('namespace', 'a', false, true)] }, tenant).owned, true);
    assert.equal(checkSilenceOwnership({ matchers: [m('namespace', 'b')] }, multi).owned, true);
  });
  it('owned with a single-value regex that is exactly the tenant value', () => {
    assert.equal(checkSilenceOwnership({ matchers: [m('namespace', 'a', true)] }, tenant).owned, true);
    const dotted = compileTenant({ matchers: [{ label: 'namespace', values: ['team.a'] }] });
    assert.equal(checkSilenceOwnership({ matchers: [m('namespace', 'team\\.a', true)] }, dotted).owned, true);
    // Its twin: an unescaped dot matches more than the literal.
    assert.equal(checkSilenceOwnership({ matchers: [m('namespace', 'team.a', true)] }, dotted).owned, false);
  });
  const notOwned: [string, unknown][] = [
    ['regex with alternatives', { matchers: [m('namespace', 'a|b', true)] }],
    ['regex matching more than the value', { matchers: [m('namespace', 'a.*', true)] }],
    ['regex with an escape class', { matchers: [m('namespace', '\\w', true)] }],
    ['regex flags', { matchers: [m('namespace', '(?i)a', true)] }],
    ['two tenants (own value and another)', { matchers: [m('namespace', 'a'), m('namespace', 'b')] }],
    ['own value twice', { matchers: [m('namespace', 'a'), m('namespace', 'a')] }],
    ['own value and a negative matcher on the label', { matchers: [m('namespace', 'a'), m('namespace', 'b', false, false)] }],
    ['isRegex not a boolean', { matchers: [{ name: 'namespace', value: 'a', isRegex: 'false' }] }],
    ['a matcher that is not an object', { matchers: [m('namespace', 'a'), 'x'] }],
    ['negative matcher', { matchers: [m('namespace', 'a', false, false)] }],
    ['other tenant value', { matchers: [m('namespace', 'b')] }],
    ['no tenant matcher', { matchers: [m('alertname', 'X')] }],
    ['empty matchers', { matchers: [] }],
    ['no matchers', {}],
    ['isRegex missing', { matchers: [{ name: 'namespace', value: 'a' }] }],
    ['not an object', 'silence'],
    ['label name differs in case', { matchers: [m('Namespace', 'a')] }],
  ];
  for (const [name, silence] of notOwned) {
    it(`not owned: ${name}`, () => {
      const r = checkSilenceOwnership(silence, tenant);
      assert.equal(r.owned, false);
      assert.notEqual(r.reason, '');
    });
  }
  it('needs every tenant label', () => {
    const t = compileTenant({ matchers: [{ label: 'cluster', values: ['eu'] }, { label: 'namespace', values: ['a'] }] });
    assert.equal(checkSilenceOwnership({ matchers: [m('namespace', 'a')] }, t).owned, false);
    assert.equal(checkSilenceOwnership({ matchers: [m('namespace', 'a'), m('cluster', 'eu')] }, t).owned, true);
  });
  it('a tenant with several values: one of them, once', () => {
    assert.equal(checkSilenceOwnership({ matchers: [m('namespace', 'a')] }, multi).owned, true);
    assert.equal(checkSilenceOwnership({ matchers: [m('namespace', 'a'), m('namespace', 'b')] }, multi).owned, false);
    assert.equal(checkSilenceOwnership({ matchers: [m('namespace', 'a|b', true)] }, multi).owned, false);
  });
  it('the reason names the rule that failed', () => {
    assert.match(checkSilenceOwnership({ matchers: [m('namespace', 'a'), m('namespace', 'b')] }, tenant).reason, /2 matchers on the tenant label namespace; exactly one is allowed: namespace="a"/);
    assert.match(checkSilenceOwnership({ matchers: [m('namespace', 'a', false, false)] }, tenant).reason, /must be an equality/);
    assert.match(checkSilenceOwnership({ matchers: [m('namespace', '.*', true)] }, tenant).reason, /regex matcher on namespace must be exactly/);
  });
});
