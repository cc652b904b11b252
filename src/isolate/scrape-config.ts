// Translation of hardened scrape objects into vmagent/Prometheus `scrape_configs` jobs, following
// the operators' generated layout (job names, kubernetes_sd_configs restricted to the object's
// namespace, selector/port relabelling), with tenantgate's enforcement rules always last.
import { durationMs } from './durations.ts';
import { IsolationError, unsupported } from './errors.ts';
import { sanitizeLabelName } from './names.ts';
import type { MonitoringObject } from './objects.ts';
import type { Flavor, IsolateOptions } from './options.ts';
import { enforcementRules, normaliseRelabel, relabelToConfig, stripEnforcementTail, type Relabel } from './relabel.ts';
import { arr, obj, optObj, optStr, str, strList, strMap, type Obj } from './util.ts';

type Job = Record<string, unknown>;
type Rule = Record<string, unknown>;

/** Endpoint fields translated one-to-one; the rest are consumed by kind-specific code or refused. */
const PARAM_KEYS: Readonly<Record<string, string>> = {
  path: 'metrics_path', metricsPath: 'metrics_path',
  interval: 'scrape_interval', scrapeInterval: 'scrape_interval',
  scrapeTimeout: 'scrape_timeout',
  honorLabels: 'honor_labels', honorTimestamps: 'honor_timestamps',
  sampleLimit: 'sample_limit', seriesLimit: 'series_limit',
  followRedirects: 'follow_redirects', enableHttp2: 'enable_http2',
  proxyURL: 'proxy_url', proxyUrl: 'proxy_url',
  bearerTokenFile: 'bearer_token_file',
};
const TLS_KEYS: Readonly<Record<string, string>> = {
  insecureSkipVerify: 'insecure_skip_verify', serverName: 'server_name',
  caFile: 'ca_file', certFile: 'cert_file', keyFile: 'key_file',
};
const SECRET_REFS = new Set(['basicAuth', 'bearerTokenSecret', 'authorization', 'oauth2', 'basic_auth', 'bearer_token']);

function endpointParams(ep: Obj, path: string, consumed: readonly string[], flavor: Flavor): Job {
  const out: Job = {};
  for (const [k, v] of Object.entries(ep)) {
    if (consumed.includes(k) || v === undefined || v === null) continue;
    const f = `${path}.${k}`;
    if (SECRET_REFS.has(k)) throw unsupported(f, 'references a Secret, which the offline compiler cannot resolve (the webhook accepts it; the operator resolves it in the object\'s namespace)');
    if (k === 'scheme') {
      const scheme = str(v, f).toLowerCase();
      if (scheme !== 'http' && scheme !== 'https') throw new IsolationError('ERR_ISOLATE_OBJECT', f, 'must be http or https');
      out.scheme = scheme;
      continue;
    }
    if (k === 'params') {
      const p = obj(v, f);
      const params: Record<string, string[]> = {};
      for (const [pk, pv] of Object.entries(p)) params[pk] = strList(pv, `${f}.${pk}`);
      out.params = params;
      continue;
    }
    if (k === 'tlsConfig') {
      const tls: Job = {};
      for (const [tk, tv] of Object.entries(obj(v, f))) {
        const target = Object.hasOwn(TLS_KEYS, tk) ? TLS_KEYS[tk] : undefined;
        if (target === undefined) throw unsupported(`${f}.${tk}`, 'only insecureSkipVerify, serverName and *File TLS fields are supported offline (Secret/ConfigMap references need a cluster)');
        tls[target] = tv;
      }
      out.tls_config = tls;
      continue;
    }
    const target = Object.hasOwn(PARAM_KEYS, k) ? PARAM_KEYS[k] : undefined;
    if (target === undefined) throw unsupported(f, 'is not supported by tenantgate isolate');
    if (target === 'series_limit' && flavor === 'prometheus-operator') throw unsupported(f, 'is a vmagent-only setting');
    checkParamType(target, v, f);
    out[target] = v;
  }
  checkTiming(out, ep, path);
  return out;
}

