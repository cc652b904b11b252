// `tenantgate [flags]`: parse vmauth-compatible flags, load -auth.config, serve, reload on
// SIGHUP / /-/reload / -configCheckInterval, and shut down gracefully on SIGTERM / SIGINT.
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CompileDefaults } from '../config/compile.ts';
import { ConfigError } from '../config/errors.ts';
import { loadConfig, readConfigSource, parseConfigText } from '../config/load.ts';
import { FlagError, parseFlags, usageText, type ParsedFlags } from '../flags/parse.ts';
import { closeAllDispatchers } from '../forward/dispatchers.ts';
import { handleInternal, mayBeInternal, type InternalRoutesOptions } from '../listen/internal-routes.ts';
import { openListener, type Listener } from '../listen/listeners.ts';
import { httpAuthHeaders } from '../observe/access-log.ts';
import { Logger } from '../observe/logger.ts';
import { Metrics } from '../observe/metrics.ts';
import { parseRequestTarget } from '../route/request-target.ts';
import { VERSION } from '../version.ts';
import { Gateway } from './gateway.ts';
import type { GatewayOptions } from './options.ts';

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

function gatewayOptions(f: ParsedFlags, compile: CompileDefaults): GatewayOptions {
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
  };
}

export async function gatewayMain(argv: readonly string[]): Promise<number> {
  let flags: ParsedFlags;
  try {
    flags = parseFlags(argv);
  } catch (err) {
    if (err instanceof FlagError) {
      process.stderr.write(`${err.message}\n`);
      return err.exitCode;
    }
    throw err;
  }
  if (flags.bool('help')) { process.stdout.write(usageText(VERSION)); return 0; }
  if (flags.bool('version')) { process.stdout.write(`tenantgate-v${VERSION}\n`); return 0; }

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
  for (const name of flags.noEffect) log.warn(`flag -${name} has no effect in tenantgate`);

  const source = flags.string('auth.config');
  if (source === '') { log.error('missing required `-auth.config` command-line flag'); return 1; }
  const compile = { ...compileDefaultsFromFlags(flags), jwtLogger: log };
  const opts = gatewayOptions(flags, compile);
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

  let loaded: { config: Awaited<ReturnType<typeof loadConfig>>['config']; text: string };
  try {
    loaded = await loadConfig(source, compile);
  } catch (err) {
    if (err instanceof ConfigError) { log.error(`cannot load -auth.config=${JSON.stringify(source)}:\n${err.message}`); return 1; }
    throw err;
  }
  // Give OIDC providers one chance to deliver keys before serving; failures are logged, not fatal.
  await loaded.config.jwt?.authenticator.ready();
  const metrics = new Metrics();
  metrics.describeApp(VERSION, () => flags.entries());
  for (const level of ['info', 'warn', 'error'] as const) metrics.gauge(`vm_log_messages_total{level="${level}"}`, () => log.counts[level]);
  let tcpConns = 0;
  metrics.gauge('vm_tcplistener_conns', () => tcpConns);
  const gateway = new Gateway(loaded.config, opts, metrics, log);
  let lastText = loaded.text;
  metrics.set('vmauth_config_last_reload_successful', 1);
  metrics.set('vmauth_config_last_reload_success_timestamp_seconds', Math.floor(Date.now() / 1000));
  metrics.set('vmauth_config_last_reload_total', 0);
  metrics.set('vmauth_config_last_reload_errors_total', 0);

  // Reloads run one at a time; the new snapshot is compiled completely before the swap.
  let reloading: Promise<boolean> = Promise.resolve(true);
  const reload = (why: string): Promise<boolean> => {
    reloading = reloading.then(async () => {
      metrics.inc('vmauth_config_last_reload_total');
      try {
        const text = await readConfigSource(source);
        if (text !== lastText) {
          const next = parseConfigText(text, source, compile);
          await next.jwt?.authenticator.ready();
          gateway.swapConfig(next);
          lastText = text;
          metrics.set('vmauth_config_last_reload_success_timestamp_seconds', Math.floor(Date.now() / 1000));
          log.info(`reloaded -auth.config=${JSON.stringify(source)} (${why}): ${gateway.config.users.length} users`);
        }
        metrics.set('vmauth_config_last_reload_successful', 1);
        return true;
      } catch (err) {
        metrics.set('vmauth_config_last_reload_successful', 0);
        metrics.inc('vmauth_config_last_reload_errors_total');
        log.error(`failed to reload -auth.config=${JSON.stringify(source)} (${why}); using the last successfully loaded config; error:\n${(err as Error).message}`);
        return false;
      }
    });
    return reloading;
  };

  let shutdownDeadline = 0;
  const internal: InternalRoutesOptions = {
    metrics,
    metricsAuthKey: secretFlag(flags.string('metricsAuthKey')),
    reloadAuthKey: secretFlag(flags.string('reloadAuthKey')),
    flagsAuthKey: secretFlag(flags.string('flagsAuthKey')),
    basicAuth: flags.string('httpAuth.username') === '' ? null : { username: flags.string('httpAuth.username'), password: secretFlag(flags.string('httpAuth.password')) },
    describeFlags: () => flags.describe(),
    reload: () => reload('/-/reload'),
    shutdownDeadline: () => shutdownDeadline,
  };
  const cors = !opts.disableCors;
  const pathPrefix = normalisePathPrefix(flags.string('http.pathPrefix'));
  const connTimeoutMs = flags.duration('http.connTimeout');
  const socketBirth = new WeakMap<object, number>();
  const handler = (serveInternal: boolean, serveProxy: boolean) => (req: IncomingMessage, res: ServerResponse) => {
    if (pathPrefix !== '' && !stripPathPrefix(req, res, pathPrefix)) return;
    // -http.connTimeout: old connections close after their current response, so load spreads
    // to new instances after scaling out.
    if (connTimeoutMs > 0) {
      const born = socketBirth.get(req.socket);
      if (born !== undefined && Date.now() - born > connTimeoutMs) res.shouldKeepAlive = false;
    }
    if (serveInternal && mayBeInternal(req.url ?? '/')) {
      const t = parseRequestTarget(req.url ?? '/');
      if (t !== null && handleInternal(t.path === '' ? '/' : t.path, req, res, internal)) return;
    }
    if (!serveProxy) { res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }); res.end('unsupported path requested\n'); return; }
    if (req.method === 'OPTIONS' && cors) {
      res.writeHead(204, {
        'access-control-allow-origin': '*',
        'access-control-allow-methods': 'GET, POST, PUT, DELETE, OPTIONS',
        'access-control-allow-headers': req.headers['access-control-request-headers'] ?? '*',
      });
      res.end();
      return;
    }
    gateway.handle(req, res);
  };

  const internalAddrs = flags.strings('httpInternalListenAddr').filter((s) => s !== '');
  const listeners: Listener[] = [];
  const listenerOpts = {
    serverOptions: { keepAliveTimeout: flags.duration('http.idleConnTimeout'), requestTimeout: 0, headersTimeout: 60_000, maxHeaderSize: 64 * 1024 },
    disableKeepAlive: flags.bool('http.disableKeepAlive'),
    onConnection: (socket: import('node:net').Socket) => {
      if (connTimeoutMs > 0) socketBirth.set(socket, Date.now());
      metrics.inc('vm_tcplistener_accepts_total');
      tcpConns++;
      socket.once('close', () => { tcpConns--; });
    },
    onTlsError: (err: Error) => log.error(`cannot reload TLS certificates: ${err.message}`),
  };
  try {
    const addrs = flags.strings('httpListenAddr');
    for (let i = 0; i < addrs.length; i++) {
      if (addrs[i] === '') continue;
      listeners.push(await openListener(flags, addrs[i] as string, i, handler(internalAddrs.length === 0, true), listenerOpts));
    }
    for (const a of internalAddrs) listeners.push(await openListener(flags, a, -1, handler(true, false), listenerOpts));
  } catch (err) {
    log.error(`cannot start listening: ${(err as Error).message}`);
    await Promise.all(listeners.map((l) => l.close(0)));
    await closeAllDispatchers();
    return 1;
  }
  log.info(`started tenantgate v${VERSION} at ${JSON.stringify(flags.strings('httpListenAddr'))}${internalAddrs.length ? `, internal endpoints at ${JSON.stringify(internalAddrs)}` : ''} with ${loaded.config.users.length} users`);

  process.on('SIGHUP', () => { log.info('SIGHUP received; reloading -auth.config'); void reload('SIGHUP'); });
  const interval = flags.duration('configCheckInterval');
  const ticker = interval > 0 ? setInterval(() => void reload('-configCheckInterval'), interval) : undefined;

  const signal = await new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  log.info(`received ${signal}; shutting down gracefully`);
  if (ticker !== undefined) clearInterval(ticker);
  const delayMs = flags.duration('http.shutdownDelay');
  if (delayMs > 0) {
    shutdownDeadline = Date.now() + delayMs;
    await new Promise((r) => setTimeout(r, delayMs));
  }
  await Promise.all(listeners.map((l) => l.close(flags.duration('http.maxGracefulShutdownDuration'))));
  gateway.config.jwt?.authenticator.close();
  await closeAllDispatchers();
  log.info('stopped tenantgate');
  return 0;
}

/** vmauth's secret flags may name a file (`file:///path`) holding the value. */
function secretFlag(value: string): string {
  if (!value.startsWith('file://')) return value;
  return readFileSync(value.slice('file://'.length), 'utf8').trim();
}

function normalisePathPrefix(p: string): string {
  if (p === '' || p === '/') return '';
  return (p.startsWith('/') ? p : '/' + p).replace(/\/?$/, '/');
}

/** -http.pathPrefix: serve everything under the prefix, as VictoriaMetrics does. */
function stripPathPrefix(req: IncomingMessage, res: ServerResponse, prefix: string): boolean {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  if (path === prefix.slice(0, -1)) {
    res.writeHead(302, { location: prefix });
    res.end();
    return false;
  }
  if (!path.startsWith(prefix)) {
    res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(`missing -http.pathPrefix=${JSON.stringify(prefix)} in the requested path ${JSON.stringify(path)}\n`);
    return false;
  }
  req.url = url.slice(prefix.length - 1);
  return true;
}
