// What each generated artefact is checked for before it is written (the refusals of promtool,
// vmalert, vmagent and amtool, reproduced per object), and the per-object report.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkAlertmanagerConfig } from '../../../src/isolate/alertmanager-validate.ts';
import { compile } from '../../../src/isolate/compile.ts';
import { IsolationError } from '../../../src/isolate/errors.ts';
import { checkGoTemplate, PROMETHEUS_TEMPLATE_FUNCS, TemplateError, VMALERT_TEMPLATE_FUNCS } from '../../../src/isolate/go-template.ts';
import { makeOptions } from '../../../src/isolate/options.ts';
import { normaliseRelabel } from '../../../src/isolate/relabel.ts';

const vmOpts = makeOptions({ label: 'tenant' });
const poOpts = makeOptions({ label: 'tenant', flavor: 'prometheus-operator' });

describe('Go templates', () => {
  const ok = ['{{ $labels.instance }} is down', '{{ if gt $value 1.0 }}high{{ else }}low{{ end }}', '{{ range $i, $e := .Labels }}{{ $i }}{{ end }}', '{{ printf "%.2f}}" $value }}', '{{/* note */}}x', '{{- humanize $value -}}', 'no template at all', '{{ with $labels.pod }}{{ . }}{{ end }}'];
  for (const t of ok) it(`accepts ${JSON.stringify(t)}`, () => checkGoTemplate(t, PROMETHEUS_TEMPLATE_FUNCS));
  const bad: [string, RegExp][] = [['{{ .Foo ', /unclosed action/], ['{{ if 1 }}x', /not closed by \{\{end\}\}/], ['x{{ end }}', /unexpected \{\{end\}\}/], ['{{ nosuchfn 1 }}', /function "nosuchfn" not defined/], ['{{ (humanize $value }}', /unclosed left paren/], ['{{ printf "x }}', /unterminated/], ['{{}}', /missing value/]];
  for (const [t, re] of bad) it(`refuses ${JSON.stringify(t)}`, () => assert.throws(() => checkGoTemplate(t, PROMETHEUS_TEMPLATE_FUNCS), (e: TemplateError) => re.test(e.message)));
  it('function sets differ between Prometheus and vmalert', () => {
    assert.doesNotThrow(() => checkGoTemplate('{{ $value | toTime }}', PROMETHEUS_TEMPLATE_FUNCS));
    assert.throws(() => checkGoTemplate('{{ $value | toTime }}', VMALERT_TEMPLATE_FUNCS), /toTime/);
    assert.doesNotThrow(() => checkGoTemplate('{{ $labels.x | jsonEscape }}', VMALERT_TEMPLATE_FUNCS));
    assert.throws(() => checkGoTemplate('{{ $labels.x | jsonEscape }}', PROMETHEUS_TEMPLATE_FUNCS), /jsonEscape/);
  });
});

function ruleObject(rule: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return JSON.stringify({ apiVersion: 'operator.victoriametrics.com/v1beta1', kind: 'VMRule', metadata: { name: 'r', namespace: 'team-a' }, spec: { groups: [{ name: 'g', ...extra, rules: [rule] }] } });
}
function ruleError(rule: Record<string, unknown>, extra: Record<string, unknown> = {}, opts = vmOpts): IsolationError | undefined {
  return compile([{ name: 'x.yaml', text: ruleObject(rule, extra) }], opts).errors[0];
}

describe('rule groups are checked as promtool / vmalert load them', () => {
  it('valid rules pass', () => assert.equal(ruleError({ alert: 'A', expr: 'up == 0', for: '5m', annotations: { s: '{{ $labels.job }}' } }), undefined));
  const cases: [string, Record<string, unknown>, Record<string, unknown>, RegExp][] = [
    ['recording rule name', { record: 'a b', expr: 'up' }, {}, /rules\[0\]\.record: "a b" is not a valid metric name/],
    ['for on a recording rule', { record: 'ab', expr: 'up', for: '5m' }, {}, /rules\[0\]\.for: is not allowed on a recording rule/],
    ['duration syntax', { alert: 'A', expr: 'up', for: '5m1h' }, {}, /rules\[0\]\.for: "5m1h" is not a duration/],
    ['group interval', { alert: 'A', expr: 'up' }, { interval: '1 minute' }, /groups\[0\]\.interval/],
    ['annotation template', { alert: 'A', expr: 'up', annotations: { s: '{{ .Foo ' } }, {}, /annotations\.s: template does not parse: unclosed action/],
    ['label template', { alert: 'A', expr: 'up', labels: { s: '{{ nosuch }}' } }, {}, /labels\.s: template does not parse: function "nosuch"/],
    ['annotation name', { alert: 'A', expr: 'up', annotations: { 'a-b': 'x' } }, {}, /annotations\.a-b: is not a valid label name/],
  ];
  for (const [name, rule, extra, re] of cases) it(`refuses: ${name}`, () => assert.match(ruleError(rule, extra)?.message ?? 'accepted', re));
  it('refuses duplicate rules in one group', () => {
    const text = JSON.stringify({ apiVersion: 'operator.victoriametrics.com/v1beta1', kind: 'VMRule', metadata: { name: 'r', namespace: 'team-a' }, spec: { groups: [{ name: 'g', rules: [{ alert: 'A', expr: 'up' }, { alert: 'A', expr: 'up' }] }] } });
    assert.match(compile([{ name: 'x', text }], vmOpts).errors[0]!.message, /rules\[1\]: duplicates an earlier rule/);
  });
});