// A wrong type here would make Prometheus or vmagent refuse the whole configuration.
function checkParamType(target: string, v: unknown, field: string): void {
  const bad = (why: string) => { throw new IsolationError('ERR_ISOLATE_OBJECT', field, why); };
  switch (target) {
    case 'honor_labels': case 'honor_timestamps': case 'follow_redirects': case 'enable_http2':
      if (typeof v !== 'boolean') bad('must be true or false');
      break;
    case 'sample_limit': case 'series_limit':
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) bad('must be a non-negative integer');
      break;
    case 'metrics_path':
      if (typeof v !== 'string' || v === '') bad('must be a non-empty path');
      break;
    case 'proxy_url': {
      let u: URL | undefined;
      try { u = new URL(str(v, field)); } catch { bad('is not a valid URL'); }
      if (u !== undefined && !['http:', 'https:', 'socks5:'].includes(u.protocol)) bad('must be an http, https or socks5 URL');
      break;
    }
    default:
      if (typeof v !== 'string') bad('must be a string');
  }
}

function durationOf(v: unknown, field: string): number {
  const ms = durationMs(v);
  if (ms === undefined) throw new IsolationError('ERR_ISOLATE_OBJECT', field, `${JSON.stringify(v)} is not a duration (e.g. 30s, 1m30s)`);
  return ms;
}

// Prometheus refuses the whole configuration for a job whose timeout exceeds its interval.
function checkTiming(job: Job, ep: Obj, path: string): void {
  const key = (k: string) => Object.keys(ep).find((x) => Object.hasOwn(PARAM_KEYS, x) && PARAM_KEYS[x] === k) ?? k;
  const interval = job.scrape_interval === undefined ? undefined : durationOf(job.scrape_interval, `${path}.${key('scrape_interval')}`);
  const timeout = job.scrape_timeout === undefined ? undefined : durationOf(job.scrape_timeout, `${path}.${key('scrape_timeout')}`);
  if (interval !== undefined && timeout !== undefined && timeout > interval) {
    throw new IsolationError('ERR_ISOLATE_OBJECT', `${path}.${key('scrape_timeout')}`, `${String(job.scrape_timeout)} is longer than the scrape interval ${String(job.scrape_interval)}`);
  }
}

function k8sSd(role: string, namespace: string | undefined, attach?: Obj): Job {
  const sd: Job = { role };
  if (attach !== undefined && Object.keys(attach).length > 0) sd.attach_metadata = attach;
  if (namespace !== undefined) sd.namespaces = { names: [namespace] };
  return sd;
}

/** Roles for which service discovery can attach node / namespace metadata, as the VM operator decides. */
const ATTACH_NODE_ROLES = new Set(['pod', 'endpoints', 'endpointslice']);
const ATTACH_NAMESPACE_ROLES = new Set(['pod', 'service', 'endpoints', 'endpointslice', 'ingress']);

function readAttach(v: unknown, path: string): { node?: boolean; namespace?: boolean } {
  const a = optObj(v, path);
  if (a === undefined) return {};
  const out: { node?: boolean; namespace?: boolean } = {};
  for (const [k, x] of Object.entries(a)) {
    if (k !== 'node' && k !== 'namespace') throw unsupported(`${path}.${k}`, 'only node and namespace can be attached');
    if (x === null || x === undefined) continue;
    if (typeof x !== 'boolean') throw new IsolationError('ERR_ISOLATE_OBJECT', `${path}.${k}`, 'must be a boolean');
    out[k] = x;
  }
  return out;
}

/**
 * `attach_metadata` of a job: the endpoint's setting wins over the object's, per field (VM
 * operator); prometheus-operator objects only have the object-level `attachMetadata.node`.
 */
