// Refusals the tenant policy hands back to the gateway. Reasons are stable snake_case metric
// labels; messages tell the client what was refused and why, never anything about other tenants.
import type { EnforceKind } from './config.ts';
import type { RefusalFormat, TenantRefusal } from './policy.ts';

export type TenantReason =
  | 'tenant_path_not_allowed'
  | 'tenant_admin_path'
  | 'tenant_logs_tenant_ids'
  | 'tenant_method_not_allowed'
  | 'tenant_mode_forbids_read'
  | 'tenant_mode_forbids_write'
  | 'tenant_cluster_path'
  | 'tenant_unscoped'
  | 'tenant_claims_conflict'
  | 'tenant_claims_invalid'
  | 'tenant_query_invalid'
  | 'tenant_duplicate_param'
  | 'tenant_missing_param'
  | 'tenant_body_unsupported'
  | 'tenant_multi_value_write'
  | 'tenant_remote_write_invalid'
  | 'tenant_remote_write_too_large'
  | 'tenant_silence_not_owned'
  | 'tenant_silence_update'
  | 'tenant_alerts_invalid'
  | 'tenant_alertmanager_unsafe'
  | 'tenant_alertmanager_unchecked'
  | 'tenant_query_conflict'
  | 'tenant_lookup_failed'

  // Bounds on the work of one request (bounds.ts), and the pool that runs large ones
  | 'tenant_body_too_large'
  | 'tenant_work_queue_full'
  | 'client_canceled'
  | 'tenant_bound_read_body'
  | 'tenant_bound_json_body'
  | 'tenant_bound_query_length'
  | 'tenant_bound_match_params'
  | 'tenant_bound_selectors'
  | 'tenant_bound_write_decoded'
  | 'tenant_bound_write_series'
  | 'tenant_bound_write_labels';

export function refuse(status: number, reason: TenantReason, message: string): TenantRefusal {
  return { kind: 'refuse', status, reason, message };
}

/** Thrown inside enforcers to abort with a refusal; caught once in the policy. */
export class TenantRefused extends Error {
  readonly refusal: TenantRefusal;
  constructor(status: number, reason: TenantReason, message: string) {
    super(message);
    this.refusal = refuse(status, reason, message);
  }
}

/** Prometheus-compatible read APIs (also under Mimir's /prometheus and vmselect's /select/<t>/prometheus). */
const PROMETHEUS_API = /^(?:\/select\/[^/]+)?(?:\/prometheus)?\/api\/v1\/(?!write$|push$|import(?:\/.*)?$)/;
const ALERTMANAGER_API = /^(?:\/alertmanager)?\/api\/v2\//;

/**
 * The error shape the client of `path` understands: Grafana and other Prometheus clients read
 * `{"status":"error",…}`, amtool and Alertmanager clients read `{"code":…,"message":…}`; write
 * endpoints and VictoriaLogs answer errors as text.
 */
export function refusalFormat(kind: EnforceKind, path: string): RefusalFormat {
  if (kind === 'victorialogs') return 'text';
  if (kind === 'promql' && ALERTMANAGER_API.test(path)) return 'alertmanager';
  return PROMETHEUS_API.test(path) ? 'prometheus' : 'text';
}

/** Prometheus' errorType for a status (its API has none for 403: "forbidden", as other proxies use). */
function errorType(status: number): string {
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 422) return 'execution';
  if (status === 503 || status === 502) return 'unavailable';
  if (status >= 500) return 'internal';
  return 'bad_data';
}

/** Content type and body of a refusal in the format its API speaks. */
export function refusalBody(r: TenantRefusal): { contentType: string; body: string } {
  switch (r.format ?? 'text') {
    case 'prometheus':
      return { contentType: 'application/json', body: JSON.stringify({ status: 'error', errorType: errorType(r.status), error: r.message }) };
    case 'alertmanager':
      return { contentType: 'application/json', body: JSON.stringify({ code: r.status, message: r.message }) };
    default:
      return { contentType: 'text/plain; charset=utf-8', body: r.message + '\n' };
  }
}
