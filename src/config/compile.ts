// Turns a validated raw config into the immutable routing snapshot (model.ts), applying
// vmauth's rules: credential exclusivity, duplicate credentials, url_map requirements,
// option inheritance from user to url_map entries, header parsing, anchored RE2 regexes.
import { IpFilter, IpFilterEntryError } from '../authorize/ip-filter.ts';
import { pinningArgs, TENANT_SELECTING_HEADERS, type RouteGuard, type TenantDefaults } from '../authorize/route-guard.ts';
import { Backend, BackendSet, type LoadBalancingPolicy } from '../forward/backend-set.ts';
import { BackendTlsFileError, getDispatcher, type BackendTlsOptions, type PoolSettings } from '../forward/dispatchers.ts';
import { BackendDiscovery } from '../forward/discovery.ts';
import { resolverFor } from '../forward/discovery-resolver.ts';
import { tcpProbe } from '../forward/health-probe.ts';
import { parseQuery, unescape } from '../lib/go-url.ts';
import { compileWholeMatch, RegexError } from '../lib/regex.ts';
import { authTokenKey, basicKey, bearerTokenKey, credentialDigest } from '../identify/credentials.ts';
import {
  compileHeaders, compileUrlPrefix, createJwtAuthenticator, JwtConfigError, JwtPlaceholderConfigError, rejectPlaceholders,
  type JwtAuthenticator, type JwtLogger, type JwtSectionInput,
} from '../identify/jwt/index.ts';
import { FieldError, formatPath, type ConfigPath } from './errors.ts';
import { compileTenantPolicy } from '../enforce/tenant/compile.ts';
import { xxhash64 } from '../observe/xxhash64.ts';
import { TrustedProxies } from '../authorize/real-ip.ts';
import { withCredentialsStripped } from '../forward/credential-headers.ts';
import { HashedPasswordUsers, isBcryptHash } from '../identify/password-hash.ts';
import { compileLimits, LimitsFieldError, type RateLimits } from '../limit/config.ts';
import type { CompiledConfig, CompiledRoute, CompiledUser, HeaderMatcher, HeaderOp, MtlsUser, QueryArgMatcher, RouteOptions, UserKind } from './model.ts';
import type { RawAuthConfig, RawIpFilters, RawUrlMap, RawUser } from './schema.ts';

/** Global defaults that come from command-line flags. */
export interface CompileDefaults {
  readonly retryStatusCodes: readonly number[];
  readonly loadBalancingPolicy: string;
  readonly mergeQueryArgs: readonly string[];
  readonly maxConcurrentPerUserRequests: number;
  readonly failTimeoutMs: number;
  readonly backendTls: BackendTlsOptions;
  readonly pool: PoolSettings;
  /** -discoverBackendIPs, -discoverBackendIPsInterval, -backend.dnsServer; discovery is off when absent. */
  readonly discovery?: { readonly enabled: boolean; readonly intervalMs: number; readonly dnsServer: string };
  /** Receives JWT key-refresh warnings; JWT users need it. */
  readonly jwtLogger?: JwtLogger;
  /** -tenantDefaults; `secure` when absent. */
  readonly tenantDefaults?: TenantDefaults;
  /** Lower-case headers credentials are read from (-httpAuthHeader, default Authorization); removed before forwarding. */
  readonly credentialHeaders?: readonly string[];
  /** -httpRealIPTrustedProxies: proxies whose real-IP header is believed when a filter names none. */
  readonly trustedProxies?: TrustedProxies | null;
  /** /metrics needs a key or Basic auth: token users may then be labelled as vmauth labels them. */
  readonly metricsProtected?: boolean;
}

/** A VictoriaMetrics cluster tenant in a url_prefix path: `/select/0/…`, `/insert/1:2/…`, `/select/{{.MetricsTenant}}/…`. */
const CLUSTER_TENANT_PATH = /\/(?:select|insert|delete)\/(?:\d+(?::\d+)?|\{\{[^}]*\}\})(?:\/|$)/;
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const LABEL_NAME = /^[a-zA-Z_:.][a-zA-Z0-9_:.]*$/;
// Control characters other than tab would let a config value split a header line.
const BAD_HEADER_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;

