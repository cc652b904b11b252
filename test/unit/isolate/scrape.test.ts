// Scrape objects: golden jobs following the operators' documented layout, and the attacks that
// must not let a namespace's series carry another tenant label.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hardenObject } from '../../../src/isolate/harden.ts';
import { makeOptions } from '../../../src/isolate/options.ts';
import { scrapeJobs } from '../../../src/isolate/scrape-config.ts';
import { IsolationError } from '../../../src/isolate/errors.ts';
import type { MonitoringObject } from '../../../src/isolate/objects.ts';

const vmOpts = makeOptions({ label: 'tenant' });
const poOpts = makeOptions({ label: 'tenant', flavor: 'prometheus-operator' });
const neutral = makeOptions({ label: 'tenant', unsafe: 'neutralise' });

function obj(kind: string, spec: Record<string, unknown>, namespace = 'team-a'): MonitoringObject {
  const group = kind.startsWith('VM') ? 'operator.victoriametrics.com/v1beta1' : kind === 'ScrapeConfig' ? 'monitoring.coreos.com/v1alpha1' : 'monitoring.coreos.com/v1';
  return { apiVersion: group, kind, metadata: { name: 'x', namespace }, spec };
}

function jobsOf(o: MonitoringObject, opts = vmOpts) {
  const h = hardenObject(o, opts);
  return scrapeJobs(h.object, opts) as Array<Record<string, any>>;
}

function rejects(o: MonitoringObject, field: RegExp, opts = vmOpts) {
  assert.throws(() => hardenObject(o, opts), (e: unknown) => {
    assert.ok(e instanceof IsolationError, String(e));
    assert.equal(e.code, 'ERR_ISOLATE_UNSAFE', e.message);
    assert.match(e.field, field);
    return true;
  });
}

const FINAL_VM = [{ regex: 'vm_account_id|vm_project_id', action: 'labeldrop' }, { target_label: 'tenant', replacement: 'team-a' }];
const FINAL_PO = [{ target_label: 'tenant', replacement: 'team-a' }];

