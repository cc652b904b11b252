// One bad object fails alone, provably: many teams' objects in both operator dialects (every
// integration that compiles offline, CRD spellings included) merged with a few broken ones. The
// real amtool, promtool, vmalert and vmagent accept what tenantgate writes; the broken objects are
// reported and left out; and each broken fragment, put into the same files the way an operator
// copies it, makes the same tool refuse the whole file — so the per-object checks are what keep
// every other team's alerting alive.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { YAML_OUT } from '../../src/isolate/cli.ts';
import { compile, type CompileResult } from '../../src/isolate/compile.ts';
import { makeOptions, type Flavor } from '../../src/isolate/options.ts';
import { tempDir } from '../helpers/processes.ts';

type O = Record<string, unknown>;

function run(cmd: string, args: string[]): { code: number | null; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

const dir = tempDir('tenantgate-one-bad-');
after(() => dir.remove());
function write(name: string, v: unknown): string {
  const p = join(dir.path, name);
  writeFileSync(p, stringify(v, YAML_OUT));
  return p;
}

const BASE_AM: O = {
  global: { slack_api_url: 'https://hooks.slack.example/T0/B0/x', opsgenie_api_key: 'og', victorops_api_key: 'vo', wechat_api_secret: 'wc', wechat_api_corp_id: 'corp', smtp_smarthost: 'mail.example.com:25', smtp_from: 'am@example.com' },
  route: { receiver: 'ops', group_by: ['alertname'], routes: [{ receiver: 'ops', matchers: ['severity="page"'] }] },
  receivers: [{ name: 'ops', webhook_configs: [{ url: 'https://ops.example.com/hook' }] }],
};

/** One receiver per integration that compiles offline, written in each CRD's own spelling. */
const VM_RECEIVERS: O[] = [
  { webhook_configs: [{ url: 'https://hooks.example.com/a', send_resolved: true, max_alerts: 10, http_config: { tls_config: { insecureSkipVerify: true, serverName: 'hooks' }, proxyURL: 'http://proxy.example.com:3128/' } }] },
  { email_configs: [{ to: 'team@example.com', headers: { Subject: '[{{ .Status }}] {{ .CommonLabels.alertname }}' }, require_tls: true, tls_config: { insecureSkipVerify: false } }] },
  { slack_configs: [{ channel: '#alerts', title: '{{ .CommonLabels.alertname }}', fields: [{ title: 'sev', value: '{{ .CommonLabels.severity }}', short: true }], actions: [{ type: 'button', text: 'Runbook', url: 'https://runbooks.example.com/' }] }] },
  { opsgenie_configs: [{ apiURL: 'https://api.eu.opsgenie.com/', message: 'm', details: { team: 'x' }, responders: [{ type: 'team', name: 'ops' }], priority: 'P2' }] },
  { victorops_configs: [{ routing_key: 'team', entity_display_name: 'e', custom_fields: { owner: 'x' } }] },
  { wechat_configs: [{ to_user: 'u', agent_id: '1', message_type: 'markdown' }] },
  { sns_configs: [{ topic_arn: 'arn:aws:sns:eu-west-1:123:alerts', sigv4: { region: 'eu-west-1' }, attributes: { team: 'x' } }] },
  { discord_configs: [{ webhook_url: 'https://discord.com/api/webhooks/1/x', title: 't' }] },
];
const PO_RECEIVERS: O[] = [
  { webhookConfigs: [{ url: 'https://hooks.example.com/a', sendResolved: true, maxAlerts: 10, httpConfig: { tlsConfig: { insecureSkipVerify: true, serverName: 'hooks' }, proxyURL: 'http://proxy.example.com:3128/', followRedirects: true } }] },
  { emailConfigs: [{ to: 'team@example.com', headers: [{ key: 'Subject', value: '[{{ .Status }}]' }], requireTLS: true }] },
  { slackConfigs: [{ channel: '#alerts', titleLink: 'https://grafana.example.com/', shortFields: true, actions: [{ type: 'button', text: 'ack', url: 'https://ack.example.com/', confirm: { text: 'sure?', okText: 'yes', dismissText: 'no' } }] }] },
  { opsgenieConfigs: [{ apiURL: 'https://api.eu.opsgenie.com/', details: [{ key: 'team', value: 'x' }], responders: [{ type: 'team', name: 'ops' }], updateAlerts: true }] },
  { victoropsConfigs: [{ routingKey: 'team', apiUrl: 'https://alert.victorops.com/integrations/generic/x/', customFields: [{ key: 'owner', value: 'x' }] }] },
  { wechatConfigs: [{ toUser: 'u', agentID: '1', corpID: 'corp', messageType: 'text' }] },
  { snsConfigs: [{ topicARN: 'arn:aws:sns:eu-west-1:123:alerts', sigv4: { region: 'eu-west-1', roleArn: 'arn:aws:iam::123:role/x' }, subject: 's' }] },
];

function teams(flavor: Flavor): { good: O[]; bad: O[]; badRefs: string[] } {
  const vm = flavor === 'victoriametrics';
  const rv = vm ? VM_RECEIVERS : PO_RECEIVERS;
  const good: O[] = [];
  for (let i = 0; i < 12; i++) {
    const ns = `team-${String(i + 1).padStart(2, '0')}`;
    const meta = (name: string) => ({ name, namespace: ns });
    good.push(vm
      ? { apiVersion: 'operator.victoriametrics.com/v1beta1', kind: 'VMServiceScrape', metadata: meta('api'), spec: { selector: { matchLabels: { app: 'api' } }, endpoints: [{ port: 'http', interval: '30s', scrapeTimeout: '10s', attach_metadata: { node: true }, relabelConfigs: [{ sourceLabels: ['__meta_kubernetes_pod_label_version'], targetLabel: 'version' }] }] } }
      : { apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', metadata: meta('api'), spec: { selector: { matchLabels: { app: 'api' } }, endpoints: [{ port: 'http', interval: '30s', scrapeTimeout: '10s', relabelings: [{ sourceLabels: ['__meta_kubernetes_pod_label_version'], targetLabel: 'version' }] }] } });
    good.push({
      apiVersion: vm ? 'operator.victoriametrics.com/v1beta1' : 'monitoring.coreos.com/v1', kind: vm ? 'VMRule' : 'PrometheusRule', metadata: meta('alerts'),
      spec: { groups: [{ name: 'api', interval: '1m', rules: [
        { record: 'job:http_requests:rate5m', expr: 'sum by (job) (rate(http_requests_total[5m]))' },
        { alert: 'ApiDown', expr: 'up{job="api"} == 0', for: '5m', labels: { severity: 'critical' }, annotations: { summary: '{{ $labels.instance }} of {{ $labels.job }} is down', value: '{{ humanize $value }}' } },
      ] }] },
    });
    const receiver = { name: 'team', ...rv[i % rv.length] };
    good.push(vm
      ? { apiVersion: 'operator.victoriametrics.com/v1beta1', kind: 'VMAlertmanagerConfig', metadata: meta('routing'), spec: { route: { receiver: 'team', group_by: ['alertname', 'job'], group_interval: '5m', routes: [{ receiver: 'team', matchers: ['severity="critical"'], repeat_interval: '1h' }] }, receivers: [receiver], inhibit_rules: [{ source_matchers: ['severity="critical"'], target_matchers: ['severity="warning"'], equal: ['alertname', 'instance'] }], time_intervals: [{ name: 'office', time_intervals: [{ times: [{ start_time: '09:00', end_time: '17:00' }], weekdays: ['monday:friday'], location: 'Europe/Berlin' }] }] } }
      : { apiVersion: 'monitoring.coreos.com/v1alpha1', kind: 'AlertmanagerConfig', metadata: meta('routing'), spec: { route: { receiver: 'team', groupBy: ['alertname', 'job'], groupInterval: '5m', routes: [{ receiver: 'team', matchers: [{ name: 'severity', value: 'critical', matchType: '=' }], repeatInterval: '1h' }] }, receivers: [receiver], inhibitRules: [{ sourceMatch: [{ name: 'severity', value: 'critical' }], targetMatch: [{ name: 'severity', value: 'warning' }], equal: ['alertname', 'instance'] }], muteTimeIntervals: [{ name: 'office', timeIntervals: [{ times: [{ startTime: '09:00', endTime: '17:00' }], weekdays: ['monday:friday'] }] }] } });
  }
  const badMeta = (name: string) => ({ name, namespace: 'team-bad' });
  const amKind = vm ? { apiVersion: 'operator.victoriametrics.com/v1beta1', kind: 'VMAlertmanagerConfig' } : { apiVersion: 'monitoring.coreos.com/v1alpha1', kind: 'AlertmanagerConfig' };
  const bad: O[] = [
    { ...amKind, metadata: badMeta('bad-equal'), spec: { receivers: [{ name: 'r' }], [vm ? 'inhibit_rules' : 'inhibitRules']: [{ equal: ['alert-name'] }] } },
    { ...amKind, metadata: badMeta('bad-url'), spec: { receivers: [{ name: 'r', [vm ? 'webhook_configs' : 'webhookConfigs']: [{ url: 'ftp://files.example.com/x' }] }] } },
    { ...amKind, metadata: badMeta('bad-field'), spec: { receivers: [{ name: 'r', [vm ? 'slack_configs' : 'slackConfigs']: [{ channel: '#x', timeout: '5s' }] }] } },
    { ...amKind, metadata: badMeta('bad-duration'), spec: { route: { receiver: 'r', [vm ? 'group_wait' : 'groupWait']: '5m1h' }, receivers: [{ name: 'r' }] } },
    {
      apiVersion: vm ? 'operator.victoriametrics.com/v1beta1' : 'monitoring.coreos.com/v1', kind: vm ? 'VMRule' : 'PrometheusRule', metadata: badMeta('bad-template'),
      spec: { groups: [{ name: 'g', rules: [{ alert: 'X', expr: 'up == 0', annotations: { summary: '{{ $labels.instance ' } }] }] },
    },
    vm
      ? { apiVersion: 'operator.victoriametrics.com/v1beta1', kind: 'VMStaticScrape', metadata: badMeta('bad-regex'), spec: { targetEndpoints: [{ targets: ['a:1'], relabelConfigs: [{ sourceLabels: ['a'], regex: '(', action: 'keep' }] }] } }
      : { apiVersion: 'monitoring.coreos.com/v1', kind: 'PodMonitor', metadata: badMeta('bad-regex'), spec: { podMetricsEndpoints: [{ port: 'm', relabelings: [{ sourceLabels: ['a'], regex: '(', action: 'keep' }] }] } },
  ];
  return { good, bad, badRefs: bad.map((o) => `${String(o.kind)} team-bad/${String((o.metadata as O).name)}`) };
}

for (const flavor of ['victoriametrics', 'prometheus-operator'] as Flavor[]) {
  describe(`many teams plus broken objects, ${flavor} flavour`, () => {
    const opts = makeOptions({ label: 'tenant', flavor });
    const { good, bad, badRefs } = teams(flavor);
    let r: CompileResult;
    let am: string;
    let rules: string;
    let scrape: string;
    before(() => {
      // Broken objects interleaved with good ones.
      const all = [...good.slice(0, 18), ...bad, ...good.slice(18)];
      r = compile([{ name: 'teams.yaml', text: all.map((o) => JSON.stringify(o)).join('\n---\n') }], opts, { alertmanager: BASE_AM });
      am = write(`${flavor}-am.yml`, r.alertmanager);
      rules = write(`${flavor}-rules.yml`, r.rules);
      scrape = write(`${flavor}-scrape.yml`, r.scrapeConfig);
    });

    it('reports exactly the broken objects and compiles every other one', () => {
      assert.deepEqual([...new Set(r.errors.map((e) => e.objectRef))].sort(), [...badRefs].sort());
      assert.deepEqual(r.counts, { scrape: 12, rules: 12, alertmanager: 12 });
      assert.deepEqual(r.report.summary, { objects: good.length + bad.length, compiled: 0, changed: good.length, refused: bad.length });
      const why = Object.fromEntries(r.report.objects.filter((o) => o.status === 'refused').map((o) => [o.name, o.errors.map((e) => `${e.field}: ${e.reason}`).join('; ')]));
      assert.match(why['bad-equal']!, /equal\[0\]: "alert-name" is not a valid label name/);
      assert.match(why['bad-url']!, /url: unsupported scheme "ftp"/);
      assert.match(why['bad-field']!, /slack_configs\[0\]\.timeout: is not a field of slack_configs in Alertmanager 0\.25/);
      assert.match(why['bad-duration']!, /5m1h/);
      assert.match(why['bad-template']!, /annotations\.summary: template does not parse/);
      assert.match(why['bad-regex']!, /regex: invalid regex/);
    });

    it('amtool check-config accepts the merged Alertmanager configuration with every team\'s receiver', () => {
      const res = run('amtool', ['check-config', am]);
      assert.equal(res.code, 0, res.out);
      assert.match(res.out, /SUCCESS/);
      const names = (r.alertmanager.receivers as O[]).map((x) => x.name);
      for (let i = 1; i <= 12; i++) assert.ok(names.includes(`team-${String(i).padStart(2, '0')}/routing/team`));
      assert.ok(!names.some((n) => String(n).startsWith('team-bad/')));
    });

    it('vmalert -dryRun accepts the rule file', () => {
      const res = run('vmalert', ['-dryRun', `-rule=${rules}`, '-datasource.url=http://127.0.0.1:1', '-loggerLevel=ERROR']);
      assert.equal(res.code, 0, res.out);
    });

    if (flavor === 'prometheus-operator') {
      it('promtool check rules accepts the rule file', () => {
        const res = run('promtool', ['check', 'rules', rules]);
        assert.equal(res.code, 0, res.out);
        assert.match(res.out, /SUCCESS: 24 rules found/);
      });
    }

    it('vmagent -promscrape.config.dryRun accepts the scrape configuration', () => {
      const res = run('vmagent', [`-promscrape.config=${scrape}`, '-promscrape.config.dryRun', '-loggerLevel=ERROR']);
      assert.equal(res.code, 0, res.out);
    });

    it('each broken fragment, copied in as an operator would, makes the real tool refuse the whole file', () => {
      const vm = flavor === 'victoriametrics';
      const withAm = (patch: (c: O) => void) => { const c = structuredClone(r.alertmanager); patch(c); return run('amtool', ['check-config', write(`${flavor}-am-broken.yml`, c)]); };
      const equal = withAm((c) => { (c.inhibit_rules as O[]).push({ equal: ['alert-name'] }); });
      assert.notEqual(equal.code, 0); assert.match(equal.out, /not a valid label name/);
      const url = withAm((c) => { (c.receivers as O[]).push({ name: 'team-bad/bad-url/r', webhook_configs: [{ url: 'ftp://files.example.com/x' }] }); });
      assert.notEqual(url.code, 0); assert.match(url.out, /unsupported scheme/);
      const field = withAm((c) => { (c.receivers as O[]).push({ name: 'team-bad/bad-field/r', slack_configs: [{ channel: '#x', timeout: '5s' }] }); });
      assert.notEqual(field.code, 0); assert.match(field.out, /field timeout not found/);
      // The issue that started this: the CRD's spelling copied as is.
      const spelled = withAm((c) => { (c.receivers as O[]).push({ name: 'team-bad/x/r', opsgenie_configs: [{ apiURL: 'https://api.opsgenie.com/' }] }); });
      assert.notEqual(spelled.code, 0); assert.match(spelled.out, /field apiURL not found/);
      const duration = withAm((c) => { ((c.route as O).routes as O[]).push({ receiver: 'ops', group_wait: '5m1h' }); });
      assert.notEqual(duration.code, 0);

      const groups = structuredClone(r.rules.groups as O[]);
      groups.push({ name: 'team-bad/bad-template/g', rules: [{ alert: 'X', expr: 'up{tenant="team-bad"} == 0', annotations: { summary: '{{ $labels.instance ' } }] });
      const brokenRules = write(`${flavor}-rules-broken.yml`, { groups });
      assert.notEqual(run('vmalert', ['-dryRun', `-rule=${brokenRules}`, '-datasource.url=http://127.0.0.1:1', '-loggerLevel=ERROR']).code, 0);
      if (!vm) assert.notEqual(run('promtool', ['check', 'rules', brokenRules]).code, 0);

      const jobs = structuredClone(r.scrapeConfig.scrape_configs as O[]);
      jobs.push({ job_name: 'bad', static_configs: [{ targets: ['a:1'] }], relabel_configs: [{ source_labels: ['a'], regex: '(', action: 'keep' }] });
      assert.notEqual(run('vmagent', [`-promscrape.config=${write(`${flavor}-scrape-broken.yml`, { ...r.scrapeConfig, scrape_configs: jobs })}`, '-promscrape.config.dryRun', '-loggerLevel=ERROR']).code, 0);
    });
  });
}

describe('tenantgate isolate --policy --report (the CLI)', () => {
  it('refuses policy violations per object, writes the rest and a JSON report of every object', () => {
    const cli = join(import.meta.dirname, '../../src/cli.ts');
    const policy = join(dir.path, 'policy.yml');
    writeFileSync(policy, 'global:\n  rules:\n    requiredLabels: {severity: [critical, warning]}\n    minFor: 1m\n  notifications:\n    urlHosts: [hooks.example.com]\n');
    const { good } = teams('victoriametrics');
    const objects = join(dir.path, 'objects.yaml');
    const offending = { apiVersion: 'operator.victoriametrics.com/v1beta1', kind: 'VMRule', metadata: { name: 'noisy', namespace: 'team-01' }, spec: { groups: [{ name: 'g', rules: [{ alert: 'Flappy', expr: 'up == 0', labels: { severity: 'sms-everyone' } }] }] } };
    writeFileSync(objects, [...good.filter((o) => o.kind !== 'VMAlertmanagerConfig'), offending].map((o) => JSON.stringify(o)).join('\n---\n'));
    const out = join(dir.path, 'cli-out');
    const report = join(dir.path, 'report.json');
    const res = spawnSync(process.execPath, [cli, 'isolate', '--label', 'tenant', '--policy', policy, '--report', report, '--out', out, objects], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(res.status, 1, res.stderr);
    assert.match(res.stderr, /error: .*objects\.yaml#24 \(line 49\) VMRule team-01\/noisy: spec\.groups\[0\]\.rules\[0\]\.labels\.severity: "sms-everyone" is not allowed by the policy \(one of critical, warning\) \[ERR_ISOLATE_POLICY\]/);
    assert.match(res.stderr, /spec\.groups\[0\]\.rules\[0\]\.for: unset .* \[ERR_ISOLATE_POLICY\]/);
    assert.match(res.stderr, /12 scrape, 12 rule, 0 alertmanager objects compiled; 1 rejected/);
    const rep = JSON.parse(readFileSync(report, 'utf8')) as { version: number; policy: string; summary: O; objects: { name: string; namespace: string; status: string; errors: O[] }[] };
    assert.equal(rep.version, 1);
    assert.equal(rep.policy, policy);
    assert.deepEqual(rep.summary, { objects: 25, compiled: 0, changed: 24, refused: 1 });
    const noisy = rep.objects.find((o) => o.name === 'noisy')!;
    assert.deepEqual([noisy.namespace, noisy.status, noisy.errors.length], ['team-01', 'refused', 2]);
    assert.equal(noisy.errors[0]!.code, 'ERR_ISOLATE_POLICY');
    assert.doesNotMatch(readFileSync(join(out, 'rules.yml'), 'utf8'), /Flappy/);
    assert.equal(run('vmalert', ['-dryRun', `-rule=${join(out, 'rules.yml')}`, '-datasource.url=http://127.0.0.1:1', '-loggerLevel=ERROR']).code, 0);
  });

  it('a broken policy file is a usage error with file:line', () => {
    const cli = join(import.meta.dirname, '../../src/cli.ts');
    const policy = join(dir.path, 'bad-policy.yml');
    writeFileSync(policy, 'global:\n  notifications:\n    emailDomain: [example.com]\n');
    const res = spawnSync(process.execPath, [cli, 'isolate', '--label', 'tenant', '--policy', policy, dir.path], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(res.status, 2);
    assert.match(res.stderr, /bad-policy\.yml:3: global\.notifications\.emailDomain: unknown field "emailDomain"/);
  });
});