function parseHeader(raw: string, path: ConfigPath): { name: string; value: string } {
  const n = raw.indexOf(':');
  if (n < 0) throw new FieldError(path, `missing separator ':' between name and value in header ${JSON.stringify(raw)}; expected "Name: Value"`);
  const name = raw.slice(0, n).trim();
  const value = raw.slice(n + 1).trim();
  if (!HEADER_NAME.test(name)) throw new FieldError(path, `invalid header name ${JSON.stringify(name)}`);
  if (BAD_HEADER_VALUE.test(value)) throw new FieldError(path, `header ${name} has a control character in its value`);
  return { name, value };
}

function headerOps(list: readonly string[] | undefined, path: ConfigPath): HeaderOp[] {
  return (list ?? []).map((raw, i) => {
    const { name, value } = parseHeader(raw, [...path, i]);
    return { name, lower: name.toLowerCase(), value };
  });
}

function regexes(list: readonly string[] | undefined, path: ConfigPath) {
  return (list ?? []).map((p, i) => {
    try { return compileWholeMatch(p); } catch (err) {
      if (err instanceof RegexError) throw new FieldError([...path, i], err.message);
      throw err;
    }
  });
}

function queryArgMatchers(list: readonly string[] | undefined, path: ConfigPath): QueryArgMatcher[] {
  return (list ?? []).map((raw, i) => {
    const n = raw.indexOf('=');
    if (n <= 0) throw new FieldError([...path, i], `invalid query arg matcher ${JSON.stringify(raw)}; expected "arg=value" or "arg=~regex"`);
    const name = raw.slice(0, n);
    const expr = raw.slice(n + 1);
    try {
      const value = expr.startsWith('~') ? compileWholeMatch(expr.slice(1)) : exactMatcher(expr);
      return { name, value };
    } catch (err) {
      if (err instanceof RegexError) throw new FieldError([...path, i], err.message);
      throw err;
    }
  });
}

const exactMatcher = (s: string) => ({ source: s, test: (v: string) => v === s });

function headerMatchers(list: readonly string[] | undefined, path: ConfigPath): HeaderMatcher[] {
  return (list ?? []).map((raw, i) => {
    const { name, value } = parseHeader(raw, [...path, i]);
    return { lower: name.toLowerCase(), value };
  });
}

function ipFilter(raw: RawIpFilters | undefined, path: ConfigPath, d: CompileDefaults): IpFilter | null {
  if (raw === undefined) return null;
  try {
    const trusted = raw.trusted_proxies !== undefined && raw.trusted_proxies.length > 0 ? new TrustedProxies(raw.trusted_proxies) : null;
    // A real-IP header believed from anyone is a header the client writes: refuse rather than trust it.
    if (raw.real_ip_header && trusted === null && (d.trustedProxies ?? null) === null) {
      throw new FieldError([...path, 'real_ip_header'], 'real_ip_header needs trusted_proxies (or -httpRealIPTrustedProxies): the IPs/CIDRs of the proxies that set it; from anyone else the header is ignored');
    }
    return new IpFilter(raw.allow_list ?? [], raw.deny_list ?? [], raw.real_ip_header ?? null, trusted);
  } catch (err) {
    if (err instanceof IpFilterEntryError) throw new FieldError([...path, err.listName, err.index], err.message);
    throw err;
  }
}

function policy(raw: string | undefined, fallback: string, path: ConfigPath): LoadBalancingPolicy {
  const p = raw ?? fallback;
  if (p === '' || p === 'least_loaded') return 'least_loaded';
  if (p === 'first_available') return 'first_available';
  throw new FieldError(path, `unexpected load_balancing_policy ${JSON.stringify(p)}; want least_loaded or first_available`);
}

function statusCodes(list: readonly number[], path: ConfigPath): Set<number> {
  list.forEach((c, i) => {
    if (c < 100 || c > 599) throw new FieldError([...path, i], `invalid HTTP status code ${c}; expected 100..599`);
  });
  return new Set(list);
}

interface Inherited {
  readonly retryStatusCodes: readonly number[];
  readonly policy: string;
  readonly mergeQueryArgs: readonly string[];
  readonly dropParts: number;
  readonly tls: BackendTlsOptions;
  /** discover_backend_ips of the user (or -discoverBackendIPs). */
  readonly discover: boolean;
  readonly userHeaders: readonly HeaderOp[];
  /** forward_credentials of the user, used by routes that set none. */
  readonly forwardCredentials: boolean;
  /** The user's `tenant:` section and its path, used by routes that set none. */
  readonly tenant: { readonly raw: unknown; readonly path: ConfigPath } | null;
}

