// The `tenant:` section of a user or url_map entry: validated strictly (unknown keys are errors)
// and normalised into a TenantConfig. The YAML arrives parsed with the core schema, so numbers
// are numbers and booleans booleans. Errors name the offending field.
import { z } from 'zod';
import { FieldError, type ConfigPath } from '../../config/errors.ts';
import { MAX_WRITE_ARGS, victoriaLogsHeaderFor, writeArgProblem } from './write-args.ts';
import { boundsSchema, compileBounds, type TenantBounds } from './bounds.ts';

export type EnforceKind = 'promql' | 'victoriametrics' | 'victorialogs';
export type TenantMode = 'read' | 'write' | 'read_write';

export interface LogsTenantConfig {
  readonly accountId: number | null;
  readonly projectId: number | null;
  readonly extraFilters: readonly string[];
  readonly extraStreamFilters: readonly string[];
  /** `name=value` pairs for `extra_fields` on inserts, sorted by name. */
  readonly extraFields: readonly (readonly [string, string])[];
}

export interface TenantConfig {
  /** label → values (de-duplicated, sorted); several values mean "one of". */
  readonly labels: ReadonlyMap<string, readonly string[]>;
  readonly filters: readonly string[];
  readonly mode: TenantMode;
  readonly enforce: EnforceKind;
  readonly logs: LogsTenantConfig | null;
  /** RE2 patterns matched against the whole normalised path; forwarded without content enforcement. */
  readonly allowPaths: readonly string[];
  /** VictoriaMetrics cluster tenant a client path may name (`/select/<t>/…`), as `account:project`. */
  readonly clusterTenant: { readonly accountId: number; readonly projectId: number } | null;
  readonly maxBodyBytes: number;
  readonly maxResponseBytes: number;
  /** promql: also show unpinned alerting rules that have alerts of the tenant (filterRulesResponse). */
  readonly rulesWithTenantAlerts: boolean;
  /** Client query args forwarded on writes (every other client arg is dropped). */
  readonly writeArgs: ReadonlySet<string>;
  /** victorialogs: lower-case `VL-*` header forms of writeArgs, forwarded on inserts. */
  readonly writeHeaders: ReadonlySet<string>;
  /** promql: a user matcher that excludes every tenant value selects nothing (`empty`) or is a 400 (`error`). */
  readonly onConflict: 'empty' | 'error';
  /** Bounds on the work one request may cost (docs/limits.md). */
  readonly bounds: TenantBounds;
}

export const DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024;
export const DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const FIELD_NAME = /^[^\s=,]+$/;
// Values end up in query args and headers; control characters are never legitimate there.
const CONTROL = /[\u0000-\u001f\u007f]/;

const safeText = (what: string) => z.string({ error: `expected ${what}` })
  .min(1, { error: `${what} must not be empty` })
  .refine((s) => !CONTROL.test(s), { error: `${what} must not contain control characters` })
  .refine((s) => s.isWellFormed(), { error: `${what} must be valid Unicode` });

const labelValue = z.union([safeText('a label value'), z.number().finite().transform(String)], { error: 'expected a string (or number) label value' });
const labelValues = z.union([labelValue.transform((v) => [v]), z.array(labelValue, { error: 'expected a list of label values' }).min(1, { error: 'must list at least one value' })], {
  error: 'expected a label value or a non-empty list of values',
});
const uint32 = z.number({ error: 'expected an integer' }).int({ error: 'expected an integer' }).min(0, { error: 'must be >= 0' }).max(0xffff_ffff, { error: 'must be <= 4294967295' });
const positiveInt = z.number({ error: 'expected a number of bytes' }).int({ error: 'expected an integer' }).min(1, { error: 'must be positive' }).max(2 ** 31 - 1, { error: 'must be below 2 GiB' });

const logsSchema = z.strictObject({
  account_id: uint32.optional(),
  project_id: uint32.optional(),
  extra_filters: z.array(safeText('a LogsQL filter')).optional(),
  extra_stream_filters: z.array(safeText('a LogsQL stream filter')).optional(),
  extra_fields: z.record(z.string().regex(FIELD_NAME, { error: 'field names must not contain whitespace, "=" or ","' }),
    z.union([safeText('a field value'), z.number().finite().transform(String)]).refine((v) => !v.includes(','), { error: 'field values must not contain ","' })).optional(),
}, { error: 'expected a mapping with account_id, project_id, extra_filters, extra_stream_filters, extra_fields' });

