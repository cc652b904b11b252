// Name validators: Kubernetes DNS names and Prometheus label names.

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const PROM_LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** A namespace name: DNS-1123 label, at most 63 characters. */
export function isDns1123Label(s: unknown): s is string {
  return typeof s === 'string' && s.length > 0 && s.length <= 63 && DNS1123_LABEL.test(s);
}

/** An object name: DNS-1123 subdomain, at most 253 characters (never contains "/"). */
export function isDns1123Subdomain(s: unknown): s is string {
  return typeof s === 'string' && s.length > 0 && s.length <= 253 && DNS1123_SUBDOMAIN.test(s);
}

export function isPromLabelName(s: unknown): s is string {
  return typeof s === 'string' && PROM_LABEL.test(s);
}

/** The operators' rule for turning a Kubernetes label key into a Prometheus label name. */
export function sanitizeLabelName(name: string): string {
  return name.replace(/[^a-zA-Z0-9_]/g, '_');
}