class Compiler {
  readonly sets: BackendSet[] = [];
  readonly defaults: CompileDefaults;
  constructor(defaults: CompileDefaults) { this.defaults = defaults; }

  backendSet(urls: readonly string[], pol: LoadBalancingPolicy, retry: ReadonlySet<number>, tls: BackendTlsOptions, path: ConfigPath, jwt: boolean, discover = false): BackendSet {
    const d = this.defaults;
    const resolver = resolverFor(d.discovery?.dnsServer ?? '');
    const targets = urls.map((u, i) => {
      const p = urls.length === 1 ? path : [...path, i];
      return { ...parseUrlPrefix(u, p), template: jwt ? placeholderTemplate(u, p) : noPlaceholders(u, p) };
    });
    let set: BackendSet;
    try {
      const probe = tcpProbe(resolver);
      if (discover) {
        const source = new BackendDiscovery(targets, { intervalMs: d.discovery?.intervalMs ?? 10_000, resolver, tls, pool: d.pool, log: d.jwtLogger });
        set = new BackendSet(source.initial, pol, retry, d.failTimeoutMs, { probe, source });
      } else {
        set = new BackendSet(targets.map((t) => new Backend(t, getDispatcher(t.origin, tls, d.pool, { resolver }))), pol, retry, d.failTimeoutMs, { probe });
      }
    } catch (err) {
      if (err instanceof BackendTlsFileError) throw new FieldError(path, err.message);
      throw err;
    }
    this.sets.push(set);
    return set;
  }

  routeOptions(raw: RawUser | RawUrlMap, inh: Inherited, path: ConfigPath, urls: readonly string[], isMapEntry: boolean, jwt: boolean): RouteOptions {
    const own = headerOps(raw.headers, [...path, 'headers']);
    // tenantgate difference: a user's top-level headers also apply to its url_map routes unless the
    // route sets the same header. vmauth drops them there, which has let users pick any
    // VictoriaLogs tenant by routing through a url_map entry (AccountID set only at user level).
    const requestHeaders = withCredentialsStripped(isMapEntry
      ? [...inh.userHeaders.filter((u) => !own.some((o) => o.lower === u.lower)), ...own]
      : own, this.defaults.credentialHeaders ?? ['authorization'], raw.forward_credentials ?? inh.forwardCredentials);
    const dropParts = Math.max(0, raw.drop_src_path_prefix_parts ?? inh.dropParts);
    const hasTenant = raw.tenant !== undefined || inh.tenant !== null;
    const guard = this.routeGuard(raw, urls, path, dropParts, hasTenant, requestHeaders);
    const host = requestHeaders.find((h) => h.lower === 'host');
    const retry = raw.retry_status_codes ?? inh.retryStatusCodes;
    return {
      backends: this.backendSet(urls, policy(raw.load_balancing_policy, inh.policy, [...path, 'load_balancing_policy']),
        statusCodes(retry, [...path, 'retry_status_codes']), inh.tls, [...path, 'url_prefix'], jwt, raw.discover_backend_ips ?? inh.discover),
      requestHeaders: [...requestHeaders.filter((h) => h.lower !== 'host'), ...guard.dropHeaders],
      headerTemplate: headerTemplate([...requestHeaders.filter((h) => h.lower !== 'host'), ...guard.dropHeaders], [...path, 'headers'], jwt),
      responseHeaders: responseHeaderOps(raw.response_headers, [...path, 'response_headers']),
      hostOverride: host !== undefined && host.value !== '' ? host.value : null,
      keepOriginalHost: raw.keep_original_host ?? false,
      mergeQueryArgs: new Set(raw.merge_query_args !== undefined && raw.merge_query_args.length > 0 ? raw.merge_query_args : inh.mergeQueryArgs),
      dropSrcPathPrefixParts: Math.max(0, raw.drop_src_path_prefix_parts ?? inh.dropParts),
      ipFilter: ipFilter(raw.ip_filters, [...path, 'ip_filters'], this.defaults),
      guard: guard.check,
      // The policy classifies the path the backend will see, after drop_src_path_prefix_parts.
      tenant: tenantPolicy(raw.tenant !== undefined ? { raw: raw.tenant, path: [...path, 'tenant'] } : inh.tenant, Math.max(0, raw.drop_src_path_prefix_parts ?? inh.dropParts)),
    };
  }