describe('relabel rules are checked as Prometheus / vmagent load them', () => {
  const bad = (r: Record<string, unknown>, flavor: 'victoriametrics' | 'prometheus-operator', re: RegExp) => assert.throws(() => normaliseRelabel(r, 'f', flavor), (e: IsolationError) => re.test(e.message));
  it('replace needs a target label; Prometheus wants a valid one', () => {
    bad({ replacement: 'x' }, 'victoriametrics', /needs targetLabel/);
    bad({ targetLabel: 'a-b' }, 'prometheus-operator', /not a valid target label/);
    assert.doesNotThrow(() => normaliseRelabel({ targetLabel: '${1}_x', regex: '(.*)' }, 'f', 'prometheus-operator'));
  });
  it('hashmod needs a modulus; regexes must compile; keep/drop need source labels for vmagent', () => {
    bad({ action: 'hashmod', targetLabel: 'h' }, 'victoriametrics', /non-zero modulus/);
    bad({ action: 'keep', sourceLabels: ['a'], regex: '(' }, 'victoriametrics', /invalid regex/);
    bad({ action: 'keep' }, 'victoriametrics', /needs sourceLabels/);
    assert.doesNotThrow(() => normaliseRelabel({ action: 'keep' }, 'f', 'prometheus-operator'));
  });
  it('Prometheus: labeldrop takes only regex, labelmap needs a label-name template', () => {
    bad({ action: 'labeldrop', regex: 'x', sourceLabels: ['a'] }, 'prometheus-operator', /takes only regex/);
    bad({ action: 'labelmap', regex: '(.*)', replacement: 'a-$1' }, 'prometheus-operator', /not a valid label name template/);
  });
  it('endpoint settings of the wrong type or value are refused with the CRD field', () => {
    const err = (ep: Record<string, unknown>) => compile([{ name: 'x', text: JSON.stringify({ apiVersion: 'operator.victoriametrics.com/v1beta1', kind: 'VMStaticScrape', metadata: { name: 's', namespace: 'team-a' }, spec: { targetEndpoints: [{ targets: ['a:1'], ...ep }] } }) }], vmOpts).errors[0]?.message ?? 'accepted';
    assert.match(err({ scheme: 'ftp' }), /targetEndpoints\[0\]\.scheme: must be http or https/);
    assert.match(err({ sampleLimit: -1 }), /sampleLimit: must be a non-negative integer/);
    assert.match(err({ followRedirects: 'yes' }), /followRedirects: must be true or false/);
    assert.match(err({ proxyURL: 'file:///etc/passwd' }), /proxyURL: must be an http, https or socks5 URL/);
    assert.equal(err({ scheme: 'HTTPS', sampleLimit: 1000, proxyURL: 'http://proxy:3128' }), 'accepted');
  });
  it('scrape timeout longer than the interval is refused with the CRD field', () => {
    const text = JSON.stringify({ apiVersion: 'operator.victoriametrics.com/v1beta1', kind: 'VMStaticScrape', metadata: { name: 's', namespace: 'team-a' }, spec: { targetEndpoints: [{ targets: ['a:1'], interval: '10s', scrapeTimeout: '20s' }] } });
    assert.match(compile([{ name: 'x', text }], vmOpts).errors[0]!.message, /targetEndpoints\[0\]\.scrapeTimeout: 20s is longer than the scrape interval 10s/);
  });
});

