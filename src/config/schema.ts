// The shape of vmauth's -auth.config (plus tenantgate's extension keys), validated strictly:
// unknown keys are errors, as yaml.UnmarshalStrict makes them in vmauth. The YAML is read with
// the failsafe schema, so every scalar arrives as its exact source text and is converted here —
// `password: 0123` stays "0123", as Go's yaml.v2 decodes it into a string field.
import { z } from 'zod';
import { jwtSectionSchema } from '../identify/jwt/config-schema.ts';
import { tenantSectionSchema } from '../enforce/tenant/config.ts';
import { checkedLater, editorHints } from './editor-hints.ts';
import { limitsSchema } from '../limit/config.ts';

const text = z.string({ error: 'expected a string' }).register(editorHints, { scalar: 'text' });

const int = z.string({ error: 'expected an integer' })
  .regex(/^[+-]?\d+$/, { error: 'expected an integer' })
  .transform(Number)
  .register(editorHints, { scalar: 'integer' });

const BOOLS: Record<string, boolean> = {
  true: true, yes: true, on: true, y: true,
  false: false, no: false, off: false, n: false,
};
// Spelled without the `i` flag so that JSON Schema's `pattern` (which has no flags) says the same.
const anyCase = (word: string) => [...word].map((c) => `[${c.toLowerCase()}${c.toUpperCase()}]`).join('');
const BOOL_WORD = new RegExp(`^(?:${Object.keys(BOOLS).map(anyCase).join('|')})$`);
const bool = z.string({ error: 'expected true or false' })
  .regex(BOOL_WORD, { error: 'expected true or false' })
  .transform((s) => BOOLS[s.toLowerCase()] as boolean)
  .register(editorHints, { scalar: 'boolean' });

/** An empty YAML value (`key:`) means "not set", as a nil pointer in Go. */
const absentIfEmpty = (v: unknown) => (v === '' || v === 'null' || v === '~' ? undefined : v);
const opt = <T extends z.ZodType>(t: T) => z.preprocess(absentIfEmpty, t.optional()).register(editorHints, { emptyMeansUnset: true });
const list = <T extends z.ZodType>(t: T) => z.array(t, { error: 'expected a list' });

/** `url_prefix` / `default_url`: one URL or a non-empty list. */
const urlList = z.union([text.transform((s) => [s]), list(text).min(1, { error: '`url_prefix` must contain at least a single url' })], {
  error: 'expected a URL string or a list of URL strings',
});

const ipFilters = z.strictObject({
  allow_list: opt(list(text)).describe('IPs or CIDRs allowed; empty or absent: everyone not denied.'),
  deny_list: opt(list(text)).describe('IPs or CIDRs refused; deny wins over allow.'),
  real_ip_header: opt(text).describe('Take the client IP from this header instead of the TCP peer, when the peer is one of trusted_proxies.'),
  trusted_proxies: opt(list(text)).describe('tenantgate: proxies (IPs/CIDRs) whose real_ip_header is believed; the client is the right-most address that is not one of them.'),
}, { error: 'expected a mapping with allow_list, deny_list, real_ip_header and trusted_proxies' });

const accessLog = z.strictObject({
  filters: opt(z.strictObject({ skip_status_codes: opt(list(int)) })),
}, { error: 'expected a mapping (use `access_log: {}` to log every request)' });

/** Options shared by a user and a url_map entry. */
const routeOptions = {
  url_prefix: opt(urlList).describe('Backend URL, or a list of backend URLs to balance over. Query args in it are enforced on every request.'),
  discover_backend_ips: opt(bool).describe('Resolve url_prefix hostnames to all their addresses (srv+ hosts to their SRV targets) and balance over them. Default: -discoverBackendIPs.'),
  headers: opt(list(text)).describe('Request headers to set, as "Name: value" ("Name:" removes the header).'),
  response_headers: opt(list(text)).describe('Response headers to set, as "Name: value" ("Name:" removes the header).'),
  keep_original_host: opt(bool).describe("Send the client's Host header instead of the backend's."),
  retry_status_codes: opt(list(int)).describe('Backend statuses that make a request retry at the next backend. Default: -retryStatusCodes.'),
  load_balancing_policy: opt(z.enum(['least_loaded', 'first_available'], {
    error: (iss) => `unexpected load_balancing_policy ${JSON.stringify(iss.input)}; want least_loaded or first_available`,
  })).describe('How a backend is chosen from url_prefix. Default: -loadBalancingPolicy.'),
  merge_query_args: opt(list(text)).describe('Client query args merged with (instead of replaced by) same-named url_prefix args. Default: -mergeQueryArgs.'),
  drop_src_path_prefix_parts: opt(int).describe('/-separated parts removed from the request path before it is appended to url_prefix.'),
  ip_filters: opt(ipFilters).describe('Client IP filters checked after the user is identified.'),
  forward_credentials: opt(bool).describe('tenantgate: pass the client credential headers on to the backend (removed by default).'),
  /** tenantgate extension: tenant enforcement (src/enforce/tenant); validated by its own compiler. */
  tenant: opt(checkedLater(tenantSectionSchema, 'tenant')).describe('tenantgate: tenant enforcement (PromQL, VictoriaMetrics, VictoriaLogs); see docs/tenancy.md.'),
};