  /**
   * deny_paths of a url_map entry, and the secure defaults of a route whose url_prefix fixes the
   * tenant (pinned extra_label/extra_filters, or a cluster tenant in its path): its client's
   * tenant-selecting headers are dropped, and a pinned route refuses unscoped endpoints.
   */
  routeGuard(raw: RawUser | RawUrlMap, urls: readonly string[], path: ConfigPath, dropParts: number, hasTenant: boolean, own: readonly HeaderOp[]): { check: RouteGuard | null; dropHeaders: HeaderOp[] } {
    const denyPaths = 'deny_paths' in raw ? regexes(raw.deny_paths, [...path, 'deny_paths']) : [];
    const secure = (this.defaults.tenantDefaults ?? 'secure') === 'secure';
    const parsed = urls.map((u, i) => parseUrlPrefix(u, urls.length === 1 ? [...path, 'url_prefix'] : [...path, 'url_prefix', i]));
    const args = [...new Set(parsed.flatMap((p) => pinningArgs(p.query)))];
    const fixed = args.length > 0 || parsed.some((p) => CLUSTER_TENANT_PATH.test(p.basePath));
    const dropHeaders: HeaderOp[] = secure && !hasTenant && fixed
      ? TENANT_SELECTING_HEADERS.filter((n) => !own.some((o) => o.lower === n.toLowerCase())).map((n) => ({ name: n, lower: n.toLowerCase(), value: '' }))
      : [];
    const tenant = secure && !hasTenant && args.length > 0 ? { args, basePaths: [...new Set(parsed.map((p) => p.basePath))], dropParts } : null;
    return { check: denyPaths.length > 0 || tenant !== null ? { denyPaths, tenant } : null, dropHeaders };
  }