describe('Alertmanager objects: label names, durations, time intervals', () => {
  const amError = (spec: Record<string, unknown>) => compile([{ name: 'x', text: JSON.stringify({ apiVersion: 'operator.victoriametrics.com/v1beta1', kind: 'VMAlertmanagerConfig', metadata: { name: 'a', namespace: 'team-a' }, spec }) }], vmOpts).errors[0]?.message ?? 'accepted';
  const recv = { receivers: [{ name: 'r' }] };
  it('inhibit equal entries must be label names', () => assert.match(amError({ ...recv, inhibit_rules: [{ equal: ['alertname', 'a-b'] }] }), /inhibit_rules\[0\]\.equal\[1\]: "a-b" is not a valid label name/));
  it('group_by entries must be label names (or ...)', () => {
    assert.match(amError({ ...recv, route: { receiver: 'r', group_by: ['a.b'] } }), /group_by\[0\]/);
    assert.equal(amError({ ...recv, route: { receiver: 'r', group_by: ['...'] } }), 'accepted');
  });
  it('durations: Alertmanager syntax, group/repeat intervals non-zero', () => {
    assert.match(amError({ ...recv, route: { receiver: 'r', group_wait: '5m1h' } }), /group_wait: "5m1h" is not an Alertmanager duration/);
    assert.match(amError({ ...recv, route: { receiver: 'r', group_interval: '0s' } }), /group_interval: cannot be zero/);
  });
  it('time intervals: times, weekdays, months, days, location', () => {
    const ti = (x: Record<string, unknown>) => amError({ ...recv, time_intervals: [{ name: 't', time_intervals: [x] }] });
    assert.equal(ti({ times: [{ start_time: '09:00', end_time: '17:00' }], weekdays: ['monday:friday'], months: ['january', '3'], days_of_month: ['1:7', '-1'], location: 'Europe/Berlin' }), 'accepted');
    assert.match(ti({ times: [{ start_time: '25:00', end_time: '26:00' }] }), /start_time/);
    assert.match(ti({ weekdays: ['funday'] }), /weekdays\[0\]/);
    assert.match(ti({ location: 'Mars/Base' }), /unknown time zone/);
    assert.match(ti({ days_of_month: ['0'] }), /day 0/);
  });
  it('the final check of the merged file catches a broken base configuration', () => {
    assert.throws(() => checkAlertmanagerConfig({ route: { receiver: 'r', group_by: ['a-b'] }, receivers: [{ name: 'r' }] }), (e: IsolationError) => e.code === 'ERR_ISOLATE_OUTPUT' && /route\.group_by\[0\]/.test(e.message));
    assert.throws(() => checkAlertmanagerConfig({ route: { receiver: 'missing' }, receivers: [{ name: 'r' }] }), /receiver "missing" does not exist/);
    assert.doesNotThrow(() => checkAlertmanagerConfig({ route: { receiver: 'r', routes: [{ matchers: ['a="b"'], receiver: 'r' }] }, receivers: [{ name: 'r', webhook_configs: [{ url: 'http://x/' }] }] }));
  });
});

describe('the per-object report', () => {
  it('lists each object as compiled, changed (with paths, no values) or refused (with every reason)', () => {
    const text = [
      { apiVersion: 'operator.victoriametrics.com/v1beta1', kind: 'VMRule', metadata: { name: 'ok', namespace: 'team-a' }, spec: { groups: [{ name: 'g', rules: [{ record: 'a', expr: 'up{tenant="team-a"}', labels: { tenant: 'team-a' } }], params: { extra_label: ['tenant=team-a'] } }] } },
      { apiVersion: 'operator.victoriametrics.com/v1beta1', kind: 'VMRule', metadata: { name: 'changed', namespace: 'team-a' }, spec: { groups: [{ name: 'g', rules: [{ record: 'a', expr: 'up' }] }] } },
      { apiVersion: 'operator.victoriametrics.com/v1beta1', kind: 'VMRule', metadata: { name: 'bad', namespace: 'team-a' }, spec: { groups: [{ name: 'g', rules: [{ record: 'a b', expr: 'up' }] }] } },
    ].map((o) => JSON.stringify(o)).join('\n---\n');
    const r = compile([{ name: 'x.yaml', text }], vmOpts);
    assert.deepEqual(r.report.summary, { objects: 3, compiled: 1, changed: 1, refused: 1 });
    const [ok, changed, bad] = r.report.objects;
    assert.deepEqual([ok!.status, ok!.changes], ['compiled', []]);
    assert.deepEqual(changed!.changes, [{ op: 'replace', path: '/spec/groups/0/rules/0/expr' }, { op: 'add', path: '/spec/groups/0/rules/0/labels' }, { op: 'add', path: '/spec/groups/0/params' }]);
    assert.deepEqual({ ...bad!, changes: undefined }, {
      kind: 'VMRule', namespace: 'team-a', name: 'bad', source: { file: 'x.yaml', doc: 2, line: 5 }, status: 'refused', changes: undefined, warnings: [],
      errors: [{ code: 'ERR_ISOLATE_OBJECT', field: 'spec.groups[0].rules[0].record', reason: '"a b" is not a valid metric name' }],
    });
    assert.equal(r.report.policy, null);
    assert.equal(r.report.flavor, 'victoriametrics');
  });
  it('an empty input gives an empty report', () => {
    const r = compile([], poOpts);
    assert.deepEqual(r.report.summary, { objects: 0, compiled: 0, changed: 0, refused: 0 });
  });
});
