// `tenantgate [flags]`: parse vmauth-compatible flags, load -auth.config, serve, reload on
// SIGHUP / /-/reload / -configCheckInterval, and shut down gracefully on SIGTERM / SIGINT.
// -workers=N > 1 runs N worker processes coordinated by a primary (cluster-primary.ts).
import { validatePushFlags } from '../observe/push-metrics.ts';
import { availableParallelism } from 'node:os';
import type { CompileDefaults } from '../config/compile.ts';
import { ConfigError } from '../config/errors.ts';
import { loadConfig } from '../config/load.ts';
import { FlagError, parseFlags, usageText, type ParsedFlags } from '../flags/parse.ts';
import { closeAllDispatchers } from '../forward/dispatchers.ts';
import { httpAuthHeaders } from '../observe/access-log.ts';
import { Logger } from '../observe/logger.ts';
import { rateLimitSettings, type RateLimitSettings } from '../limit/store-settings.ts';
import { VERSION } from '../version.ts';
import { WORKER_SLOT_ENV } from './cluster-protocol.ts';
import type { GatewayOptions } from './options.ts';
import { startServing, type LoadedConfig, type ServeContext } from './serve.ts';

export function compileDefaultsFromFlags(f: ParsedFlags): CompileDefaults {
  return {
    retryStatusCodes: f.ints('retryStatusCodes'),
    loadBalancingPolicy: f.string('loadBalancingPolicy'),
    mergeQueryArgs: f.strings('mergeQueryArgs').filter((s) => s !== ''),
    maxConcurrentPerUserRequests: f.int('maxConcurrentPerUserRequests'),
    failTimeoutMs: f.duration('failTimeout'),
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
    disableCors: f.bool('http.disableCORS'),
    realIpHeader: f.string('httpRealIPHeader') === '' ? null : f.string('httpRealIPHeader').toLowerCase(),
    securityHeaders: security,
    compile,
    rateLimit,
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
  const compile = { ...compileDefaultsFromFlags(flags), jwtLogger: log };
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

  const ctx: ServeContext = { flags, log, source, compile, opts };
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

  process.on('SIGHUP', () => { log.info('SIGHUP received; reloading -auth.config'); void serving.reloadFromSource('SIGHUP'); });
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