  user(raw: RawUser, path: ConfigPath, kind: UserKind): CompiledUser {
    const jwt = kind === 'jwt';

    const d = this.defaults;
    const tls: BackendTlsOptions = {
      caFile: raw.tls_ca_file || d.backendTls.caFile,
      certFile: raw.tls_cert_file || d.backendTls.certFile,
      keyFile: raw.tls_key_file || d.backendTls.keyFile,
      serverName: raw.tls_server_name || d.backendTls.serverName,
      insecureSkipVerify: raw.tls_insecure_skip_verify ?? d.backendTls.insecureSkipVerify,
    };
    for (const [field, flag, value] of [['tls_ca_file', 'backend.TLSCAFile', tls.caFile], ['tls_cert_file', 'backend.TLSCertFile', tls.certFile], ['tls_key_file', 'backend.TLSKeyFile', tls.keyFile]] as const) {
      // Current vmauth can also download these from http(s) URLs; tenantgate reads local files only
      // (and re-reads them when they change), so a URL is refused rather than read as a path.
      if (/^https?:\/\//i.test(value)) {
        const fromFlag = raw[field] === undefined || raw[field] === '';
        throw new FieldError(fromFlag ? path : [...path, field], `${fromFlag ? `-${flag}` : field} is an http(s) URL (${JSON.stringify(value.split('?')[0])}); tenantgate reads TLS material from local files only: download it to a file (e.g. a mounted Secret) and give its path`);
      }
    }
    const userHeaders = headerOps(raw.headers, [...path, 'headers']);
    const inh: Inherited = {
      forwardCredentials: raw.forward_credentials ?? false,
      retryStatusCodes: raw.retry_status_codes ?? d.retryStatusCodes,
      policy: raw.load_balancing_policy ?? d.loadBalancingPolicy,
      mergeQueryArgs: raw.merge_query_args !== undefined && raw.merge_query_args.length > 0 ? raw.merge_query_args : d.mergeQueryArgs,
      dropParts: raw.drop_src_path_prefix_parts ?? 0,
      tls,
      discover: raw.discover_backend_ips ?? d.discovery?.enabled ?? false,
      userHeaders,
      tenant: raw.tenant !== undefined ? { raw: raw.tenant, path: [...path, 'tenant'] } : null,
    };
    const routes: CompiledRoute[] = (raw.url_map ?? []).map((e, i) => {
      const p = [...path, 'url_map', i];
      if (!e.src_paths?.length && !e.src_hosts?.length && !e.src_query_args?.length && !e.src_headers?.length) {
        throw new FieldError(p, 'missing `src_paths`, `src_hosts`, `src_query_args` and `src_headers` in `url_map`; set at least one');
      }
      if (e.url_prefix === undefined) throw new FieldError(p, 'missing `url_prefix` in `url_map`');
      return {
        index: i,
        srcPaths: regexes(e.src_paths, [...p, 'src_paths']),
        srcHosts: regexes(e.src_hosts, [...p, 'src_hosts']),
        srcQueryArgs: queryArgMatchers(e.src_query_args, [...p, 'src_query_args']),
        srcHeaders: headerMatchers(e.src_headers, [...p, 'src_headers']),
        ...this.routeOptions(e, inh, p, e.url_prefix, true, jwt),
      };
    });
    const fallback = raw.url_prefix !== undefined ? this.routeOptions(raw, inh, path, raw.url_prefix, false, jwt) : null;
    const defaultHeaders = withCredentialsStripped(userHeaders.filter((h) => h.lower !== 'host'), d.credentialHeaders ?? ['authorization'], inh.forwardCredentials);
    // default_url keeps vmauth's behaviour: the user's headers, no retries, least_loaded.
    const defaultUrl = raw.default_url !== undefined ? {
      backends: this.backendSet(raw.default_url, 'least_loaded', new Set(), tls, [...path, 'default_url'], jwt),
      requestHeaders: defaultHeaders,
      headerTemplate: headerTemplate(defaultHeaders, [...path, 'headers'], jwt),
      responseHeaders: responseHeaderOps(raw.response_headers, [...path, 'response_headers']),
      hostOverride: userHeaders.find((h) => h.lower === 'host' && h.value !== '')?.value ?? null,
      keepOriginalHost: raw.keep_original_host ?? false,
      mergeQueryArgs: new Set<string>(),
      dropSrcPathPrefixParts: 0,
      ipFilter: null,
      guard: null,
      tenant: tenantPolicy(inh.tenant, 0),
    } : null;
    const hasAnyUrls = fallback !== null || routes.length > 0 || defaultUrl !== null;
    if (kind !== 'unauthorized' && routes.length === 0 && fallback === null) {
      throw new FieldError(path, 'missing `url_prefix` or `url_map`');
    }

    const metricName = kind === 'unauthorized' ? '' : raw.name || raw.username || (jwt ? 'jwt' : tokenHashName(raw, typeof path[1] === 'number' ? path[1] : 0, d.metricsProtected ?? false));
    const metricLabels: Record<string, string> = {};
    if (metricName !== '') metricLabels['username'] = metricName;
    for (const [k, v] of Object.entries(raw.metric_labels ?? {})) {
      if (!LABEL_NAME.test(k)) throw new FieldError([...path, 'metric_labels', k], `invalid label name ${JSON.stringify(k)}; must match ${LABEL_NAME.source}`);
      metricLabels[k] = v;
    }
    const mcr = raw.max_concurrent_requests !== undefined && raw.max_concurrent_requests > 0 ? raw.max_concurrent_requests : d.maxConcurrentPerUserRequests;
    return deepFreeze({
      kind,
      metricName,
      logName: metricName === '' ? 'unauthorized' : metricName,
      metricLabels,
      routes,
      fallback,
      defaultUrl,
      hasAnyUrls,
      maxConcurrentRequests: mcr,
      dumpRequestOnErrors: raw.dump_request_on_errors ?? false,
      accessLog: raw.access_log !== undefined ? { skipStatusCodes: new Set(raw.access_log.filters?.skip_status_codes ?? []) } : null,
      ipFilter: ipFilter(raw.ip_filters, [...path, 'ip_filters'], this.defaults),
      limits: userLimits(raw, path, metricName === '' ? 'unauthorized' : metricName, [...routes, fallback, defaultUrl].some((r) => r?.tenant?.decodesWrites === true)),
    });
  }
}