const schema = z.strictObject({
  labels: z.record(z.string().regex(LABEL_NAME, { error: 'label names must match [a-zA-Z_][a-zA-Z0-9_]*' })
    .refine((n) => !n.startsWith('__'), { error: 'label names starting with "__" are reserved' }), labelValues).optional(),
  filters: z.array(safeText('a series selector'), { error: 'expected a list of series selectors' }).optional(),
  mode: z.enum(['read', 'write', 'read_write'], { error: 'expected read, write or read_write' }).optional(),
  enforce: z.enum(['promql', 'victoriametrics', 'victorialogs'], { error: 'expected promql, victoriametrics or victorialogs' }).optional(),
  logs: logsSchema.optional(),
  allow_paths: z.array(z.string({ error: 'expected a regex string' }), { error: 'expected a list of path regexes' }).optional(),
  cluster_tenant: z.union([z.string(), z.number()]).transform((v, ctx) => {
    const m = /^(\d+)(?::(\d+))?$/.exec(String(v));
    const a = m ? Number(m[1]) : NaN;
    const p = m?.[2] !== undefined ? Number(m[2]) : 0;
    if (!m || a > 0xffff_ffff || p > 0xffff_ffff) {
      ctx.addIssue({ code: 'custom', message: 'expected "accountID" or "accountID:projectID" (integers)' });
      return z.NEVER;
    }
    return { accountId: a, projectId: p };
  }).optional(),
  max_body_size: positiveInt.optional(),
  max_response_size: positiveInt.optional(),
  rules_with_tenant_alerts: z.boolean({ error: 'expected true or false' }).optional(),
  write_args: z.array(z.string({ error: 'expected an arg name' }).superRefine((name, ctx) => {
    const problem = writeArgProblem(name);
    if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
  }), { error: 'expected a list of query arg names' }).max(MAX_WRITE_ARGS, { error: `at most ${MAX_WRITE_ARGS} names` })
    .refine((names) => new Set(names).size === names.length, { error: 'a name is listed twice' }).optional(),
  on_conflict: z.enum(['empty', 'error'], { error: 'expected empty or error' }).optional(),
  bounds: boundsSchema.optional(),
}, { error: 'expected a mapping (see docs/tenancy.md)' });

/** Validates a raw `tenant:` value; throws FieldError at the offending field. */
export function parseTenantConfig(raw: unknown, path: ConfigPath): TenantConfig {
  const r = schema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const where = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0] ?? ''] : issue.path;
    const msg = issue.code === 'unrecognized_keys' ? `unknown field ${JSON.stringify(issue.keys[0])}`
      // A record key that fails its schema: the key's own message says what is wrong with it.
      : issue.code === 'invalid_key' ? (issue.issues[0]?.message ?? issue.message)
      : issue.message;
    throw new FieldError([...path, ...(where as (string | number)[])], msg);
  }
  const d = r.data;
  const enforce = d.enforce ?? 'promql';
  const labels = new Map<string, string[]>();
  for (const [name, values] of Object.entries(d.labels ?? {})) labels.set(name, [...new Set(values)].sort());
  if (enforce === 'victorialogs') {
    if (d.filters !== undefined) throw new FieldError([...path, 'filters'], 'filters are series selectors for metrics; use logs.extra_filters / logs.extra_stream_filters with enforce: victorialogs');
    if (d.labels !== undefined) throw new FieldError([...path, 'labels'], 'labels apply to metrics; with enforce: victorialogs the tenant is logs.account_id / logs.project_id (and logs.extra_stream_filters)');
  } else {
    if (d.logs !== undefined) throw new FieldError([...path, 'logs'], `logs applies only to enforce: victorialogs (this section has enforce: ${enforce})`);
  }
  if (d.cluster_tenant !== undefined && enforce !== 'victoriametrics') {
    throw new FieldError([...path, 'cluster_tenant'], 'cluster_tenant applies only to enforce: victoriametrics');
  }
  if (d.rules_with_tenant_alerts !== undefined && enforce !== 'promql') {
    throw new FieldError([...path, 'rules_with_tenant_alerts'], 'rules_with_tenant_alerts applies only to enforce: promql');
  }
  if (d.on_conflict !== undefined && enforce !== 'promql') {
    // VictoriaMetrics ANDs extra_label with the query itself, but tenantgate does not parse MetricsQL to spot a conflict.
    throw new FieldError([...path, 'on_conflict'], 'on_conflict applies only to enforce: promql (VictoriaMetrics answers conflicting queries with an empty result)');
  }
  const logs = d.logs === undefined ? null : {
    accountId: d.logs.account_id ?? null,
    projectId: d.logs.project_id ?? null,
    extraFilters: d.logs.extra_filters ?? [],
    extraStreamFilters: d.logs.extra_stream_filters ?? [],
    extraFields: Object.entries(d.logs.extra_fields ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  };
  return {
    labels,
    filters: d.filters ?? [],
    mode: d.mode ?? 'read_write',
    enforce,
    logs,
    allowPaths: d.allow_paths ?? [],
    clusterTenant: d.cluster_tenant ?? null,
    maxBodyBytes: d.max_body_size ?? DEFAULT_MAX_BODY_BYTES,
    maxResponseBytes: d.max_response_size ?? DEFAULT_MAX_RESPONSE_BYTES,
    rulesWithTenantAlerts: d.rules_with_tenant_alerts ?? false,
    writeArgs: new Set(d.write_args ?? []),
    writeHeaders: new Set(enforce === 'victorialogs' ? (d.write_args ?? []).map(victoriaLogsHeaderFor) : []),
    onConflict: d.on_conflict ?? 'empty',
    bounds: compileBounds(d.bounds),
  };
}

export { schema as tenantSectionSchema };
