// `tenantgate [flags]`: parse vmauth-compatible flags, load -auth.config, serve, reload on
// SIGHUP / /-/reload / -configCheckInterval, and shut down gracefully on SIGTERM / SIGINT.
// -workers=N > 1 runs N worker processes coordinated by a primary (cluster-primary.ts).
import { validatePushFlags } from '../observe/push-metrics.ts';
import { validateAlertmanagerWatchFlags } from '../enforce/alertmanager/watch.ts';
import { availableParallelism } from 'node:os';
import type { CompileDefaults } from '../config/compile.ts';
import { ConfigError } from '../config/errors.ts';
import { loadConfig } from '../config/load.ts';
import { TrustedProxies } from '../authorize/real-ip.ts';
import { FlagError, parseFlags, usageText, type ParsedFlags } from '../flags/parse.ts';
import { closeAllDispatchers } from '../forward/dispatchers.ts';
import { configureLoginGuard, type LoginGuardOptions } from '../identify/login-guard.ts';
import { httpAuthHeaders } from '../observe/access-log.ts';
import { AuditLog } from '../observe/audit-log.ts';
import { configureOffload, type OffloadOptions } from '../offload/offload.ts';
import { Logger } from '../observe/logger.ts';
import { rateLimitSettings, type RateLimitSettings } from '../limit/store-settings.ts';
import { VERSION } from '../version.ts';
import { WORKER_SLOT_ENV } from './cluster-protocol.ts';
import type { GatewayOptions } from './options.ts';
import type { TenantDefaults } from '../authorize/route-guard.ts';
import { startServing, type LoadedConfig, type ServeContext } from './serve.ts';

export function compileDefaultsFromFlags(f: ParsedFlags): CompileDefaults {
  const authHeaders = f.strings('httpAuthHeader').filter((s) => s !== '').map((s) => s.toLowerCase());
  return {
    credentialHeaders: authHeaders.length > 0 ? authHeaders : ['authorization'],
    trustedProxies: trustedProxiesFlag(f),
    metricsProtected: f.string('metricsAuthKey') !== '' || f.string('httpAuth.username') !== '',
    retryStatusCodes: f.ints('retryStatusCodes'),
    loadBalancingPolicy: f.string('loadBalancingPolicy'),
    mergeQueryArgs: f.strings('mergeQueryArgs').filter((s) => s !== ''),
    maxConcurrentPerUserRequests: f.int('maxConcurrentPerUserRequests'),
    failTimeoutMs: f.duration('failTimeout'),
    tenantDefaults: tenantDefaults(f),
    backendTls: {
      caFile: f.string('backend.TLSCAFile'),
      certFile: f.string('backend.TLSCertFile'),
      keyFile: f.string('backend.TLSKeyFile'),
      serverName: f.string('backend.TLSServerName'),
      insecureSkipVerify: f.bool('backend.tlsInsecureSkipVerify'),
    },
    discovery: {
      enabled: f.bool('discoverBackendIPs'),
      intervalMs: f.duration('discoverBackendIPsInterval'),
      dnsServer: f.string('backend.dnsServer'),
    },
    pool: {
      idleConnTimeoutMs: f.duration('idleConnTimeout'),
      responseTimeoutMs: f.duration('responseTimeout'),
      maxConnsPerBackend: 0,
    },
  };
}

function trustedProxiesFlag(f: ParsedFlags): TrustedProxies | null {
  const list = f.strings('httpRealIPTrustedProxies').filter((s) => s !== '');
  let trusted: TrustedProxies | null = null;
  try {
    trusted = list.length > 0 ? new TrustedProxies(list) : null;
  } catch (err) {
    throw new FlagError(`invalid -httpRealIPTrustedProxies: ${(err as Error).message}`);
  }
  if (f.string('httpRealIPHeader') !== '' && trusted === null) {
    throw new FlagError('-httpRealIPHeader needs -httpRealIPTrustedProxies: the IPs/CIDRs of the proxies that set the header; from anyone else it would be the client\'s own claim');
  }
  return trusted;
}