/**
 * The metric and log name of a token user without `name`. vmauth uses an unsalted xxhash of the
 * token, which anyone who can read /metrics can test guesses against offline; tenantgate uses
 * vmauth's label only when /metrics needs a key or Basic auth, and otherwise the user's position
 * in the config (`bearer_token:users[3]`), which says nothing about the token.
 */
function tokenHashName(raw: RawUser, index: number, metricsProtected: boolean): string {
  const kind = raw.bearer_token ? 'bearer_token' : raw.auth_token ? 'auth_token' : null;
  if (kind === null) return '';
  if (!metricsProtected) return `${kind}:users[${index}]`;
  const h = xxhash64(new TextEncoder().encode((raw.bearer_token || raw.auth_token) as string));
  return `${kind}:hash:${h.toString(16).toUpperCase().padStart(16, '0')}`;
}

function userLimits(raw: RawUser, path: ConfigPath, name: string, decodesWrites: boolean): RateLimits | null {
  if (raw.limits === undefined) return null;
  let limits: RateLimits | null;
  try {
    limits = compileLimits(raw.limits, `user:${name}`);
  } catch (err) {
    if (err instanceof LimitsFieldError) throw new FieldError([...path, 'limits', err.field], err.message);
    throw err;
  }
  // A samples limit that no route can count would be silently ineffective.
  if (limits?.writeSamples != null && !decodesWrites) {
    throw new FieldError([...path, 'limits', 'write_samples_per_second'], 'samples are counted only where tenantgate decodes remote writes: a route of this user needs a `tenant:` section with enforce: promql (the default) that allows writes; otherwise limit write_bytes_per_second');
  }
  return limits;
}

/** Users that share a budget (same `limits.key`, or same name) must agree on its limits. */
function checkSharedBudgets(users: readonly { user: CompiledUser; path: ConfigPath }[]): void {
  const seen = new Map<string, { signature: string; path: ConfigPath }>();
  for (const { user, path } of users) {
    const l = user.limits;
    if (l === null) continue;
    const prev = seen.get(l.key);
    if (prev === undefined) { seen.set(l.key, { signature: l.signature, path }); continue; }
    if (prev.signature !== l.signature) {
      throw new FieldError([...path, 'limits'], `this user shares the budget ${JSON.stringify(l.key)} with ${formatPath(prev.path)} but sets different limits; set the same limits, or give one of them its own limits.key`);
    }
  }
}


/** Go's url.Parse for a url_prefix, plus vmauth's sanitizeURLPrefix checks. */
export function parseUrlPrefix(raw: string, path: ConfigPath) {
  let u: URL;
  try { u = new URL(raw); } catch {
    throw new FieldError(path, `cannot parse ${JSON.stringify(raw)} as a URL; expected e.g. http://host:8428/ or https://host/prefix`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new FieldError(path, `unsupported scheme ${JSON.stringify(u.protocol.slice(0, -1))} in ${JSON.stringify(raw)}; must be http or https`);
  }
  // WHATWG URL reads `http:///path` as host "path"; Go's url.Parse (vmauth) sees no host there.
  if (u.hostname === '' || !/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]/.test(raw)) throw new FieldError(path, `missing hostname in ${JSON.stringify(raw)}`);
  if (u.username !== '' || u.password !== '') throw new FieldError(path, 'credentials inside url_prefix are not supported; set an Authorization header via `headers`');
  // Keep the raw query exactly as written: vmauth forwards it byte for byte when the client sends none.
  const noFragment = raw.split('#')[0] as string;
  const q = noFragment.indexOf('?');
  const rawQuery = q < 0 ? '' : noFragment.slice(q + 1);
  const rawPath = (q < 0 ? noFragment : noFragment.slice(0, q)).replace(/^[a-zA-Z]+:\/\/[^/]*/, '');
  const basePath = unescape(rawPath, false);
  if (basePath === null) throw new FieldError(path, `invalid percent-encoding in the path of ${JSON.stringify(raw)}`);
  return {
    origin: u.origin,
    host: u.host,
    basePath,
    rawQuery,
    query: parseQuery(rawQuery),
    display: raw,
  };
}

