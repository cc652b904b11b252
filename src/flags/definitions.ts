// Every command-line flag tenantgate knows: vmauth's flags (same names, defaults and value syntax)
// plus tenantgate's own. A vmauth flag that tenantgate does not implement yet is still listed, so
// passing it fails loudly instead of being mistaken for a typo or silently ignored.

export type FlagKind = 'string' | 'secret' | 'bool' | 'int' | 'float' | 'duration' | 'bytes' | 'strings' | 'ints' | 'bools';

/**
 * supported: implemented.
 * planned:   a vmauth flag tenantgate does not implement yet; using it is an error.
 * no-effect: tunes Go runtime internals that do not exist in Node; accepted with a warning.
 */
export type FlagStatus = 'supported' | 'planned' | 'no-effect';

export interface FlagDefinition {
  readonly name: string;
  readonly kind: FlagKind;
  readonly default: string;
  readonly help: string;
  readonly status: FlagStatus;
}

const f = (name: string, kind: FlagKind, def: string, help: string, status: FlagStatus = 'supported'): FlagDefinition =>
  ({ name, kind, default: def, help, status });

export const FLAG_DEFINITIONS: readonly FlagDefinition[] = [
  // Configuration
  f('auth.config', 'string', '', 'Path or http(s) URL of the auth config (vmauth -auth.config YAML format).'),
  f('configCheckInterval', 'duration', '0s', 'Interval for re-reading -auth.config; 0 disables periodic re-reading (SIGHUP and /-/reload still work).'),
  f('dryRun', 'bool', 'false', 'Only validate -auth.config and exit: 0 when valid, 1 with the error otherwise.'),
  f('envflag.enable', 'bool', 'false', 'Read flags not given on the command line from environment variables (dots become underscores).'),
  f('envflag.prefix', 'string', '', 'Prefix of environment variable names read when -envflag.enable is set.'),
  f('version', 'bool', 'false', 'Print the version and exit.'),
  f('help', 'bool', 'false', 'Print every flag with its default and exit.'),

  // Listening
  f('httpListenAddr', 'strings', ':8427', 'TCP address(es) to accept proxied requests on.'),
  f('httpInternalListenAddr', 'strings', '', 'TCP address(es) serving /metrics, /health, /-/reload and /flags; when set, the main listener no longer serves them.'),
  f('httpListenAddr.useProxyProtocol', 'bools', 'false', 'Accept PROXY protocol v1/v2 headers on the corresponding -httpListenAddr (plain or -tls).'),
  f('http.pathPrefix', 'string', '', 'Serve every path (proxied and built-in) under this prefix, e.g. /vmauth/.'),
  f('http.idleConnTimeout', 'duration', '1m', 'Timeout for idle client keep-alive connections.'),
  f('http.connTimeout', 'duration', '2m', 'Close client connections (after their current response) once they are this old, so load spreads after scaling; 0 disables.'),
  f('http.maxGracefulShutdownDuration', 'duration', '7s', 'How long in-flight requests may run after SIGTERM before connections are closed.'),
  f('http.shutdownDelay', 'duration', '0s', 'Delay between SIGTERM and closing the listeners, during which /health answers 503.'),
  f('http.disableKeepAlive', 'bool', 'false', 'Close client connections after each response.'),
  f('http.disableCORS', 'bool', 'false', 'Do not answer OPTIONS requests with permissive CORS headers.'),
  f('http.disableResponseCompression', 'bool', 'false', 'tenantgate never compresses responses itself; accepted for compatibility.', 'no-effect'),
  f('http.header.hsts', 'string', '', 'Value of the Strict-Transport-Security response header.'),
  f('http.header.csp', 'string', '', 'Value of the Content-Security-Policy response header.'),
  f('http.header.frameOptions', 'string', '', 'Value of the X-Frame-Options response header.'),
  f('http.header.disableServerHostname', 'bool', 'false', 'Accepted for compatibility; tenantgate never sends X-Server-Hostname.', 'no-effect'),
  f('httpAuth.username', 'string', '', 'Basic auth username for /metrics, /flags and /-/reload when their auth key is unset.'),
  f('httpAuth.password', 'secret', '', 'Basic auth password for -httpAuth.username; file:///path reads it from a file.'),
  f('enableTCP6', 'bool', 'false', 'Listen on IPv6 too when -httpListenAddr has no host (otherwise IPv4 only, as VictoriaMetrics).'),
  f('tls', 'bools', 'false', 'Serve HTTPS on the corresponding -httpListenAddr.'),
  f('tlsCertFile', 'strings', '', 'TLS certificate file per -httpListenAddr; re-read when it changes.'),
  f('tlsKeyFile', 'strings', '', 'TLS key file per -httpListenAddr; re-read when it changes.'),
  f('tlsMinVersion', 'strings', '', 'Minimum TLS version per -httpListenAddr: TLS10, TLS11, TLS12, TLS13.'),
  f('tlsCipherSuites', 'strings', '', 'Allowed TLS 1.2 cipher suites by their Go names.'),
  f('mtls', 'bools', 'false', 'Require a client certificate verified by -mtlsCAFile on the corresponding -httpListenAddr.'),
  f('mtlsCAFile', 'strings', '', 'CA file for verifying client certificates; required with -mtls (the system roots are never trusted for client certificates).'),
  f('httpRealIPHeader', 'string', '', 'Header holding the real client IP for IP filters; read only from -httpRealIPTrustedProxies, right-most untrusted X-Forwarded-For hop.'),
  f('httpRealIPTrustedProxies', 'strings', '', 'tenantgate: IPs/CIDRs of the proxies whose -httpRealIPHeader / real_ip_header is believed; required when a real-IP header is set.'),

  // Authentication
  f('httpAuthHeader', 'strings', '', 'Request header(s) to read auth tokens from; default Authorization.'),
  f('logInvalidAuthTokens', 'bool', 'false', 'Log requests with invalid auth tokens (the token value itself is never logged).'),
  f('unauthorizedResponseDelay', 'duration', '2s', 'tenantgate: delay (plus up to 1s of jitter) before answering 401 to an invalid credential, against brute force; 0 disables.'),
  f('reloadAuthKey', 'secret', '', 'authKey query arg required by /-/reload; file:///path reads it from a file.'),
  f('metricsAuthKey', 'secret', '', 'authKey query arg required by /metrics; file:///path reads it from a file.'),
  f('flagsAuthKey', 'secret', '', 'authKey query arg required by /flags; file:///path reads it from a file.'),
  f('statusAuthKey', 'secret', '', 'tenantgate: authKey query arg required by the status page (/status) and /-/explain; without it they answer loopback clients only. file:///path reads it from a file.'),
  f('pprofAuthKey', 'secret', '', 'authKey query arg required by /debug/pprof.', 'planned'),

  // Routing and forwarding
  f('mergeQueryArgs', 'strings', '', 'Client query args that are merged with (rather than replaced by) url_prefix args of the same name.'),
  f('loadBalancingPolicy', 'string', 'least_loaded', 'Default load balancing policy: least_loaded or first_available.'),
  f('retryStatusCodes', 'ints', '', 'Backend response status codes on which a request is retried at another backend.'),
  f('maxRequestBodySizeToRetry', 'bytes', '16KiB', 'Largest request body kept in memory so the request can be retried at another backend; 0 disables retries.'),
  f('requestBufferSize', 'bytes', '32KiB', 'Request body bytes read before taking a concurrency slot, so slow clients do not hold backend connections; 0 disables.'),
  f('failTimeout', 'duration', '3s', 'How long a failed backend is skipped by load balancing; afterwards it gets traffic again once a TCP connection to it succeeds.'),
  f('idleConnTimeout', 'duration', '50s', 'Timeout for idle keep-alive connections to backends.'),
  f('maxIdleConnsPerBackend', 'int', '100', 'Maximum connections kept per backend.'),
  f('responseTimeout', 'duration', '5m', 'Timeout for receiving the response headers from a backend.'),
  f('removeXFFHTTPHeaderValue', 'bool', 'false', 'Drop the client-supplied X-Forwarded-For value instead of appending to it.'),
  f('discoverBackendIPs', 'bool', 'false', 'Resolve url_prefix hostnames to all their IPs (srv+ hosts: their SRV targets) and balance over them; per user / url_map: discover_backend_ips.'),
  f('discoverBackendIPsInterval', 'duration', '10s', 'Re-resolution interval for discover_backend_ips; in-flight requests and the broken state of unchanged addresses are kept.'),
  f('backend.dnsServer', 'string', '', 'tenantgate: DNS server (host:port) asked for discover_backend_ips and srv+ lookups instead of the system resolver, e.g. Consul DNS at 127.0.0.1:8600.'),
  f('backend.tlsInsecureSkipVerify', 'bool', 'false', 'Skip TLS verification of HTTPS backends.'),
  f('backend.TLSCAFile', 'string', '', 'CA file for verifying HTTPS backends.'),
  f('backend.TLSCertFile', 'string', '', 'Client certificate presented to HTTPS backends.'),
  f('backend.TLSKeyFile', 'string', '', 'Client key presented to HTTPS backends.'),
  f('backend.TLSServerName', 'string', '', 'TLS server name sent to HTTPS backends.'),

  // Tenant enforcement
  f('tenant.alertmanagerCheckInterval', 'duration', '30s', 'tenantgate: how often the configuration of every Alertmanager behind a tenant route is read (GET /api/v2/status) and checked to keep tenants apart; tenant alert posts are refused while it is unsafe or unreadable. 1s to 10m.'),
  f('tenant.alertmanagerCheckTimeout', 'duration', '5s', 'tenantgate: timeout for reading an Alertmanager configuration (-tenant.alertmanagerCheckInterval). 100ms to 1m.'),

  // Concurrency
  f('maxConcurrentRequests', 'int', '1000', 'Global limit of concurrently proxied requests; excess requests queue up to -maxQueueDuration, then get 429.'),
  f('maxConcurrentPerUserRequests', 'int', '100', 'Per-user limit of concurrently proxied requests unless the user sets max_concurrent_requests.'),
  f('tenantDefaults', 'string', 'secure', 'tenantgate: secure (default): a user whose url_prefix pins extra_label/extra_filters is refused the endpoints that ignore them and every admin/debug path, and client AccountID/ProjectID headers are dropped where url_prefix fixes the tenant; vmauth: proxy exactly as vmauth does (docs/tenancy.md).'),
  f('workers', 'int', '0', 'tenantgate: worker processes serving requests; 0 means one per CPU available to the process (CPU affinity counts). 1 is a single process; more run a primary that keeps reloads, /metrics and shutdown global, and splits concurrency limits between the workers (docs/workers.md).'),
  f('enforce.threads', 'int', '2', 'tenantgate: worker threads per process for tenant enforcement of large requests (-enforce.offloadThreshold); 0 enforces everything on the event loop.'),
  f('enforce.offloadThreshold', 'bytes', '4KiB', 'tenantgate: requests whose enforcement work (body plus query bytes; remote write: decoded bytes / 16) is at least this large are enforced in a worker thread instead of the event loop.'),
  f('enforce.maxQueuedPerUser', 'int', '64', 'tenantgate: large requests of one user waiting for an enforcement thread (a remote-write client with many shards needs room); more get 429.'),
  f('auth.bcryptConcurrency', 'int', '1', 'tenantgate: password_hash (bcrypt) verifications running at once per process, each in a worker thread.'),
  f('auth.maxQueuedLoginsPerIP', 'int', '4', 'tenantgate: bcrypt verifications of one client address waiting for a thread; more get 429.'),
  f('auth.maxFailedLoginsPerIP', 'int', '20', 'tenantgate: failed password_hash logins per client address per -auth.failedLoginWindow; further attempts get 429 without hashing. 0 disables.'),
  f('auth.maxFailedLoginsPerUser', 'int', '20', 'tenantgate: failed password_hash logins per username per -auth.failedLoginWindow; further attempts get 429 without hashing. 0 disables.'),
  f('auth.failedLoginWindow', 'duration', '1m', 'tenantgate: window over which failed logins are counted.'),
  f('maxQueueDuration', 'duration', '10s', 'How long a request waits for its concurrency slots and its buffered body, all together, before it is rejected (429 or 408).'),
  f('maxBufferedBytesPerUser', 'bytes', '128MiB', 'tenantgate: request-body bytes one user may hold in memory at once, per worker; more gets 429. 0 means no cap.'),
  f('maxConnectionsPerUser', 'int', '1000', 'tenantgate: client connections one user may keep open at once, per worker; a request on a further connection gets 429 and the connection is closed. 0 means no cap.'),
  f('requestBodyIdleTimeout', 'duration', '30s', 'tenantgate: a request body streamed to a backend (longer than -requestBufferSize) that sends nothing for this long is cut off. 0 disables.'),
  f('http.headerReadTimeout', 'duration', '5s', 'tenantgate: a client must send the complete request headers within this time, or the connection is closed (slowloris).'),

  // Logging
  f('loggerLevel', 'string', 'INFO', 'Minimum log level: INFO, WARN, ERROR, FATAL, PANIC.'),
  f('loggerFormat', 'string', 'default', 'Log format: default (VictoriaMetrics-style text) or json.'),
  f('loggerOutput', 'string', 'stderr', 'Log output: stderr or stdout.'),
  f('loggerTimezone', 'string', 'UTC', 'Time zone of log timestamps; only UTC is supported.', 'no-effect'),
  f('loggerDisableTimestamps', 'bool', 'false', 'Omit timestamps from log lines.'),
  f('loggerErrorsPerSecondLimit', 'int', '0', 'At most this many error lines per second; 0 means unlimited.'),
  f('loggerWarnsPerSecondLimit', 'int', '0', 'At most this many warning lines per second; 0 means unlimited.'),
  f('loggerJSONFields', 'string', '', 'Renames fields of JSON log lines.', 'planned'),
  f('loggerMaxArgLen', 'int', '5000', 'Longest logged argument before it is shortened.', 'no-effect'),

  // Audit log
  f('auditLog', 'string', '', 'tenantgate: write the audit log (JSON lines: refusals, tenant-enforced requests, reloads, rejected JWTs) to stdout or this file; empty disables it.'),
  f('auditLog.maxSize', 'bytes', '100MiB', 'tenantgate: rename the audit log file to FILE.1 once it is larger than this; 0 never rotates (use logrotate and SIGHUP).'),
  f('auditLog.queryText', 'bool', 'false', 'tenantgate: include the enforced query text in audit lines; by default only its SHA-256 is written.'),

  // Metrics
  f('metrics.exposeMetadata', 'bool', 'false', 'Accepted for compatibility; tenantgate always exposes TYPE and HELP lines.', 'no-effect'),
  f('pushmetrics.url', 'strings', '', 'Push /metrics to these URLs (e.g. http://vm:8428/api/v1/import/prometheus) every -pushmetrics.interval; kept secret at /flags.'),
  f('pushmetrics.interval', 'duration', '10s', 'Interval for pushing to -pushmetrics.url.'),
  f('pushmetrics.extraLabel', 'strings', '', 'Labels added to every pushed sample, e.g. instance="foo".'),
  f('pushmetrics.header', 'strings', '', 'Request headers for -pushmetrics.url, e.g. "Authorization: Basic …".'),
  f('pushmetrics.disableCompression', 'bool', 'false', 'Send pushed metrics without gzip.'),

  // Rate limits (the `limits:` sections of -auth.config; docs/limits.md)
  f('ratelimit.store', 'string', 'local', "tenantgate: where rate-limit buckets live: local (this gateway; shared by its -workers through the primary) or redis (shared by every replica through Redis / Valkey at -ratelimit.redis.addr)."),
  f('ratelimit.failMode', 'string', 'open', 'tenantgate: when the rate-limit store cannot answer in time: open admits the request, closed refuses it with 503. Counted in tenantgate_ratelimit_store_errors_total.'),
  f('ratelimit.maxKeys', 'int', '100000', 'tenantgate: most rate-limit buckets kept in memory (local store); beyond it full buckets, then the oldest, are dropped.'),
  f('ratelimit.maxPendingCalls', 'int', '10000', 'tenantgate: most rate-limit store calls in flight per process; beyond it -ratelimit.failMode decides without asking the store.'),
  f('ratelimit.redis.addr', 'string', '', 'tenantgate: Redis / Valkey address for -ratelimit.store=redis: host:port, or redis:// (rediss:// for TLS) URL.'),
  f('ratelimit.redis.username', 'string', '', 'tenantgate: Redis ACL username.'),
  f('ratelimit.redis.password', 'secret', '', 'tenantgate: Redis password; file:///path reads it from a file.'),
  f('ratelimit.redis.db', 'int', '0', 'tenantgate: Redis database number.'),
  f('ratelimit.redis.tls', 'bool', 'false', 'tenantgate: connect to Redis over TLS.'),
  f('ratelimit.redis.tlsCAFile', 'string', '', 'tenantgate: CA file for verifying the Redis server certificate; the system roots when empty.'),
  f('ratelimit.redis.tlsServerName', 'string', '', 'tenantgate: server name expected in the Redis server certificate.'),
  f('ratelimit.redis.tlsInsecureSkipVerify', 'bool', 'false', 'tenantgate: do not verify the Redis server certificate.'),
  f('ratelimit.redis.keyPrefix', 'string', 'tenantgate:rl:', 'tenantgate: prefix of every Redis key tenantgate writes (so several gateways or environments can share one Redis).'),
  f('ratelimit.redis.timeout', 'duration', '100ms', 'tenantgate: how long a request waits for Redis before -ratelimit.failMode decides.'),

  // Go runtime tuning that has no counterpart in Node
  f('memory.allowedPercent', 'float', '60', 'Go memory tuning; no effect in tenantgate.', 'no-effect'),
  f('memory.allowedBytes', 'bytes', '0', 'Go memory tuning; no effect in tenantgate.', 'no-effect'),
  f('fs.maxConcurrency', 'int', '0', 'Go file-system tuning; no effect in tenantgate.', 'no-effect'),
  f('filestream.disableFadvise', 'bool', 'false', 'Go file-system tuning; no effect in tenantgate.', 'no-effect'),
  f('internStringCacheExpireDuration', 'duration', '6m', 'Go string interning; no effect in tenantgate.', 'no-effect'),
  f('internStringDisableCache', 'bool', 'false', 'Go string interning; no effect in tenantgate.', 'no-effect'),
  f('internStringMaxLen', 'int', '500', 'Go string interning; no effect in tenantgate.', 'no-effect'),
  f('secret.flags', 'strings', '', 'Extra flag names whose values are hidden at /flags and in logs.'),

  // Enterprise-only in vmauth
  f('eula', 'bool', 'false', 'vmauth Enterprise licence flag; tenantgate needs no licence.', 'no-effect'),
  f('license', 'secret', '', 'vmauth Enterprise licence; tenantgate needs no licence.', 'no-effect'),
  f('licenseFile', 'string', '', 'vmauth Enterprise licence file; tenantgate needs no licence.', 'no-effect'),
  f('license.forceOffline', 'bool', 'false', 'vmauth Enterprise licence flag; tenantgate needs no licence.', 'no-effect'),
  f('licenseFile.reloadInterval', 'duration', '1h', 'vmauth Enterprise licence flag; tenantgate needs no licence.', 'no-effect'),
  f('tlsAutocertHosts', 'strings', '', "Let's Encrypt hosts (vmauth Enterprise).", 'planned'),
  f('tlsAutocertEmail', 'string', '', "Let's Encrypt contact (vmauth Enterprise).", 'planned'),
  f('tlsAutocertCacheDir', 'string', '', "Let's Encrypt cache dir (vmauth Enterprise).", 'planned'),
];

export const FLAGS_BY_NAME: ReadonlyMap<string, FlagDefinition> = new Map(FLAG_DEFINITIONS.map((d) => [d.name, d]));