describe('golden scrape jobs', () => {
  it('VMStaticScrape: static targets, jobName, user rules, then the enforcement rules (operator layout)', () => {
    const jobs = jobsOf(obj('VMStaticScrape', {
      jobName: 'legacy',
      targetEndpoints: [{ targets: ['10.0.0.1:9100'], labels: { env: 'prod' }, path: '/m', interval: '10s', relabelConfigs: [{ targetLabel: 'zone', replacement: 'z1' }] }],
    }));
    assert.deepEqual(jobs, [{
      job_name: 'staticScrape/team-a/x/0',
      static_configs: [{ targets: ['10.0.0.1:9100'], labels: { env: 'prod' } }],
      metrics_path: '/m',
      scrape_interval: '10s',
      relabel_configs: [{ target_label: 'job', replacement: 'legacy' }, { target_label: 'zone', replacement: 'z1' }, ...FINAL_VM],
      metric_relabel_configs: FINAL_VM,
    }]);
  });

  it('ServiceMonitor: endpoints role in its own namespace, selector with presence check, port keep, job from service', () => {
    const [job] = jobsOf(obj('ServiceMonitor', { selector: { matchLabels: { app: 'web' } }, endpoints: [{ port: 'web', scheme: 'HTTPS' }] }), poOpts);
    assert.equal(job!.job_name, 'serviceMonitor/team-a/x/0');
    assert.deepEqual(job!.kubernetes_sd_configs, [{ role: 'endpoints', namespaces: { names: ['team-a'] } }]);
    assert.equal(job!.scheme, 'https');
    const rules = job!.relabel_configs as Array<Record<string, unknown>>;
    assert.deepEqual(rules[0], { action: 'keep', source_labels: ['__meta_kubernetes_service_label_app', '__meta_kubernetes_service_labelpresent_app'], regex: '(web);true' });
    assert.deepEqual(rules[1], { action: 'keep', source_labels: ['__meta_kubernetes_endpoint_port_name'], regex: 'web' });
    assert.ok(rules.some((r) => r.target_label === 'job' && (r.source_labels as string[])?.[0] === '__meta_kubernetes_service_name'));
    assert.deepEqual(rules.slice(-1), FINAL_PO);
    assert.deepEqual(job!.metric_relabel_configs, FINAL_PO);
  });

  it('VMServiceScrape: plain selector keep rules (VM layout) and job name serviceScrape/<ns>/<name>/<i>', () => {
    const [job] = jobsOf(obj('VMServiceScrape', { selector: { matchLabels: { 'app.kubernetes.io/name': 'api' } }, endpoints: [{ port: 'http' }, { port: 'admin' }] }));
    assert.equal(job!.job_name, 'serviceScrape/team-a/x/0');
    assert.deepEqual((job!.relabel_configs as unknown[])[0], { action: 'keep', source_labels: ['__meta_kubernetes_service_label_app_kubernetes_io_name'], regex: 'api' });
    assert.deepEqual((job!.relabel_configs as unknown[]).slice(-2), FINAL_VM);
  });

  it('PodMonitor: running filter, pod role, job <ns>/<name>, endpoint label', () => {
    const [job] = jobsOf(obj('PodMonitor', { selector: { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['db'] }] }, podMetricsEndpoints: [{ port: 'metrics' }] }), poOpts);
    assert.equal(job!.job_name, 'podMonitor/team-a/x/0');
    const rules = job!.relabel_configs as Array<Record<string, unknown>>;
    assert.deepEqual(rules[0], { action: 'drop', source_labels: ['__meta_kubernetes_pod_phase'], regex: '(Failed|Succeeded)' });
    assert.deepEqual(rules[1], { action: 'drop', source_labels: ['__meta_kubernetes_pod_label_tier'], regex: 'db' });
    assert.ok(rules.some((r) => r.target_label === 'job' && r.replacement === 'team-a/x'));
    assert.ok(rules.some((r) => r.target_label === 'endpoint' && r.replacement === 'metrics'));
  });

  it('VMPodScrape and VMNodeScrape: job names and discovery roles', () => {
    assert.equal(jobsOf(obj('VMPodScrape', { podMetricsEndpoints: [{ port: 'm' }] }))[0]!.job_name, 'podScrape/team-a/x/0');
    const [node] = jobsOf(obj('VMNodeScrape', { port: '9100' }));
    assert.equal(node!.job_name, 'nodeScrape/team-a/x');
    assert.deepEqual(node!.kubernetes_sd_configs, [{ role: 'node' }]);
  });

  it('Probe / VMProbe: prober address, module param, target to __param_target and instance', () => {
    for (const [kind, opts, prober, targets] of [['Probe', poOpts, 'prober', 'static'], ['VMProbe', vmOpts, 'vmProberSpec', 'targets']] as const) {
      const [job] = jobsOf(obj(kind, { module: 'http_2xx', [prober]: { url: 'bb:9115' }, targets: { staticConfig: { [targets]: ['https://example.org'] } } }), opts);
      assert.equal(job!.job_name, 'probe/team-a/x');
      assert.equal(job!.metrics_path, '/probe');
      assert.deepEqual(job!.params, { module: ['http_2xx'] });
      assert.deepEqual(job!.static_configs, [{ targets: ['https://example.org'] }]);
      const rules = job!.relabel_configs as Array<Record<string, unknown>>;
      assert.deepEqual(rules[0], { source_labels: ['__address__'], target_label: '__param_target' });
      const addr = rules.findIndex((r) => r.target_label === '__address__' && r.replacement === 'bb:9115');
      const tenant = rules.findIndex((r) => r.target_label === 'tenant');
      assert.ok(addr > 0 && tenant > addr, 'the enforcement rule comes after the operator prober rules');
    }
  });

  it('ScrapeConfig / VMScrapeConfig: static_configs and kubernetes_sd restricted to the namespace', () => {
    const [job] = jobsOf(obj('ScrapeConfig', { staticConfigs: [{ targets: ['127.0.0.1:1'] }], metricsPath: '/x', kubernetesSDConfigs: [{ role: 'Pod', namespaces: { names: ['team-a'] } }] }), poOpts);
    assert.equal(job!.job_name, 'scrapeConfig/team-a/x');
    assert.equal(job!.metrics_path, '/x');
    assert.deepEqual(job!.kubernetes_sd_configs, [{ role: 'pod', namespaces: { names: ['team-a'] } }]);
    const [vmJob] = jobsOf(obj('VMScrapeConfig', { staticConfigs: [{ targets: ['127.0.0.1:1'] }], path: '/y' }));
    assert.equal(vmJob!.metrics_path, '/y');
  });
});