function collectCredentialKeys(raw: RawUser, path: ConfigPath): { kind: UserKind; keys: string[] } {
  if (raw.jwt !== undefined) {
    for (const f of ['username', 'password', 'bearer_token', 'auth_token'] as const) {
      if (raw[f]) throw new FieldError([...path, f], `${f} cannot be combined with jwt in one user; JWT users are identified by their token only`);
    }
    return { kind: 'jwt', keys: [] };
  }
  if (raw.auth_token) {
    if (raw.bearer_token) throw new FieldError([...path, 'bearer_token'], 'bearer_token cannot be specified if auth_token is set');
    if (raw.username || raw.password) throw new FieldError([...path, 'username'], 'username and password cannot be specified if auth_token is set');
    return { kind: 'auth_token', keys: [authTokenKey(raw.auth_token)] };
  }
  if (raw.bearer_token) {
    if (raw.username || raw.password) throw new FieldError([...path, 'username'], 'username and password cannot be specified if bearer_token is set');
    // Like vmauth, a bearer token is also accepted as a Basic auth username with an empty password.
    return { kind: 'bearer', keys: [bearerTokenKey(raw.bearer_token), basicKey(raw.bearer_token, '')] };
  }
  if (raw.username && raw.password_hash !== undefined) {
    if (raw.password !== undefined) throw new FieldError([...path, 'password_hash'], 'set either password or password_hash, not both');
    if (!isBcryptHash(raw.password_hash)) throw new FieldError([...path, 'password_hash'], 'expected a bcrypt hash ($2a$, $2b$ or $2y$ followed by cost and 53 characters), e.g. from `htpasswd -nbBC 10 user password`');
    return { kind: 'basic', keys: [] };
  }
  if (raw.password_hash !== undefined) throw new FieldError([...path, 'password_hash'], 'password_hash needs username');
  if (raw.username) return { kind: 'basic', keys: [basicKey(raw.username, raw.password ?? '')] };
  if (raw.mtls !== undefined) {
    for (const f of ['username', 'password', 'bearer_token', 'auth_token'] as const) {
      if (raw[f]) throw new FieldError([...path, f], `${f} cannot be combined with mtls in one user; mTLS users are identified by their client certificate`);
    }
    const m = raw.mtls;
    if (!m.organizational_unit && !m.organization && !m.common_name) throw new FieldError([...path, 'mtls'], 'set at least one of organizational_unit, organization, common_name');
    return { kind: 'mtls', keys: [] };
  }
  throw new FieldError(path, 'missing authorization options; set username (with password), bearer_token or auth_token');
}

export function compileConfig(raw: RawAuthConfig, source: string, defaults: CompileDefaults): CompiledConfig {
  const c = new Compiler(defaults);
  const byCredential = new Map<string, CompiledUser>();
  const owner = new Map<string, number>();
  const users: CompiledUser[] = [];
  const jwtSections: JwtSectionInput[] = [];
  const jwtUsers = new Map<number, CompiledUser>();
  const mtlsUsers: MtlsUser[] = [];
  const hashed = new Map<string, { hash: string; user: CompiledUser }>();
  (raw.users ?? []).forEach((u, i) => {
    const path = ['users', i];
    const { kind, keys } = collectCredentialKeys(u, path);
    const user = c.user(u, path, kind);
    if (u.password_hash !== undefined && u.username !== undefined) {
      // Hashes are salted, so equal credentials cannot be detected; equal usernames would be ambiguous.
      if (hashed.has(u.username)) throw new FieldError([...path, 'username'], `username ${JSON.stringify(u.username)} is used by another user with password_hash; usernames of hashed-password users must be unique`);
      hashed.set(u.username, { hash: u.password_hash, user });
    }
    if (kind === 'mtls' && u.mtls !== undefined) {
      mtlsUsers.push({ organizationalUnit: u.mtls.organizational_unit || null, organization: u.mtls.organization || null, commonName: u.mtls.common_name || null, user });
    }
    if (kind === 'jwt') {
      jwtSections.push({ index: i, name: u.name ?? '', jwt: u.jwt as JwtSectionInput['jwt'] });
      jwtUsers.set(i, user);
    }
    for (const k of keys) {
      const digest = credentialDigest(k);
      const prev = owner.get(digest);
      if (prev !== undefined) {
        // The credential itself is never echoed: error messages end up in logs.
        throw new FieldError(path, `duplicate credentials: users[${i}] (${user.logName}) has the same credentials as users[${prev}]; every user needs unique credentials`);
      }
      owner.set(digest, i);
      byCredential.set(digest, user);
    }
    users.push(user);
  });

  let unauthorizedUser: CompiledUser | null = null;
  if (raw.unauthorized_user !== undefined) {
    const uu = raw.unauthorized_user;
    for (const field of ['username', 'password', 'bearer_token', 'auth_token', 'name', 'jwt', 'mtls'] as const) {
      if (uu[field] !== undefined && uu[field] !== '') {
        throw new FieldError(['unauthorized_user', field], `field ${field} can't be specified for unauthorized_user section`);
      }
    }
    unauthorizedUser = c.user(uu, ['unauthorized_user'], 'unauthorized');
  }

  checkSharedBudgets([...users.map((user, i) => ({ user, path: ['users', i] as ConfigPath })), ...(unauthorizedUser !== null ? [{ user: unauthorizedUser, path: ['unauthorized_user'] as ConfigPath }] : [])]);
  const jwt = jwtSections.length > 0 ? { authenticator: buildAuthenticator(jwtSections, defaults), users: jwtUsers } : null;
  return deepFreeze({
    source,
    jwt,
    mtlsUsers,
    hashedPasswordUsers: new HashedPasswordUsers(hashed),
    usersByCredential: byCredential,
    users,
    unauthorizedUser,
    ipFilter: ipFilter(raw.ip_filters, ['ip_filters'], defaults),
    backendSets: c.sets,
  });
}

