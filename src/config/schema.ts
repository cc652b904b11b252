// The shape of vmauth's -auth.config (plus tenantgate's extension keys), validated strictly:
// unknown keys are errors, as yaml.UnmarshalStrict makes them in vmauth. The YAML is read with
// the failsafe schema, so every scalar arrives as its exact source text and is converted here —
// `password: 0123` stays "0123", as Go's yaml.v2 decodes it into a string field.
import { z } from 'zod';
import { limitsSchema } from '../limit/config.ts';

const text = z.string({ error: 'expected a string' });

const int = z.string({ error: 'expected an integer' })
  .regex(/^[+-]?\d+$/, { error: 'expected an integer' })
  .transform(Number);

const BOOLS: Record<string, boolean> = {
  true: true, yes: true, on: true, y: true,
  false: false, no: false, off: false, n: false,
};
const bool = z.string({ error: 'expected true or false' })
  .refine((s) => s.toLowerCase() in BOOLS, { error: 'expected true or false' })
  .transform((s) => BOOLS[s.toLowerCase()] as boolean);

/** An empty YAML value (`key:`) means "not set", as a nil pointer in Go. */
const absentIfEmpty = (v: unknown) => (v === '' || v === 'null' || v === '~' ? undefined : v);
const opt = <T extends z.ZodType>(t: T) => z.preprocess(absentIfEmpty, t.optional());
const list = <T extends z.ZodType>(t: T) => z.array(t, { error: 'expected a list' });

/** `url_prefix` / `default_url`: one URL or a non-empty list. */
const urlList = z.union([text.transform((s) => [s]), list(text).min(1, { error: '`url_prefix` must contain at least a single url' })], {
  error: 'expected a URL string or a list of URL strings',
});

const ipFilters = z.strictObject({
  allow_list: opt(list(text)),
  deny_list: opt(list(text)),
  real_ip_header: opt(text),
}, { error: 'expected a mapping with allow_list, deny_list and real_ip_header' });

const accessLog = z.strictObject({
  filters: opt(z.strictObject({ skip_status_codes: opt(list(int)) })),
}, { error: 'expected a mapping (use `access_log: {}` to log every request)' });

/** Options shared by a user and a url_map entry. */
const routeOptions = {
  url_prefix: opt(urlList),
  discover_backend_ips: opt(bool),
  headers: opt(list(text)),
  response_headers: opt(list(text)),
  keep_original_host: opt(bool),
  retry_status_codes: opt(list(int)),
  load_balancing_policy: opt(text),
  merge_query_args: opt(list(text)),
  drop_src_path_prefix_parts: opt(int),
  ip_filters: opt(ipFilters),
  /** tenantgate extension: tenant enforcement (src/enforce/tenant); validated by its own compiler. */
  tenant: opt(z.unknown()),
};

export const urlMapSchema = z.strictObject({
  src_paths: opt(list(text)),
  src_hosts: opt(list(text)),
  src_query_args: opt(list(text)),
  src_headers: opt(list(text)),
  ...routeOptions,
}, { error: 'expected a url_map entry (a mapping)' });

const mtls = z.strictObject({
  organizational_unit: opt(text),
  organization: opt(text),
  common_name: opt(text),
});

export const userSchema = z.strictObject({
  name: opt(text),
  username: opt(text),
  password: opt(text),
  /** tenantgate: bcrypt hash of the password instead of the plaintext. */
  password_hash: opt(text),
  bearer_token: opt(text),
  auth_token: opt(text),
  jwt: opt(z.unknown()),
  mtls: opt(mtls),
  url_map: opt(list(urlMapSchema)),
  default_url: opt(urlList),
  dump_request_on_errors: opt(bool),
  max_concurrent_requests: opt(int),
  tls_ca_file: opt(text),
  tls_cert_file: opt(text),
  tls_key_file: opt(text),
  tls_server_name: opt(text),
  tls_insecure_skip_verify: opt(bool),
  metric_labels: opt(z.record(z.string(), text)),
  access_log: opt(accessLog),
  /** tenantgate: rate limits and concurrent-query limit (src/limit/config.ts). */
  limits: opt(limitsSchema),
  ...routeOptions,
}, { error: 'expected a user (a mapping)' });

export const authConfigSchema = z.strictObject({
  users: opt(list(userSchema)),
  unauthorized_user: opt(userSchema),
  ip_filters: opt(ipFilters),
}, { error: 'expected a mapping with `users`, `unauthorized_user` and `ip_filters`' });

export type RawAuthConfig = z.infer<typeof authConfigSchema>;
export type RawUser = z.infer<typeof userSchema>;
export type RawUrlMap = z.infer<typeof urlMapSchema>;
export type RawIpFilters = z.infer<typeof ipFilters>;