describe('metric relabelling (where the VictoriaMetrics operator only drops target_label writes)', () => {
  const withMetricRelabels = (rules: unknown[], kind = 'VMServiceScrape') => obj(kind, { endpoints: [{ port: 'http', [kind.startsWith('VM') ? 'metricRelabelConfigs' : 'metricRelabelings']: rules }] });

  it('removes rules writing the label (operator behaviour) and appends the final re-set rule (hardening)', () => {
    const [job] = jobsOf(withMetricRelabels([{ targetLabel: 'tenant', replacement: 'team-b' }, { action: 'drop', sourceLabels: ['__name__'], regex: 'x' }]));
    assert.deepEqual(job!.metric_relabel_configs, [{ source_labels: ['__name__'], regex: 'x', action: 'drop' }, ...FINAL_VM]);
  });

  it('rejects labeldrop of the label', () => rejects(withMetricRelabels([{ action: 'labeldrop', regex: 'ten.*' }]), /metricRelabelConfigs\[0\]$/));
  it('rejects labelkeep that does not keep the label', () => rejects(withMetricRelabels([{ action: 'labelkeep', regex: '__name__|job' }]), /metricRelabelConfigs\[0\]$/));
  it('rejects labelmap that can produce any name', () => rejects(withMetricRelabels([{ action: 'labelmap', regex: 'exported_(.+)', replacement: '$1' }]), /metricRelabelConfigs\[0\]$/));
  it('rejects a templated target_label', () => rejects(withMetricRelabels([{ sourceLabels: ['x'], regex: '(.*)', targetLabel: '$1', replacement: 'team-b' }]), /metricRelabelConfigs\[0\]$/));
  it('rejects vmagent labelmap_all', () => rejects(withMetricRelabels([{ action: 'labelmap_all', regex: 'x', replacement: 'y' }]), /metricRelabelConfigs\[0\]$/));
  it('accepts labeldrop / labelkeep that leave the label alone', () => {
    const [job] = jobsOf(withMetricRelabels([{ action: 'labeldrop', regex: 'pod_template_hash' }, { action: 'labelkeep', regex: '__name__|tenant|job|instance' }]));
    assert.equal((job!.metric_relabel_configs as unknown[]).length, 2 + FINAL_VM.length);
  });
  it('neutralise keeps them but the final rule still re-sets the label, with a warning', () => {
    const h = hardenObject(withMetricRelabels([{ action: 'labeldrop', regex: 'tenant' }]), neutral);
    const [job] = scrapeJobs(h.object, neutral) as Array<Record<string, unknown>>;
    assert.deepEqual((job!.metric_relabel_configs as unknown[]).slice(-2), FINAL_VM);
    assert.match(h.warnings.join('\n'), /labeldrop/);
  });
  it('rejects unknown actions and invalid regexes with the field', () => {
    assert.throws(() => hardenObject(withMetricRelabels([{ action: 'explode' }]), vmOpts), /metricRelabelConfigs\[0\]\.action/);
    assert.throws(() => hardenObject(withMetricRelabels([{ action: 'labeldrop', regex: '(' }]), vmOpts), /metricRelabelConfigs\[0\]\.regex: invalid regex/);
  });
  it('vmagent-only actions are refused for the prometheus-operator flavour', () => {
    assert.throws(() => hardenObject(withMetricRelabels([{ action: 'drop_metrics', regex: 'x' }], 'ServiceMonitor'), poOpts), { code: 'ERR_ISOLATE_UNSUPPORTED' });
  });
});