/** Freezes plain objects and arrays; class instances (backend sets, matchers' closures) keep their own rules. */
function deepFreeze<T>(o: T): T {
  if (o === null || typeof o !== 'object' || Object.isFrozen(o)) return o;
  const proto = Object.getPrototypeOf(o);
  if (proto !== Object.prototype && proto !== Array.prototype) return o;
  Object.freeze(o);
  for (const v of Object.values(o as object)) deepFreeze(v);
  return o;
}

function tenantPolicy(t: { readonly raw: unknown; readonly path: ConfigPath } | null, dropSrcPathPrefixParts: number) {
  return t === null ? null : compileTenantPolicy(t.raw, t.path, { dropSrcPathPrefixParts });
}

function buildAuthenticator(sections: readonly JwtSectionInput[], defaults: CompileDefaults): JwtAuthenticator {
  const logger: JwtLogger = defaults.jwtLogger ?? { warn: () => {}, info: () => {} };
  try {
    return createJwtAuthenticator(sections, { logger });
  } catch (err) {
    if (err instanceof JwtConfigError) {
      const field = err.field.split('.').flatMap((p) => p.split(/\[(\d+)\]/).filter((x) => x !== '').map((x) => (/^\d+$/.test(x) ? Number(x) : x)));
      throw new FieldError(err.sectionIndex === undefined ? [] : ['users', err.sectionIndex, ...field], err.message.replace(/^users\[\d+\]\.[^:]*: /, ''));
    }
    throw err;
  }
}

function placeholderTemplate(url: string, path: ConfigPath) {
  try { return compileUrlPrefix(url); } catch (err) {
    if (err instanceof JwtPlaceholderConfigError) throw new FieldError(path, err.message);
    throw err;
  }
}

/** Placeholders only make sense for JWT users; elsewhere they would be sent literally. */
function noPlaceholders(text: string, path: ConfigPath): null {
  try { rejectPlaceholders(text, 'url_prefix'); } catch (err) {
    if (err instanceof JwtPlaceholderConfigError) throw new FieldError(path, err.message);
    throw err;
  }
  return null;
}

function headerTemplate(ops: readonly HeaderOp[], path: ConfigPath, jwt: boolean) {
  if (!jwt) {
    ops.forEach((o) => noPlaceholders(o.value, path));
    return null;
  }
  try {
    const t = compileHeaders(ops.map((o) => [o.name, o.value] as const));
    return t.hasPlaceholders ? t : null;
  } catch (err) {
    if (err instanceof JwtPlaceholderConfigError) throw new FieldError(path, err.message);
    throw err;
  }
}

function responseHeaderOps(list: readonly string[] | undefined, path: ConfigPath): HeaderOp[] {
  const ops = headerOps(list, path);
  ops.forEach((o, i) => noPlaceholders(o.value, [...path, i]));
  return ops;
}
