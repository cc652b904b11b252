// Output that must match what the operators generate (VictoriaMetrics operator's vmscrapes
// package and prometheus-operator's promcfg), field by field, where matching is not a weakness.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compile } from '../../../src/isolate/compile.ts';
import { hardenObject } from '../../../src/isolate/harden.ts';
import type { MonitoringObject } from '../../../src/isolate/objects.ts';
import { makeOptions } from '../../../src/isolate/options.ts';
import { normaliseRelabel } from '../../../src/isolate/relabel.ts';
import { scrapeJobs } from '../../../src/isolate/scrape-config.ts';

const vmOpts = makeOptions({ label: 'tenant' });
const poOpts = makeOptions({ label: 'tenant', flavor: 'prometheus-operator' });

function obj(kind: string, spec: Record<string, unknown>, name = 'x'): MonitoringObject {
  const group = kind.startsWith('VM') ? 'operator.victoriametrics.com/v1beta1' : 'monitoring.coreos.com/v1';
  return { apiVersion: group, kind, metadata: { name, namespace: 'team-a' }, spec };
}
function jobsOf(o: MonitoringObject, opts = vmOpts) {
  return scrapeJobs(hardenObject(o, opts).object, opts) as Array<Record<string, any>>;
}
const targets = (rules: any[]) => rules.map((r) => r.target_label ?? `${r.action}:${(r.source_labels ?? []).join(',')}`);

describe('VMProbe targets', () => {
  it('targets.static (the current field) is accepted and translated like staticConfig', () => {
    const [job] = jobsOf(obj('VMProbe', { module: 'http_2xx', vmProberSpec: { url: 'bb:9115' }, targets: { static: { targets: ['https://example.org'], labels: { env: 'prod' } } } }));
    assert.deepEqual(job!.static_configs, [{ targets: ['https://example.org'], labels: { env: 'prod' } }]);
    assert.deepEqual(job!.relabel_configs[0], { source_labels: ['__address__'], target_label: '__param_target' });
  });
  it('targets.static wins over the deprecated staticConfig, as in the operator', () => {
    const [job] = jobsOf(obj('VMProbe', { vmProberSpec: { url: 'bb:9115' }, targets: { static: { targets: ['https://new'] }, staticConfig: { targets: ['https://old'] } } }));
    assert.deepEqual(job!.static_configs, [{ targets: ['https://new'] }]);
  });
  it('Probe (prometheus-operator) has no targets.static field', () => {
    assert.throws(() => jobsOf(obj('Probe', { prober: { url: 'bb:9115' }, targets: { static: { static: ['x'] } } }), poOpts), /only targets\.staticConfig, targets\.ingress/);
  });
  it('ingress probes keep the discovered address in __tmp_ingress_address before building __param_target', () => {
    const [job] = jobsOf(obj('VMProbe', { vmProberSpec: { url: 'bb:9115' }, targets: { ingress: { selector: { matchLabels: { app: 'web' } } } } }));
    assert.deepEqual(job!.relabel_configs.slice(0, 3), [
      { action: 'keep', source_labels: ['__meta_kubernetes_ingress_label_app'], regex: 'web' },
      { source_labels: ['__address__'], separator: ';', regex: '(.*)', target_label: '__tmp_ingress_address', replacement: '$1', action: 'replace' },
      { source_labels: ['__meta_kubernetes_ingress_scheme', '__address__', '__meta_kubernetes_ingress_path'], separator: ';', regex: '(.+);(.+);(.+)', target_label: '__param_target', replacement: '${1}://${2}${3}', action: 'replace' },
    ]);
  });
});

describe('attach_metadata', () => {
  it('VM endpoint attach_metadata is translated into the kubernetes_sd_config, endpoint over object', () => {
    const [job] = jobsOf(obj('VMServiceScrape', { attach_metadata: { node: false }, endpoints: [{ port: 'http', attach_metadata: { node: true } }] }));
    assert.deepEqual(job!.kubernetes_sd_configs, [{ role: 'endpoints', attach_metadata: { node: true }, namespaces: { names: ['team-a'] } }]);
    const [pod] = jobsOf(obj('VMPodScrape', { attach_metadata: { node: true }, podMetricsEndpoints: [{ port: 'm' }] }));
    assert.deepEqual(pod!.kubernetes_sd_configs, [{ role: 'pod', attach_metadata: { node: true }, namespaces: { names: ['team-a'] } }]);
  });
  it('prometheus-operator spec.attachMetadata.node', () => {
    const [job] = jobsOf(obj('PodMonitor', { attachMetadata: { node: true }, podMetricsEndpoints: [{ port: 'm' }] }), poOpts);
    assert.deepEqual(job!.kubernetes_sd_configs[0].attach_metadata, { node: true });
  });
  it('false or absent adds nothing; unknown keys are refused', () => {
    const [job] = jobsOf(obj('VMServiceScrape', { endpoints: [{ port: 'http', attach_metadata: { node: false } }] }));
    assert.equal(job!.kubernetes_sd_configs[0].attach_metadata, undefined);
    assert.throws(() => jobsOf(obj('VMServiceScrape', { endpoints: [{ port: 'http', attach_metadata: { pod: true } }] })), /only node and namespace/);
  });
});