function attachMetadata(o: MonitoringObject, ep: Obj | undefined, epPath: string, role: string): Obj | undefined {
  const vm = o.kind.startsWith('VM');
  const spec = vm ? readAttach(o.spec.attach_metadata, 'spec.attach_metadata') : readAttach(o.spec.attachMetadata, 'spec.attachMetadata');
  if (!vm && spec.namespace !== undefined) throw unsupported('spec.attachMetadata.namespace', 'prometheus-operator objects can only attach node metadata');
  const own = vm && ep !== undefined ? readAttach(ep.attach_metadata, `${epPath}.attach_metadata`) : {};
  const node = own.node ?? spec.node;
  const namespace = own.namespace ?? spec.namespace;
  const out: Obj = {};
  if (node === true && ATTACH_NODE_ROLES.has(role)) out.node = true;
  if (namespace === true && ATTACH_NAMESPACE_ROLES.has(role)) out.namespace = true;
  return Object.keys(out).length > 0 ? out : undefined;
}

function selectorRules(selector: Obj | undefined, kind: string, path: string, withPresence: boolean): Rule[] {
  const rules: Rule[] = [];
  if (selector === undefined) return rules;
  const matchLabels = strMap(selector.matchLabels, `${path}.matchLabels`);
  const label = (k: string) => `__meta_kubernetes_${kind}_label_${sanitizeLabelName(k)}`;
  const present = (k: string) => `__meta_kubernetes_${kind}_labelpresent_${sanitizeLabelName(k)}`;
  for (const k of Object.keys(matchLabels).sort()) {
    rules.push(withPresence
      ? { action: 'keep', source_labels: [label(k), present(k)], regex: `(${matchLabels[k]});true` }
      : { action: 'keep', source_labels: [label(k)], regex: matchLabels[k] });
  }
  arr(selector.matchExpressions, `${path}.matchExpressions`).forEach((raw, i) => {
    const f = `${path}.matchExpressions[${i}]`;
    const e = obj(raw, f);
    const key = str(e.key, `${f}.key`);
    const values = strList(e.values, `${f}.values`).join('|');
    switch (e.operator) {
      case 'In': rules.push({ action: 'keep', source_labels: [label(key)], regex: values }); break;
      case 'NotIn': rules.push({ action: 'drop', source_labels: [label(key)], regex: values }); break;
      case 'Exists': rules.push({ action: 'keep', source_labels: [present(key)], regex: 'true' }); break;
      case 'DoesNotExist': rules.push({ action: 'drop', source_labels: [present(key)], regex: 'true' }); break;
      default: throw new IsolationError('ERR_ISOLATE_OBJECT', `${f}.operator`, 'must be In, NotIn, Exists or DoesNotExist');
    }
  });
  return rules;
}

/** User rules (minus any copy of the enforcement tail) in config spelling. */
function userRules(list: unknown, path: string, opts: IsolateOptions, enforcement: readonly Relabel[]): Rule[] {
  const items = stripEnforcementTail(arr(list, path), enforcement, opts.flavor);
  return items.map((r, i) => relabelToConfig(normaliseRelabel(r, `${path}[${i}]`, opts.flavor), opts.flavor));
}

function finish(job: Job, relabels: Rule[], metricList: unknown, metricPath: string, opts: IsolateOptions, enforcement: readonly Relabel[]): Job {
  const tail = enforcement.map((r) => relabelToConfig(r, opts.flavor));
  job.relabel_configs = [...relabels, ...tail];
  job.metric_relabel_configs = [...userRules(metricList, metricPath, opts, enforcement), ...tail];
  return job;
}

function portRules(ep: Obj, path: string, portNameLabel: string, podPorts: boolean): Rule[] {
  const port = optStr(ep.port, `${path}.port`);
  if (port !== undefined && port !== '') return [{ action: 'keep', source_labels: [portNameLabel], regex: port }];
  const tp = ep.targetPort ?? ep.portNumber;
  if (tp !== undefined && podPorts) {
    if (typeof tp === 'number') return [{ action: 'keep', source_labels: ['__meta_kubernetes_pod_container_port_number'], regex: String(tp) }];
    return [{ action: 'keep', source_labels: ['__meta_kubernetes_pod_container_port_name'], regex: str(tp, `${path}.targetPort`) }];
  }
  return [];
}

function endpointLabel(ep: Obj): Rule[] {
  const port = ep.port ?? ep.targetPort ?? ep.portNumber;
  return port === undefined || port === '' ? [] : [{ target_label: 'endpoint', replacement: String(port) }];
}