function gatewayOptions(f: ParsedFlags, compile: CompileDefaults, rateLimit: RateLimitSettings): GatewayOptions {
  const authHeaders = f.strings('httpAuthHeader').filter((s) => s !== '').map((s) => s.toLowerCase());
  const security: [string, string][] = [];
  if (f.string('http.header.hsts')) security.push(['strict-transport-security', f.string('http.header.hsts')]);
  if (f.string('http.header.csp')) security.push(['content-security-policy', f.string('http.header.csp')]);
  if (f.string('http.header.frameOptions')) security.push(['x-frame-options', f.string('http.header.frameOptions')]);
  return {
    authHeaderNames: authHeaders.length > 0 ? authHeaders : ['authorization'],
    logInvalidAuthTokens: f.bool('logInvalidAuthTokens'),
    unauthorizedDelayMs: f.duration('unauthorizedResponseDelay'),
    removeXffValue: f.bool('removeXFFHTTPHeaderValue'),
    maxRequestBodySizeToRetry: f.bytes('maxRequestBodySizeToRetry'),
    requestBufferSize: f.bytes('requestBufferSize'),
    maxConcurrentRequests: f.int('maxConcurrentRequests'),
    maxQueueDurationMs: f.duration('maxQueueDuration'),
    maxBufferedBytesPerUser: f.bytes('maxBufferedBytesPerUser'),
    maxConnectionsPerUser: f.int('maxConnectionsPerUser'),
    requestBodyIdleTimeoutMs: f.duration('requestBodyIdleTimeout'),
    disableCors: f.bool('http.disableCORS'),
    realIpHeader: f.string('httpRealIPHeader') === '' ? null : f.string('httpRealIPHeader').toLowerCase(),
    securityHeaders: security,
    compile,
    rateLimit,
  };
}

/** -auditLog: null when unset. The process that is not a worker rotates the file by size. */
function openAuditLog(f: ParsedFlags, rotates: boolean): AuditLog | null {
  const destination = f.string('auditLog');
  if (destination === '') return null;
  return new AuditLog({ destination, maxSizeBytes: f.bytes('auditLog.maxSize'), queryText: f.bool('auditLog.queryText'), rotates });
}

/** -tenantDefaults: secure or vmauth. */
export function tenantDefaults(f: ParsedFlags): TenantDefaults {
  const v = f.string('tenantDefaults');
  if (v === 'secure' || v === 'vmauth') return v;
  throw new FlagError(`invalid value ${JSON.stringify(v)} for flag -tenantDefaults: must be secure or vmauth`);
}

/** -enforce.* and -auth.* flags of the work pools and the login guard; throws FlagError when out of range. */
export function offloadFromFlags(f: ParsedFlags): { offload: OffloadOptions; guard: LoginGuardOptions } {
  const range = (name: string, min: number, max: number): number => {
    const v = f.int(name);
    if (v < min || v > max) throw new FlagError(`invalid value "${v}" for flag -${name}: must be between ${min} and ${max}`);
    return v;
  };
  const window = f.duration('auth.failedLoginWindow');
  if (window <= 0) throw new FlagError('invalid value for flag -auth.failedLoginWindow: must be positive');
  return {
    offload: {
      threads: range('enforce.threads', 0, 64),
      thresholdBytes: f.bytes('enforce.offloadThreshold'),
      maxQueuedPerUser: range('enforce.maxQueuedPerUser', 1, 100_000),
      bcryptThreads: range('auth.bcryptConcurrency', 1, 64),
      bcryptQueuedPerKey: range('auth.maxQueuedLoginsPerIP', 1, 10_000),
    },
    guard: {
      maxPerIp: range('auth.maxFailedLoginsPerIP', 0, 1_000_000),
      maxPerUser: range('auth.maxFailedLoginsPerUser', 0, 1_000_000),
      windowMs: window,
    },
  };
}

/** -workers: 0 (the default) means one worker per CPU available to the process. */
export function workerCount(f: ParsedFlags): number {
  const n = f.int('workers');
  if (n < 0 || n > 1024) throw new FlagError(`invalid value "${n}" for flag -workers: must be between 0 (one per available CPU) and 1024`);
  return n === 0 ? availableParallelism() : n;
}