describe('relabel rule order', () => {
  it('VMPodScrape drops Failed/Succeeded pods first, like PodMonitor; filterRunning: false keeps them', () => {
    const [job] = jobsOf(obj('VMPodScrape', { podMetricsEndpoints: [{ port: 'm' }] }));
    assert.deepEqual(job!.relabel_configs[0], { action: 'drop', source_labels: ['__meta_kubernetes_pod_phase'], regex: '(Failed|Succeeded)' });
    const [kept] = jobsOf(obj('VMPodScrape', { podMetricsEndpoints: [{ port: 'm', filterRunning: false }] }));
    assert.notDeepEqual(kept!.relabel_configs[0].source_labels, ['__meta_kubernetes_pod_phase']);
  });
  it('VMServiceScrape: pod and container before namespace and service (VM operator); ServiceMonitor: after', () => {
    const [vm] = jobsOf(obj('VMServiceScrape', { endpoints: [{ port: 'http' }] }));
    assert.deepEqual(targets(vm!.relabel_configs).slice(0, 9), ['keep:__meta_kubernetes_endpoint_port_name', 'node', 'pod', 'pod', 'container', 'namespace', 'service', 'job', 'endpoint']);
    const [po] = jobsOf(obj('ServiceMonitor', { endpoints: [{ port: 'http' }] }), poOpts);
    assert.deepEqual(targets(po!.relabel_configs).slice(0, 9), ['keep:__meta_kubernetes_endpoint_port_name', 'node', 'pod', 'namespace', 'service', 'pod', 'container', 'job', 'endpoint']);
  });
  it('VMNodeScrape: selector, node, target labels, job, job label, port rewrite, then user rules', () => {
    const [job] = jobsOf(obj('VMNodeScrape', { port: '9100', selector: { matchLabels: { role: 'w' } }, targetLabels: ['zone'], jobLabel: 'app', relabelConfigs: [{ targetLabel: 'x', replacement: 'y' }] }));
    assert.deepEqual(targets(job!.relabel_configs), ['keep:__meta_kubernetes_node_label_role', 'node', 'zone', 'job', 'job', '__address__', 'x', 'labeldrop:', 'tenant']);
  });
  it('camelCase targetLabel wins over target_label in the same entry (the operators read the camelCase field)', () => {
    assert.equal(normaliseRelabel({ target_label: 'snake', targetLabel: 'camel', replacement: 'x' }, 'f', 'victoriametrics').target_label, 'camel');
    assert.equal(normaliseRelabel({ targetLabel: 'camel', target_label: 'snake', replacement: 'x' }, 'f', 'victoriametrics').target_label, 'camel');
    assert.deepEqual(normaliseRelabel({ sourceLabels: ['a'], source_labels: ['b'], action: 'keep' }, 'f', 'victoriametrics').source_labels, ['a']);
  });
});

describe('rule group names', () => {
  const rule = (kind: string) => `apiVersion: ${kind === 'VMRule' ? 'operator.victoriametrics.com/v1beta1' : 'monitoring.coreos.com/v1'}
kind: ${kind}
metadata: {name: alerts, namespace: team-a}
spec:
  groups:
  - name: g
    rules:
    - alert: A
      expr: up == 0
`;
  for (const opts of [vmOpts, poOpts]) {
    it(`a PrometheusRule and a VMRule of the same namespace/name never share a group name (${opts.flavor})`, () => {
      const r = compile([{ name: 'r.yaml', text: `${rule('VMRule')}---\n${rule('PrometheusRule')}` }], opts);
      assert.deepEqual(r.errors, []);
      const names = (r.rules.groups as any[]).map((g) => g.name);
      assert.equal(new Set(names).size, 2);
      assert.deepEqual(names, opts.flavor === 'victoriametrics' ? ['team-a/alerts/g', 'team-a/PrometheusRule/alerts/g'] : ['team-a/VMRule/alerts/g', 'team-a/alerts/g']);
    });
  }
});
