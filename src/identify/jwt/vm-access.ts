// The `vm_access` claim, accepted in vmauth's format and in vmgateway's older format, normalised
// into one immutable VmAccess. Everything here may be attacker-influenced only through a token
// that already passed signature verification, but the values end up in backend URLs and headers,
// so types and characters are checked strictly.

export type VmAccessMode = 'full' | 'read' | 'write';

export interface VmAccess {
  readonly metricsAccountId: number;
  readonly metricsProjectId: number;
  /** `name=value` pairs, name a valid Prometheus label name. */
  readonly metricsExtraLabels: readonly string[];
  readonly metricsExtraFilters: readonly string[];
  readonly logsAccountId: number;
  readonly logsProjectId: number;
  readonly logsExtraFilters: readonly string[];
  readonly logsExtraStreamFilters: readonly string[];
  /**
   * Whether the claim named a metrics tenant (`metrics_account_id` or `tenant_id`) / a logs tenant
   * (`logs_account_id`). The ids read 0 when absent (vmauth's placeholder value), but an absent
   * tenant never scopes a request: enforcement and tenant placeholders refuse it.
   */
  readonly metricsTenantGiven: boolean;
  readonly logsTenantGiven: boolean;
  readonly logsProjectGiven: boolean;
  /** vmgateway's `mode`: 0 (or 3) full, 1 read, 2 write. vmauth-format claims are always `full`. */
  readonly mode: VmAccessMode;
  /** Where the values came from: the token's claim or the section's `default_vm_access_claim`. */
  readonly source: 'token' | 'default';
}

export type VmAccessParse = { readonly ok: true; readonly access: VmAccess } | { readonly ok: false; readonly detail: string };

const VMAUTH_KEYS = [
  'metrics_account_id', 'metrics_project_id', 'metrics_extra_labels', 'metrics_extra_filters',
  'logs_account_id', 'logs_project_id', 'logs_extra_filters', 'logs_extra_stream_filters',
] as const;
const VMGATEWAY_KEYS = ['tenant_id', 'extra_labels', 'extra_filters', 'mode'] as const;
const KNOWN_KEYS: ReadonlySet<string> = new Set<string>([...VMAUTH_KEYS, ...VMGATEWAY_KEYS]);

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
// C0 controls and DEL are never legitimate in a filter or label and are what header/URL
// injection needs (CR, LF, NUL), so they are refused wherever a string is accepted.
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;
const MAX_UINT32 = 0xffff_ffff;

class VmAccessInvalid extends Error {}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function uint32(obj: Record<string, unknown>, key: string, path: string): number | undefined {
  if (!Object.hasOwn(obj, key)) return undefined;
  const v = obj[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_UINT32) {
    throw new VmAccessInvalid(`${path}${key} must be an integer in [0, ${MAX_UINT32}]`);
  }
  return v;
}

function safeString(v: unknown, where: string): string {
  if (typeof v !== 'string') throw new VmAccessInvalid(`${where} must be a string`);
  if (CONTROL_CHARS.test(v)) throw new VmAccessInvalid(`${where} contains a control character`);
  return v;
}

function stringList(obj: Record<string, unknown>, key: string): string[] | undefined {
  if (!Object.hasOwn(obj, key)) return undefined;
  const v = obj[key];
  if (v === null) return [];
  if (!Array.isArray(v)) throw new VmAccessInvalid(`${key} must be an array of strings`);
  return v.map((item, i) => safeString(item, `${key}[${i}]`));
}

function labelPair(pair: string, where: string): string {
  const eq = pair.indexOf('=');
  const name = eq < 0 ? pair : pair.slice(0, eq);
  if (eq < 0) throw new VmAccessInvalid(`${where} must be "name=value"`);
  if (!LABEL_NAME.test(name)) throw new VmAccessInvalid(`${where} has an invalid label name`);
  return pair;
}

function parseMode(v: unknown): VmAccessMode {
  if (v === 0 || v === 3) return 'full';
  if (v === 1) return 'read';
  if (v === 2) return 'write';
  throw new VmAccessInvalid('mode must be 0 (full), 1 (read), 2 (write) or 3 (read and write)');
}

function freezeList(list: string[] | undefined): readonly string[] {
  return Object.freeze(list ?? []);
}