function serviceJobs(o: MonitoringObject, opts: IsolateOptions, enforcement: readonly Relabel[]): Job[] {
  const vm = o.kind.startsWith('VM');
  const ns = o.metadata.namespace;
  const spec = o.spec;
  const selector = optObj(spec.selector, 'spec.selector');
  return arr(spec.endpoints, 'spec.endpoints').map((raw, i) => {
    const path = `spec.endpoints[${i}]`;
    const ep = obj(raw, path);
    const job: Job = { job_name: `${vm ? 'serviceScrape' : 'serviceMonitor'}/${ns}/${o.metadata.name}/${i}` };
    job.kubernetes_sd_configs = [k8sSd('endpoints', ns, attachMetadata(o, ep, path, 'endpoints'))];
    Object.assign(job, endpointParams(ep, path, ['port', 'targetPort', 'attach_metadata', 'relabelConfigs', 'relabelings', 'metricRelabelConfigs', 'metricRelabelings'], opts.flavor));
    const podAndContainer: Rule[] = [
      { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
      { source_labels: ['__meta_kubernetes_pod_container_name'], target_label: 'container' },
    ];
    const namespaceAndService: Rule[] = [
      { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
      { source_labels: ['__meta_kubernetes_service_name'], target_label: 'service' },
    ];
    const rules: Rule[] = [
      ...selectorRules(selector, 'service', 'spec.selector', !vm),
      ...portRules(ep, path, '__meta_kubernetes_endpoint_port_name', true),
      { source_labels: ['__meta_kubernetes_endpoint_address_target_kind', '__meta_kubernetes_endpoint_address_target_name'], separator: ';', regex: 'Node;(.*)', replacement: '${1}', target_label: 'node' },
      { source_labels: ['__meta_kubernetes_endpoint_address_target_kind', '__meta_kubernetes_endpoint_address_target_name'], separator: ';', regex: 'Pod;(.*)', replacement: '${1}', target_label: 'pod' },
      // The VM operator names pod and container before namespace and service; prometheus-operator after.
      ...(vm ? [...podAndContainer, ...namespaceAndService] : [...namespaceAndService, ...podAndContainer]),
      ...strList(spec.targetLabels, 'spec.targetLabels').map((l) => ({ source_labels: [`__meta_kubernetes_service_label_${sanitizeLabelName(l)}`], target_label: sanitizeLabelName(l), regex: '(.+)', replacement: '${1}' })),
      ...strList(spec.podTargetLabels, 'spec.podTargetLabels').map((l) => ({ source_labels: [`__meta_kubernetes_pod_label_${sanitizeLabelName(l)}`], target_label: sanitizeLabelName(l), regex: '(.+)', replacement: '${1}' })),
      { source_labels: ['__meta_kubernetes_service_name'], target_label: 'job', replacement: '${1}' },
      ...(typeof spec.jobLabel === 'string' && spec.jobLabel !== ''
        ? [{ source_labels: [`__meta_kubernetes_service_label_${sanitizeLabelName(spec.jobLabel)}`], target_label: 'job', regex: '(.+)', replacement: '${1}' }]
        : []),
      ...endpointLabel(ep),
      ...userRules(ep[vm ? 'relabelConfigs' : 'relabelings'], `${path}.${vm ? 'relabelConfigs' : 'relabelings'}`, opts, enforcement),
    ];
    const mk = vm ? 'metricRelabelConfigs' : 'metricRelabelings';
    return finish(job, rules, ep[mk], `${path}.${mk}`, opts, enforcement);
  });
}

function podJobs(o: MonitoringObject, opts: IsolateOptions, enforcement: readonly Relabel[]): Job[] {
  const vm = o.kind.startsWith('VM');
  const ns = o.metadata.namespace;
  const spec = o.spec;
  const selector = optObj(spec.selector, 'spec.selector');
  return arr(spec.podMetricsEndpoints, 'spec.podMetricsEndpoints').map((raw, i) => {
    const path = `spec.podMetricsEndpoints[${i}]`;
    const ep = obj(raw, path);
    const job: Job = { job_name: `${vm ? 'podScrape' : 'podMonitor'}/${ns}/${o.metadata.name}/${i}` };
    job.kubernetes_sd_configs = [k8sSd('pod', ns, attachMetadata(o, ep, path, 'pod'))];
    Object.assign(job, endpointParams(ep, path, ['port', 'targetPort', 'portNumber', 'filterRunning', 'attach_metadata', 'relabelConfigs', 'relabelings', 'metricRelabelConfigs', 'metricRelabelings'], opts.flavor));
    const running: Rule[] = ep.filterRunning === false ? [] : [{ action: 'drop', source_labels: ['__meta_kubernetes_pod_phase'], regex: '(Failed|Succeeded)' }];
    const rules: Rule[] = [
      ...running,
      ...selectorRules(selector, 'pod', 'spec.selector', !vm),
      ...portRules(ep, path, '__meta_kubernetes_pod_container_port_name', true),
      { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
      { source_labels: ['__meta_kubernetes_pod_container_name'], target_label: 'container' },
      { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
      ...strList(spec.podTargetLabels, 'spec.podTargetLabels').map((l) => ({ source_labels: [`__meta_kubernetes_pod_label_${sanitizeLabelName(l)}`], target_label: sanitizeLabelName(l), regex: '(.+)', replacement: '${1}' })),
      { target_label: 'job', replacement: `${ns}/${o.metadata.name}` },
      ...(typeof spec.jobLabel === 'string' && spec.jobLabel !== ''
        ? [{ source_labels: [`__meta_kubernetes_pod_label_${sanitizeLabelName(spec.jobLabel)}`], target_label: 'job', regex: '(.+)', replacement: '${1}' }]
        : []),
      ...endpointLabel(ep),
      ...userRules(ep[vm ? 'relabelConfigs' : 'relabelings'], `${path}.${vm ? 'relabelConfigs' : 'relabelings'}`, opts, enforcement),
    ];
    const mk = vm ? 'metricRelabelConfigs' : 'metricRelabelings';
    return finish(job, rules, ep[mk], `${path}.${mk}`, opts, enforcement);
  });
}

function nodeJobs(o: MonitoringObject, opts: IsolateOptions, enforcement: readonly Relabel[]): Job[] {
  const spec = o.spec;
  const job: Job = { job_name: `nodeScrape/${o.metadata.namespace}/${o.metadata.name}`, kubernetes_sd_configs: [k8sSd('node', undefined)] };
  Object.assign(job, endpointParams(spec, 'spec', ['port', 'selector', 'jobLabel', 'targetLabels', 'relabelConfigs', 'metricRelabelConfigs'], opts.flavor));
  const port = spec.port === undefined ? undefined : String(spec.port);
  // The VM operator's order: selector, node name, target labels, job, job label, port rewrite.
  const rules: Rule[] = [
    ...selectorRules(optObj(spec.selector, 'spec.selector'), 'node', 'spec.selector', false),
    { source_labels: ['__meta_kubernetes_node_name'], target_label: 'node' },
    ...strList(spec.targetLabels, 'spec.targetLabels').map((l) => ({ source_labels: [`__meta_kubernetes_node_label_${sanitizeLabelName(l)}`], target_label: sanitizeLabelName(l), regex: '(.+)', replacement: '${1}' })),
    { target_label: 'job', replacement: `${o.metadata.namespace}/${o.metadata.name}` },
    ...(typeof spec.jobLabel === 'string' && spec.jobLabel !== ''
      ? [{ source_labels: [`__meta_kubernetes_node_label_${sanitizeLabelName(spec.jobLabel)}`], target_label: 'job', regex: '(.+)', replacement: '${1}' }]
      : []),
    ...(port !== undefined ? [{ source_labels: ['__address__'], target_label: '__address__', regex: '^(.*):(.*)', replacement: `\${1}:${port}` }] : []),
    ...userRules(spec.relabelConfigs, 'spec.relabelConfigs', opts, enforcement),
  ];
  return [finish(job, rules, spec.metricRelabelConfigs, 'spec.metricRelabelConfigs', opts, enforcement)];
}

function staticConfig(raw: unknown, path: string, targetsKey: string): Job {
  const sc = obj(raw, path);
  for (const k of Object.keys(sc)) {
    if (k !== targetsKey && k !== 'labels' && k !== 'relabelingConfigs') throw unsupported(`${path}.${k}`, 'is not supported in a static target list');
  }
  const out: Job = { targets: strList(sc[targetsKey], `${path}.${targetsKey}`) };
  const labels = strMap(sc.labels, `${path}.labels`);
  if (Object.keys(labels).length > 0) out.labels = labels;
  return out;
}

function staticJobs(o: MonitoringObject, opts: IsolateOptions, enforcement: readonly Relabel[]): Job[] {
  const spec = o.spec;
  const jobName = optStr(spec.jobName, 'spec.jobName');
  return arr(spec.targetEndpoints, 'spec.targetEndpoints').map((raw, i) => {
    const path = `spec.targetEndpoints[${i}]`;
    const ep = obj(raw, path);
    const job: Job = { job_name: `staticScrape/${o.metadata.namespace}/${o.metadata.name}/${i}` };
    job.static_configs = [staticConfig({ targets: ep.targets, labels: ep.labels }, path, 'targets')];
    Object.assign(job, endpointParams(ep, path, ['targets', 'labels', 'relabelConfigs', 'metricRelabelConfigs'], opts.flavor));
    const rules: Rule[] = [
      ...(jobName !== undefined ? [{ target_label: 'job', replacement: jobName }] : []),
      ...userRules(ep.relabelConfigs, `${path}.relabelConfigs`, opts, enforcement),
    ];
    return finish(job, rules, ep.metricRelabelConfigs, `${path}.metricRelabelConfigs`, opts, enforcement);
  });
}

function scrapeConfigJobs(o: MonitoringObject, opts: IsolateOptions, enforcement: readonly Relabel[]): Job[] {
  const vm = o.kind.startsWith('VM');
  const spec = o.spec;
  const ns = o.metadata.namespace;
  const job: Job = { job_name: `scrapeConfig/${ns}/${o.metadata.name}` };
  const statics = arr(spec.staticConfigs, 'spec.staticConfigs').map((s, i) => staticConfig(s, `spec.staticConfigs[${i}]`, 'targets'));
  if (statics.length > 0) job.static_configs = statics;
  const sds = arr(spec.kubernetesSDConfigs, 'spec.kubernetesSDConfigs').map((raw, i) => {
    const path = `spec.kubernetesSDConfigs[${i}]`;
    const sd = obj(raw, path);
    for (const k of Object.keys(sd)) {
      if (k !== 'role' && k !== 'namespaces') throw unsupported(`${path}.${k}`, 'only role and namespaces are supported offline');
    }
    return k8sSd(str(sd.role, `${path}.role`).toLowerCase(), ns);
  });
  if (sds.length > 0) job.kubernetes_sd_configs = sds;
  if (statics.length === 0 && sds.length === 0) throw new IsolationError('ERR_ISOLATE_OBJECT', 'spec', 'needs staticConfigs or kubernetesSDConfigs');
  const rk = vm ? 'relabelConfigs' : 'relabelings';
  const mk = vm ? 'metricRelabelConfigs' : 'metricRelabelings';
  Object.assign(job, endpointParams(spec, 'spec', ['staticConfigs', 'kubernetesSDConfigs', rk, mk], opts.flavor));
  return [finish(job, userRules(spec[rk], `spec.${rk}`, opts, enforcement), spec[mk], `spec.${mk}`, opts, enforcement)];
}

function probeJobs(o: MonitoringObject, opts: IsolateOptions, enforcement: readonly Relabel[]): Job[] {
  const vm = o.kind === 'VMProbe';
  const spec = o.spec;
  const ns = o.metadata.namespace;
  const proberKey = vm ? 'vmProberSpec' : 'prober';
  const prober = obj(spec[proberKey], `spec.${proberKey}`);
  const proberUrl = str(prober.url, `spec.${proberKey}.url`);
  const mk = vm ? 'metricRelabelConfigs' : 'metricRelabelings';
  const job: Job = { job_name: `probe/${ns}/${o.metadata.name}` };
  Object.assign(job, endpointParams(spec, 'spec', [proberKey, 'module', 'targets', 'jobName', mk], opts.flavor));
  job.metrics_path = optStr(prober.path, `spec.${proberKey}.path`) ?? '/probe';
  const scheme = optStr(prober.scheme, `spec.${proberKey}.scheme`);
  if (scheme !== undefined) job.scheme = scheme.toLowerCase();
  const module = optStr(spec.module, 'spec.module');
  if (module !== undefined) job.params = { module: [module] };
  const targets = obj(spec.targets, 'spec.targets');
  const rules: Rule[] = [];
  // VMProbe: `targets.static` is the current field and wins over the deprecated `staticConfig`.
  const staticKey = vm && targets.static !== undefined && targets.static !== null ? 'static' : 'staticConfig';
  if (targets[staticKey] !== undefined && targets[staticKey] !== null) {
    const sp = `spec.targets.${staticKey}`;
    const sc = obj(targets[staticKey], sp);
    job.static_configs = [staticConfig(sc, sp, vm ? 'targets' : 'static')];
    rules.push({ source_labels: ['__address__'], target_label: '__param_target' });
    rules.push(...userRules(sc.relabelingConfigs, `${sp}.relabelingConfigs`, opts, enforcement));
  }
  if (targets.ingress !== undefined) {
    const ing = obj(targets.ingress, 'spec.targets.ingress');
    job.kubernetes_sd_configs = [k8sSd('ingress', ns)];
    rules.push(
      ...selectorRules(optObj(ing.selector, 'spec.targets.ingress.selector'), 'ingress', 'spec.targets.ingress.selector', false),
      // Keeps the discovered address for rules that need it after __address__ becomes the prober.
      { source_labels: ['__address__'], separator: ';', regex: '(.*)', target_label: '__tmp_ingress_address', replacement: '$1', action: 'replace' },
      { source_labels: ['__meta_kubernetes_ingress_scheme', '__address__', '__meta_kubernetes_ingress_path'], separator: ';', regex: '(.+);(.+);(.+)', target_label: '__param_target', replacement: '${1}://${2}${3}', action: 'replace' },
      { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
      { source_labels: ['__meta_kubernetes_ingress_name'], target_label: 'ingress' },
      ...userRules(ing.relabelingConfigs, 'spec.targets.ingress.relabelingConfigs', opts, enforcement),
    );
  }
  const jobName = optStr(spec.jobName, 'spec.jobName');
  if (jobName !== undefined) rules.push({ target_label: 'job', replacement: jobName });
  rules.push({ source_labels: ['__param_target'], target_label: 'instance' }, { target_label: '__address__', replacement: proberUrl });
  return [finish(job, rules, spec[mk], `spec.${mk}`, opts, enforcement)];
}

/** Scrape jobs for one hardened object. */
export function scrapeJobs(o: MonitoringObject, opts: IsolateOptions): Job[] {
  const enforcement = enforcementRules(opts.label, o.metadata.namespace, opts.reservedLabels);
  switch (o.kind) {
    case 'VMServiceScrape': case 'ServiceMonitor': return serviceJobs(o, opts, enforcement);
    case 'VMPodScrape': case 'PodMonitor': return podJobs(o, opts, enforcement);
    case 'VMNodeScrape': return nodeJobs(o, opts, enforcement);
    case 'VMStaticScrape': return staticJobs(o, opts, enforcement);
    case 'VMScrapeConfig': case 'ScrapeConfig': return scrapeConfigJobs(o, opts, enforcement);
    case 'VMProbe': case 'Probe': return probeJobs(o, opts, enforcement);
    default: throw new IsolationError('ERR_ISOLATE_OBJECT', 'kind', `${o.kind} is not a scrape object`);
  }
}
