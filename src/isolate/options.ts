// Options shared by the compiler (`tenantgate isolate`) and the admission webhook.
import { IsolationError } from './errors.ts';
import { isPromLabelName } from './names.ts';
import type { AlertPolicy } from './policy/load.ts';

/** Which operator's object semantics and which backend dialect to generate. */
export type Flavor = 'victoriametrics' | 'prometheus-operator';

/**
 * What to do with constructs that could remove or rewrite the enforced label after the final
 * relabel rule would be too late to fix them (metric relabelling, honor_labels, namespace selectors).
 * `reject` fails the object; `neutralise` rewrites it to the safe equivalent and records a warning.
 */
export type UnsafePolicy = 'reject' | 'neutralise';

export interface IsolateOptions {
  /** The enforced tenant label, e.g. `tenant` or `namespace`. */
  readonly label: string;
  readonly flavor: Flavor;
  readonly unsafe: UnsafePolicy;
  /**
   * Allow fields that make vmagent/Prometheus/Alertmanager read local files (bearerTokenFile,
   * tlsConfig.keyFile, file_sd_configs, http_config.*_file…). Off by default: a team could
   * otherwise send the scraper's own service-account token or keys to a target it controls.
   */
  readonly allowFileAccess: boolean;
  /**
   * Labels no tenant may set on its series, dropped after all user relabelling. Defaults to
   * vm_account_id/vm_project_id for the VictoriaMetrics flavour: vmagent routes series carrying
   * them to that VictoriaMetrics cluster tenant when writing to a multitenant endpoint.
   */
  readonly reservedLabels: readonly string[];
  /** The alert-definition policy (`--policy`), when one is configured. */
  readonly policy?: AlertPolicy;
}

export function defaultReservedLabels(flavor: Flavor): string[] {
  return flavor === 'victoriametrics' ? ['vm_account_id', 'vm_project_id'] : [];
}

export function makeOptions(partial: Partial<IsolateOptions> & { label: string }): IsolateOptions {
  const flavor = partial.flavor ?? 'victoriametrics';
  if (!isPromLabelName(partial.label) || partial.label.startsWith('__')) {
    throw new IsolationError('ERR_ISOLATE_USAGE', 'label', `"${partial.label}" is not a valid label name (expected [a-zA-Z_][a-zA-Z0-9_]*, not starting with __)`);
  }
  const reserved = partial.reservedLabels ?? defaultReservedLabels(flavor);
  for (const r of reserved) {
    if (!isPromLabelName(r)) throw new IsolationError('ERR_ISOLATE_USAGE', 'reservedLabels', `"${r}" is not a valid label name`);
    if (r === partial.label) throw new IsolationError('ERR_ISOLATE_USAGE', 'reservedLabels', `the enforced label "${r}" cannot also be reserved`);
  }
  return {
    label: partial.label,
    flavor,
    unsafe: partial.unsafe ?? 'reject',
    allowFileAccess: partial.allowFileAccess ?? false,
    reservedLabels: reserved,
    ...(partial.policy !== undefined ? { policy: partial.policy } : {}),
  };
}