export async function gatewayMain(argv: readonly string[]): Promise<number> {
  let flags: ParsedFlags;
  let workers: number;
  let rateLimit: RateLimitSettings;
  try {
    flags = parseFlags(argv);
    workers = workerCount(flags);
    tenantDefaults(flags);
    for (const name of ['backend.TLSCAFile', 'backend.TLSCertFile', 'backend.TLSKeyFile']) {
      if (/^https?:\/\//i.test(flags.string(name))) throw new FlagError(`flag -${name} is an http(s) URL; tenantgate reads TLS material from local files only: download it to a file and give its path`);
    }
    const { offload, guard } = offloadFromFlags(flags);
    configureOffload(offload);
    configureLoginGuard(guard);
    rateLimit = rateLimitSettings(flags);
  } catch (err) {
    if (err instanceof FlagError) {
      process.stderr.write(`${err.message}\n`);
      return err.exitCode;
    }
    throw err;
  }
  if (flags.bool('help')) { process.stdout.write(usageText(VERSION)); return 0; }
  if (flags.bool('version')) { process.stdout.write(`tenantgate-v${VERSION}\n`); return 0; }
  const pushProblem = validatePushFlags(flags.strings('pushmetrics.url').filter((u) => u !== ''), flags.strings('pushmetrics.extraLabel').filter((l) => l !== ''), flags.strings('pushmetrics.header').filter((h) => h !== ''));
  if (pushProblem !== null) { process.stderr.write(`${pushProblem}\n`); return 2; }
  const amWatchProblem = validateAlertmanagerWatchFlags(flags.duration('tenant.alertmanagerCheckInterval'), flags.duration('tenant.alertmanagerCheckTimeout'));
  if (amWatchProblem !== null) { process.stderr.write(`${amWatchProblem}\n`); return 2; }

  let log: Logger;
  try {
    log = new Logger({
      level: flags.string('loggerLevel'), format: flags.string('loggerFormat'),
      output: flags.string('loggerOutput'), disableTimestamps: flags.bool('loggerDisableTimestamps'),
      errorsPerSecond: flags.int('loggerErrorsPerSecondLimit'), warnsPerSecond: flags.int('loggerWarnsPerSecondLimit'),
    });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 2;
  }
  // The cluster primary has already said everything about the flags; its workers stay quiet.
  const worker = process.env[WORKER_SLOT_ENV] !== undefined && typeof process.send === 'function';
  if (!worker) for (const name of flags.noEffect) log.warn(`flag -${name} has no effect in tenantgate`);

  const source = flags.string('auth.config');
  if (source === '') { log.error('missing required `-auth.config` command-line flag'); return 1; }
  let compile: CompileDefaults;
  try {
    compile = { ...compileDefaultsFromFlags(flags), jwtLogger: log };
  } catch (err) {
    if (err instanceof FlagError) { process.stderr.write(`${err.message}\n`); return err.exitCode; }
    throw err;
  }
  const opts = gatewayOptions(flags, compile, rateLimit);
  for (const h of opts.authHeaderNames) httpAuthHeaders.add(h);

  if (flags.bool('dryRun')) {
    try {
      const { config } = await loadConfig(source, compile);
      config.jwt?.authenticator.close();
      await closeAllDispatchers();
      log.info(`config ${JSON.stringify(source)} is valid`);
      return 0;
    } catch (err) {
      await closeAllDispatchers();
      if (err instanceof ConfigError) { log.error(`cannot load -auth.config=${JSON.stringify(source)}:\n${err.message}`); return 1; }
      throw err;
    }
  }

  let audit: AuditLog | null;
  try {
    audit = openAuditLog(flags, !worker);
  } catch (err) {
    log.error(`cannot open -auditLog=${JSON.stringify(flags.string('auditLog'))}: ${(err as Error).message}`);
    return 1;
  }
  const ctx: ServeContext = { flags, log, source, compile, opts, audit };
  // node:cluster is loaded only when more than one worker is asked for: -workers=1 is today's
  // single process with no IPC anywhere near the request path.
  if (worker) {
    const m = await import('./cluster-worker.ts');
    if (m.isClusterWorker()) return m.runWorker(ctx);
  }
  if (workers > 1) {
    const m = await import('./cluster-primary.ts');
    return m.runPrimary(ctx, workers, argv);
  }
  return runSingle(ctx);
}

/** -workers=1: one process serves, reloads and shuts down by itself. */
async function runSingle(ctx: ServeContext): Promise<number> {
  const { flags, log, source, compile } = ctx;
  let loaded: LoadedConfig;
  try {
    loaded = await loadConfig(source, compile);
  } catch (err) {
    if (err instanceof ConfigError) { log.error(`cannot load -auth.config=${JSON.stringify(source)}:\n${err.message}`); return 1; }
    throw err;
  }
  // Give OIDC providers one chance to deliver keys before serving; failures are logged, not fatal.
  await loaded.config.jwt?.authenticator.ready();
  const serving = await startServing(ctx, loaded, null);
  if (serving === null) return 1;

  process.on('SIGHUP', () => { log.info('SIGHUP received; reloading -auth.config'); ctx.audit?.reopen(); void serving.reloadFromSource('SIGHUP'); });
  const interval = flags.duration('configCheckInterval');
  const ticker = interval > 0 ? setInterval(() => void serving.reloadFromSource('-configCheckInterval'), interval) : undefined;

  const signal = await new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  log.info(`received ${signal}; shutting down gracefully`);
  if (ticker !== undefined) clearInterval(ticker);
  await serving.shutdown();
  log.info('stopped tenantgate');
  return 0;
}
