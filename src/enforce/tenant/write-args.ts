// What of a client's write request reaches the backend besides the body: on every write endpoint
// of every `enforce` kind, only the query args the operator allows by name (`tenant.write_args`);
// the tenant's own args are set by the enforcer afterwards. A backend may read a tenant from an
// arg (vminsert's `extra_label` overrides labels in the body) or from a header, so an unknown arg
// is dropped rather than trusted.
import type { IncomingHttpHeaders } from 'node:http';
import { parseQuery, type QueryValues } from '../../lib/go-url.ts';

/**
 * Arg names that select or stamp a tenant on some backend, or drop what the gateway stamps.
 * They are set by the gateway only; `write_args` may not list them (compared lower-case).
 */
export const TENANT_ARG_NAMES: ReadonlySet<string> = new Set([
  'extra_label', 'extra_labels', 'extra_filters', 'extra_filters[]', 'extra_stream_filters', 'extra_stream_filters[]',
  'extra_fields', 'ignore_fields', 'accountid', 'projectid', 'account_id', 'project_id', 'tenant', 'tenant_id', 'tenantid',
  'orgid', 'org_id', 'x-scope-orgid',
]);

/** Client headers that select a tenant on some backend; never forwarded from a tenant-scoped client. */
export const TENANT_HEADERS = [
  'accountid', 'projectid', 'x-scope-orgid', 'thanos-tenant', 'vl-extra-fields', 'vl-extra-filters', 'vl-extra-stream-filters',
] as const;

/** At most this many names in `write_args`. */
export const MAX_WRITE_ARGS = 32;
const ARG_NAME = /^[A-Za-z0-9_.\-[\]]{1,64}$/;

/** Why `name` cannot be in `write_args`, or null when it can. */
export function writeArgProblem(name: string): string | null {
  if (!ARG_NAME.test(name)) return 'expected an arg name of 1-64 characters from [A-Za-z0-9_.-[]]';
  if (TENANT_ARG_NAMES.has(name.toLowerCase())) return `${name} selects or stamps the tenant; the gateway sets it from the tenant section and never takes it from a client`;
  return null;
}

/** The client's args with only the allowed names kept (Go's parsing rules, as the backend reads them). */
export function allowedWriteArgs(rawQuery: string, allowed: ReadonlySet<string>): QueryValues {
  const url = parseQuery(rawQuery);
  for (const k of [...url.keys()]) if (!allowed.has(k)) url.delete(k);
  return url;
}

/** VictoriaLogs reads each ingestion arg also from a `VL-…` header: `_msg_field` ↔ `VL-Msg-Field`. */
export function victoriaLogsHeaderFor(arg: string): string {
  return `vl-${arg.replace(/^_+/, '').replaceAll('_', '-').toLowerCase()}`;
}

/** Lower-case names of the client's `VL-*` headers whose arg is not allowed, plus the tenant headers. */
export function victoriaLogsWriteHeadersToDrop(headers: IncomingHttpHeaders, allowedHeaders: ReadonlySet<string>): string[] {
  const out: string[] = [...TENANT_HEADERS];
  for (const name of Object.keys(headers)) {
    if (name.startsWith('vl-') && !allowedHeaders.has(name) && !out.includes(name)) out.push(name);
  }
  return out;
}
