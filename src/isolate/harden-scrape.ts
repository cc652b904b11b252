// Object-level hardening of scrape objects (VMServiceScrape … ServiceMonitor … ScrapeConfig):
// the enforcement relabel rules appended after every user rule, metric relabelling checked,
// honor_labels and foreign namespace selectors refused, local-file access refused.
// The result is still a CRD object: the webhook patches it in, the compiler translates it.
import { IsolationError, unsafe, unsupported } from './errors.ts';
import type { MonitoringObject } from './objects.ts';
import type { IsolateOptions } from './options.ts';
import {
  checkMetricRelabels, enforcementRules, enforcementRulesCrd, normaliseRelabel, stripEnforcementTail,
} from './relabel.ts';
import { arr, clone, isObj, obj, optObj, type Obj } from './util.ts';

/** One place in a scrape object that owns a relabel list, a metric relabel list, or honor_labels. */
interface Site {
  readonly holder: Obj;
  readonly path: string;
  readonly relabelKey?: string;
  readonly metricKey?: string;
}

function sitesOf(kind: string, spec: Obj): Site[] {
  const vm = kind.startsWith('VM');
  const relabelKey = vm ? 'relabelConfigs' : 'relabelings';
  const metricKey = vm ? 'metricRelabelConfigs' : 'metricRelabelings';
  const listed = (key: string): Site[] => {
    const list = arr(spec[key], `spec.${key}`);
    if (list.length === 0) throw new IsolationError('ERR_ISOLATE_OBJECT', `spec.${key}`, 'must list at least one endpoint');
    return list.map((ep, i) => ({ holder: obj(ep, `spec.${key}[${i}]`), path: `spec.${key}[${i}]`, relabelKey, metricKey }));
  };
  switch (kind) {
    case 'VMServiceScrape':
    case 'ServiceMonitor':
      return listed('endpoints');
    case 'VMPodScrape':
    case 'PodMonitor':
      return listed('podMetricsEndpoints');
    case 'VMStaticScrape':
      return listed('targetEndpoints');
    case 'VMNodeScrape':
    case 'VMScrapeConfig':
    case 'ScrapeConfig':
      return [{ holder: spec, path: 'spec', relabelKey, metricKey }];
    case 'VMProbe':
    case 'Probe': {
      const targets = obj(spec.targets, 'spec.targets');
      const keys = kind === 'VMProbe' ? ['static', 'staticConfig', 'ingress'] : ['staticConfig', 'ingress'];
      for (const k of Object.keys(targets)) {
        if (!keys.includes(k)) throw unsupported(`spec.targets.${k}`, `only targets.${keys.join(', targets.')} are supported`);
      }
      const sites: Site[] = [{ holder: spec, path: 'spec', metricKey }];
      for (const k of keys) {
        if (targets[k] !== undefined && targets[k] !== null) sites.push({ holder: obj(targets[k], `spec.targets.${k}`), path: `spec.targets.${k}`, relabelKey: 'relabelingConfigs' });
      }
      if (sites.length === 1) throw new IsolationError('ERR_ISOLATE_OBJECT', 'spec.targets', `needs ${keys.join(' or ')}`);
      return sites;
    }
    default:
      throw new IsolationError('ERR_ISOLATE_OBJECT', 'kind', `${kind} is not a scrape object`);
  }
}

const FILE_KEY = /(File|_file)$/;
const FILE_SD = new Set(['fileSDConfigs', 'file_sd_configs', 'fileSDConfig']);

/** Fields that make the scraper/Alertmanager read its own local files on the tenant's behalf. */
export function rejectFileAccess(v: unknown, path: string): void {
  if (Array.isArray(v)) { v.forEach((x, i) => rejectFileAccess(x, `${path}[${i}]`)); return; }
  if (!isObj(v)) return;
  for (const [k, x] of Object.entries(v)) {
    const p = `${path}.${k}`;
    if ((FILE_KEY.test(k) && x !== '' && x !== null && x !== undefined) || FILE_SD.has(k)) {
      throw unsafe(p, 'reads a file from the scraper/Alertmanager filesystem (e.g. its service-account token) on the tenant\'s behalf; refused unless --allow-file-access');
    }
    rejectFileAccess(x, p);
  }
}