function normalise(obj: Record<string, unknown>, source: VmAccess['source']): VmAccess {
  for (const key of Object.keys(obj)) {
    // A misspelt key would silently mean "tenant 0, no filters"; refuse instead.
    if (!KNOWN_KEYS.has(key)) throw new VmAccessInvalid(`unknown field ${JSON.stringify(key)}`);
  }

  let metricsAccountId = uint32(obj, 'metrics_account_id', '');
  let metricsTenantGiven = metricsAccountId !== undefined;
  let metricsProjectId = uint32(obj, 'metrics_project_id', '');
  let metricsExtraLabels = stringList(obj, 'metrics_extra_labels')?.map((p, i) => labelPair(p, `metrics_extra_labels[${i}]`));
  let metricsExtraFilters = stringList(obj, 'metrics_extra_filters');

  // vmgateway format: folded into the metrics fields; both formats for the same field is ambiguous.
  if (Object.hasOwn(obj, 'tenant_id')) {
    const tenant = obj['tenant_id'];
    if (!isPlainObject(tenant)) throw new VmAccessInvalid('tenant_id must be an object');
    for (const key of Object.keys(tenant)) {
      if (key !== 'account_id' && key !== 'project_id') throw new VmAccessInvalid(`tenant_id: unknown field ${JSON.stringify(key)}`);
    }
    const givenAccount = uint32(tenant, 'account_id', 'tenant_id.');
    metricsTenantGiven ||= givenAccount !== undefined;
    const accountId = givenAccount ?? 0;
    const projectId = uint32(tenant, 'project_id', 'tenant_id.') ?? 0;
    if ((metricsAccountId !== undefined && metricsAccountId !== accountId) || (metricsProjectId !== undefined && metricsProjectId !== projectId)) {
      throw new VmAccessInvalid('tenant_id disagrees with metrics_account_id/metrics_project_id');
    }
    metricsAccountId = accountId;
    metricsProjectId = projectId;
  }
  if (Object.hasOwn(obj, 'extra_labels')) {
    if (metricsExtraLabels !== undefined) throw new VmAccessInvalid('extra_labels and metrics_extra_labels are both set');
    const labels = obj['extra_labels'];
    if (!isPlainObject(labels)) throw new VmAccessInvalid('extra_labels must be an object of label name to string value');
    metricsExtraLabels = Object.entries(labels).map(([name, value]) => {
      if (!LABEL_NAME.test(name)) throw new VmAccessInvalid(`extra_labels has an invalid label name ${JSON.stringify(name)}`);
      return `${name}=${safeString(value, `extra_labels.${name}`)}`;
    });
  }
  if (Object.hasOwn(obj, 'extra_filters')) {
    if (metricsExtraFilters !== undefined) throw new VmAccessInvalid('extra_filters and metrics_extra_filters are both set');
    metricsExtraFilters = stringList(obj, 'extra_filters');
  }
  const mode = Object.hasOwn(obj, 'mode') ? parseMode(obj['mode']) : 'full';
  const logsAccountId = uint32(obj, 'logs_account_id', '');
  const logsProjectId = uint32(obj, 'logs_project_id', '');

  return Object.freeze({
    metricsAccountId: metricsAccountId ?? 0,
    metricsProjectId: metricsProjectId ?? 0,
    metricsExtraLabels: freezeList(metricsExtraLabels),
    metricsExtraFilters: freezeList(metricsExtraFilters),
    metricsTenantGiven,
    logsTenantGiven: logsAccountId !== undefined,
    logsProjectGiven: logsProjectId !== undefined,
    logsAccountId: logsAccountId ?? 0,
    logsProjectId: logsProjectId ?? 0,
    logsExtraFilters: freezeList(stringList(obj, 'logs_extra_filters')),
    logsExtraStreamFilters: freezeList(stringList(obj, 'logs_extra_stream_filters')),
    mode,
    source,
  });
}

/**
 * Normalises a `vm_access` value. Tokens may carry it as an object or as a JSON-encoded string
 * (some identity providers only allow string custom claims); `default_vm_access_claim` is an object.
 */
export function parseVmAccess(raw: unknown, source: VmAccess['source']): VmAccessParse {
  try {
    let value = raw;
    if (typeof value === 'string') {
      try {
        value = JSON.parse(value);
      } catch {
        return { ok: false, detail: 'vm_access is a string but not valid JSON' };
      }
    }
    if (!isPlainObject(value)) return { ok: false, detail: 'vm_access must be an object or a JSON object string' };
    return { ok: true, access: normalise(value, source) };
  } catch (err) {
    if (err instanceof VmAccessInvalid) return { ok: false, detail: `vm_access: ${err.message}` };
    throw err;
  }
}