export const urlMapSchema = z.strictObject({
  src_paths: opt(list(text)).describe('RE2 regexes matched against the whole, normalised request path.'),
  src_hosts: opt(list(text)).describe('RE2 regexes matched against the whole Host header.'),
  src_query_args: opt(list(text)).describe('"arg=value" (exact) or "arg=~regex" (RE2, whole value).'),
  src_headers: opt(list(text)).describe('"Name: value"; any line of that header with exactly that value matches.'),
  /** vmauth ≥ 1.152: paths refused (403) even though the entry's src_* matched. */
  deny_paths: opt(list(text)).describe('RE2 regexes of paths refused with 403 although the entry matched.'),
  ...routeOptions,
}, { error: 'expected a url_map entry (a mapping)' });

const mtls = z.strictObject({
  organizational_unit: opt(text),
  organization: opt(text),
  common_name: opt(text),
});

export const userSchema = z.strictObject({
  name: opt(text).describe('The username label of per-user metrics and the name in logs.'),
  username: opt(text).describe('Basic auth user name.'),
  password: opt(text).describe('Basic auth password.'),
  /** tenantgate: bcrypt hash of the password instead of the plaintext. */
  password_hash: opt(text).describe('tenantgate: bcrypt hash of the password, instead of password.'),
  bearer_token: opt(text).describe('Token accepted as "Authorization: Bearer <t>", "Token <t>", or Basic auth with the token as user name.'),
  auth_token: opt(text).describe('The exact Authorization header value.'),
  jwt: opt(checkedLater(jwtSectionSchema, 'jwt')).describe('JWT/OIDC identification; see docs/jwt-oidc.md.'),
  mtls: opt(mtls).describe('Identify the user by the verified client certificate (needs -tls -mtls).'),
  url_map: opt(list(urlMapSchema)).describe('Routes tried in order; the first match wins.'),
  default_url: opt(urlList).describe('Backend(s) for requests no route matches; the original path and query are passed as request_path.'),
  dump_request_on_errors: opt(bool).describe('Add host, path, args and headers (credentials masked) to "missing route" errors.'),
  max_concurrent_requests: opt(int).describe('Per-user concurrency limit. Default: -maxConcurrentPerUserRequests.'),
  tls_ca_file: opt(text).describe('CA file for HTTPS backends. Default: -backend.TLSCAFile.'),
  tls_cert_file: opt(text).describe('Client certificate file for HTTPS backends. Default: -backend.TLSCertFile.'),
  tls_key_file: opt(text).describe('Client key file for HTTPS backends. Default: -backend.TLSKeyFile.'),
  tls_server_name: opt(text).describe('Server name checked on HTTPS backends. Default: -backend.TLSServerName.'),
  tls_insecure_skip_verify: opt(bool).describe('Do not verify HTTPS backend certificates. Default: -backend.tlsInsecureSkipVerify.'),
  metric_labels: opt(z.record(z.string(), text)).describe('Extra labels on per-user metrics.'),
  access_log: opt(accessLog).describe('Log each request of this user ("access_log: {}" logs every request).'),
  limits: opt(limitsSchema).describe('tenantgate: rate limits and a concurrent-query limit for this user; see docs/limits.md.'),
  ...routeOptions,
}, { error: 'expected a user (a mapping)' });

export const authConfigSchema = z.strictObject({
  users: opt(list(userSchema)).describe('Users identified by credentials, a client certificate or a JWT.'),
  unauthorized_user: opt(userSchema).describe('Serves requests without credentials, or whose credentials match no user.'),
  ip_filters: opt(ipFilters).describe('Client IP filters applied to every request before authentication.'),
}, { error: 'expected a mapping with `users`, `unauthorized_user` and `ip_filters`' });

export type RawAuthConfig = z.infer<typeof authConfigSchema>;
export type RawUser = z.infer<typeof userSchema>;
export type RawUrlMap = z.infer<typeof urlMapSchema>;
export type RawIpFilters = z.infer<typeof ipFilters>;
