// The Kubernetes monitoring objects tenantgate understands, and validation of their envelope
// (apiVersion, kind, metadata). Spec contents are checked by the per-family hardeners.
import { z } from 'zod';
import { IsolationError, badObject } from './errors.ts';
import { isDns1123Label, isDns1123Subdomain } from './names.ts';

export type Family = 'scrape' | 'rules' | 'alertmanager';
/** `vm`: VictoriaMetrics operator CRD field names; `po`: prometheus-operator CRD field names. */
export type Dialect = 'vm' | 'po';

export interface KindInfo {
  readonly family: Family;
  readonly dialect: Dialect;
  readonly group: string;
}

const VM = 'operator.victoriametrics.com';
const PO = 'monitoring.coreos.com';

export const KINDS: Readonly<Record<string, KindInfo>> = {
  VMServiceScrape: { family: 'scrape', dialect: 'vm', group: VM },
  VMPodScrape: { family: 'scrape', dialect: 'vm', group: VM },
  VMNodeScrape: { family: 'scrape', dialect: 'vm', group: VM },
  VMStaticScrape: { family: 'scrape', dialect: 'vm', group: VM },
  VMProbe: { family: 'scrape', dialect: 'vm', group: VM },
  VMScrapeConfig: { family: 'scrape', dialect: 'vm', group: VM },
  VMRule: { family: 'rules', dialect: 'vm', group: VM },
  VMAlertmanagerConfig: { family: 'alertmanager', dialect: 'vm', group: VM },
  ServiceMonitor: { family: 'scrape', dialect: 'po', group: PO },
  PodMonitor: { family: 'scrape', dialect: 'po', group: PO },
  Probe: { family: 'scrape', dialect: 'po', group: PO },
  ScrapeConfig: { family: 'scrape', dialect: 'po', group: PO },
  PrometheusRule: { family: 'rules', dialect: 'po', group: PO },
  AlertmanagerConfig: { family: 'alertmanager', dialect: 'po', group: PO },
};

export interface MonitoringObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace: string; readonly [k: string]: unknown };
  readonly spec: Record<string, unknown>;
  readonly [k: string]: unknown;
}

const envelope = z.object({
  apiVersion: z.string().min(1),
  kind: z.string().min(1),
  metadata: z.looseObject({
    name: z.string().optional(),
    namespace: z.string().optional(),
  }),
  spec: z.record(z.string(), z.unknown()),
}).loose();

export function kindInfo(kind: string): KindInfo | undefined {
  return Object.hasOwn(KINDS, kind) ? KINDS[kind] : undefined;
}

/**
 * Checks the envelope of `value` and returns it typed. `namespaceOverride` is the namespace the
 * object really lives in (the AdmissionRequest namespace); an object claiming another namespace
 * in its metadata is refused, never trusted.
 */
export function parseObject(value: unknown, namespaceOverride?: string): MonitoringObject {
  const parsed = envelope.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.map(String).join('.');
    throw badObject(field, `${issue.message} (expected a Kubernetes object with apiVersion, kind, metadata and spec)`);
  }
  const obj = parsed.data;
  const info = kindInfo(obj.kind);
  if (info === undefined) {
    throw badObject('kind', `unsupported kind "${obj.kind}" (supported: ${Object.keys(KINDS).join(', ')})`);
  }
  const group = obj.apiVersion.split('/')[0];
  if (group !== info.group) {
    throw badObject('apiVersion', `${obj.kind} must have apiVersion in group ${info.group}, got "${obj.apiVersion}"`);
  }
  const name = obj.metadata.name;
  if (!isDns1123Subdomain(name)) {
    throw badObject('metadata.name', `"${String(name ?? '')}" is not a valid object name (DNS-1123 subdomain)`);
  }
  let namespace = obj.metadata.namespace;
  if (namespaceOverride !== undefined) {
    if (namespace !== undefined && namespace !== '' && namespace !== namespaceOverride) {
      throw new IsolationError('ERR_ISOLATE_NAMESPACE', 'metadata.namespace', `object claims namespace "${namespace}" but is admitted in "${namespaceOverride}"`);
    }
    namespace = namespaceOverride;
  }
  if (namespace === undefined || namespace === '') {
    throw new IsolationError('ERR_ISOLATE_NAMESPACE', 'metadata.namespace', 'is empty: every object must name the namespace that owns it');
  }
  if (!isDns1123Label(namespace)) {
    throw new IsolationError('ERR_ISOLATE_NAMESPACE', 'metadata.namespace', `"${namespace}" is not a valid namespace (DNS-1123 label: lower-case alphanumerics and "-", at most 63 characters)`);
  }
  return { ...obj, metadata: { ...obj.metadata, name, namespace } } as MonitoringObject;
}