function restrictNamespaceSelector(holder: Obj, key: string, path: string, namespace: string, opts: IsolateOptions, warnings: string[]): void {
  const sel = optObj(holder[key], `${path}.${key}`);
  if (sel === undefined) return; // absent selector = own namespace for both operators
  const names = arr(sel.matchNames, `${path}.${key}.matchNames`);
  const foreign = sel.any === true || names.some((n) => n !== namespace);
  if (!foreign) return;
  const why = sel.any === true ? 'selects targets in every namespace' : `selects targets in namespaces ${JSON.stringify(names)}`;
  if (opts.unsafe === 'reject') throw unsafe(`${path}.${key}`, `${why}; an object may only scrape its own namespace "${namespace}"`);
  warnings.push(`${path}.${key}: ${why}; restricted to "${namespace}"`);
  holder[key] = { matchNames: [namespace] };
}

function restrictSdNamespaces(spec: Obj, namespace: string, opts: IsolateOptions, warnings: string[]): void {
  arr(spec.kubernetesSDConfigs, 'spec.kubernetesSDConfigs').forEach((raw, i) => {
    const path = `spec.kubernetesSDConfigs[${i}]`;
    const sd = obj(raw, path);
    const ns = optObj(sd.namespaces, `${path}.namespaces`);
    const names = arr(ns?.names, `${path}.namespaces.names`);
    const own = ns?.ownNamespace === true;
    const ok = ns !== undefined && (own || names.length > 0) && names.every((n) => n === namespace);
    if (ok) return;
    const why = ns === undefined || (names.length === 0 && !own) ? 'discovers targets in every namespace' : `discovers targets in namespaces ${JSON.stringify(names)}`;
    if (opts.unsafe === 'reject') throw unsafe(`${path}.namespaces`, `${why}; an object may only scrape its own namespace "${namespace}"`);
    warnings.push(`${path}.namespaces: ${why}; restricted to "${namespace}"`);
    sd.namespaces = { names: [namespace] };
  });
}

/** Returns a hardened copy of a scrape object; throws IsolationError if it cannot be made safe. */
export function hardenScrape(input: MonitoringObject, opts: IsolateOptions, warnings: string[]): MonitoringObject {
  const o = clone(input) as MonitoringObject;
  const spec = o.spec;
  const ns = o.metadata.namespace;
  if (!opts.allowFileAccess) rejectFileAccess(spec, 'spec');
  const neutralise = opts.unsafe === 'neutralise';

  if (o.kind !== 'VMNodeScrape' && o.kind !== 'VMStaticScrape' && o.kind !== 'VMScrapeConfig' && o.kind !== 'ScrapeConfig') {
    if (o.kind === 'VMProbe' || o.kind === 'Probe') {
      const targets = optObj(spec.targets, 'spec.targets');
      const ingress = optObj(targets?.ingress, 'spec.targets.ingress');
      if (ingress !== undefined) restrictNamespaceSelector(ingress, 'namespaceSelector', 'spec.targets.ingress', ns, opts, warnings);
    } else {
      restrictNamespaceSelector(spec, 'namespaceSelector', 'spec', ns, opts, warnings);
    }
  }
  if (o.kind === 'VMScrapeConfig' || o.kind === 'ScrapeConfig') restrictSdNamespaces(spec, ns, opts, warnings);

  const enforcement = enforcementRules(opts.label, ns, opts.reservedLabels);
  const enforcementCrd = enforcementRulesCrd(opts.label, ns, opts.reservedLabels);
  for (const site of sitesOf(o.kind, spec)) {
    const h = site.holder;
    if (h.honorLabels === true) {
      const why = 'honorLabels: true lets scraped series keep their own labels over the target labels';
      if (!neutralise) throw unsafe(`${site.path}.honorLabels`, `${why}; refused (use --unsafe=neutralise to force it to false)`);
      warnings.push(`${site.path}.honorLabels: ${why}; forced to false`);
      h.honorLabels = false;
    }
    if (site.relabelKey !== undefined) {
      const f = `${site.path}.${site.relabelKey}`;
      const list = arr(h[site.relabelKey], f);
      list.forEach((r, i) => normaliseRelabel(r, `${f}[${i}]`, opts.flavor));
      h[site.relabelKey] = [...stripEnforcementTail(list, enforcement, opts.flavor), ...clone(enforcementCrd)];
    }
    if (site.metricKey !== undefined) {
      const f = `${site.path}.${site.metricKey}`;
      const list = stripEnforcementTail(arr(h[site.metricKey], f), enforcement, opts.flavor);
      const kept = checkMetricRelabels(list, f, opts.label, opts.flavor, neutralise, warnings);
      h[site.metricKey] = [...kept, ...clone(enforcementCrd)];
    }
  }
  return o;
}