describe('other escapes', () => {
  it('honorLabels: true is rejected, or forced to false when neutralising', () => {
    const o = obj('VMStaticScrape', { targetEndpoints: [{ targets: ['a:1'], honorLabels: true }] });
    rejects(o, /targetEndpoints\[0\]\.honorLabels/);
    const [job] = jobsOf(o, neutral);
    assert.equal(job!.honor_labels, false);
  });

  it('namespaceSelector.any and foreign matchNames are rejected, or restricted when neutralising', () => {
    rejects(obj('ServiceMonitor', { namespaceSelector: { any: true }, endpoints: [{ port: 'w' }] }), /namespaceSelector/, poOpts);
    rejects(obj('VMPodScrape', { namespaceSelector: { matchNames: ['team-a', 'team-b'] }, podMetricsEndpoints: [{ port: 'm' }] }), /namespaceSelector/);
    const [job] = jobsOf(obj('VMPodScrape', { namespaceSelector: { any: true }, podMetricsEndpoints: [{ port: 'm' }] }), neutral);
    assert.deepEqual(job!.kubernetes_sd_configs, [{ role: 'pod', namespaces: { names: ['team-a'] } }]);
  });

  it('kubernetesSDConfigs without namespaces (= all namespaces) is rejected', () => {
    rejects(obj('ScrapeConfig', { kubernetesSDConfigs: [{ role: 'Pod' }] }), /kubernetesSDConfigs\[0\]\.namespaces/, poOpts);
  });

  it('file access (the scraper\'s own service-account token) is rejected unless allowed', () => {
    const o = obj('VMStaticScrape', { targetEndpoints: [{ targets: ['evil:1'], bearerTokenFile: '/var/run/secrets/kubernetes.io/serviceaccount/token' }] });
    rejects(o, /bearerTokenFile/);
    const allowed = makeOptions({ label: 'tenant', allowFileAccess: true });
    assert.equal(jobsOf(o, allowed)[0]!.bearer_token_file, '/var/run/secrets/kubernetes.io/serviceaccount/token');
    rejects(obj('VMScrapeConfig', { fileSDConfigs: [{ files: ['/etc/x'] }] }), /fileSDConfigs/);
  });

  it('a target relabel rule writing the label is overridden by the final rule, never last', () => {
    const [job] = jobsOf(obj('VMStaticScrape', { targetEndpoints: [{ targets: ['a:1'], labels: { tenant: 'team-b' }, relabelConfigs: [{ targetLabel: 'tenant', replacement: 'team-b' }] }] }));
    const rules = job!.relabel_configs as Array<Record<string, unknown>>;
    assert.deepEqual(rules.at(-1), { target_label: 'tenant', replacement: 'team-a' });
  });

  it('hardening is idempotent (the webhook sees its own patches on UPDATE)', () => {
    const o = obj('VMServiceScrape', { endpoints: [{ port: 'h', relabelConfigs: [{ targetLabel: 'a', replacement: 'b' }], metricRelabelConfigs: [{ action: 'drop', regex: 'x', sourceLabels: ['__name__'] }] }] });
    const once = hardenObject(o, vmOpts).object;
    const twice = hardenObject(once, vmOpts);
    assert.deepEqual(twice.object, once);
    assert.deepEqual(twice.warnings, []);
  });

  it('reserved VictoriaMetrics tenant labels are dropped after user rules', () => {
    const [job] = jobsOf(obj('VMStaticScrape', { targetEndpoints: [{ targets: ['a:1'], labels: { vm_account_id: '7' } }] }));
    assert.deepEqual((job!.relabel_configs as unknown[]).at(-2), { regex: 'vm_account_id|vm_project_id', action: 'labeldrop' });
  });
});
