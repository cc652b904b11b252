// One serving process: the Gateway, its listeners, built-in endpoints and metrics, a local
// reload (single-process mode) and graceful shutdown. With -workers=1 this is the whole gateway;
// in cluster mode every worker runs exactly this, with reloads and /metrics coordinated by the
// primary through `ClusterServeHooks`.
import { startPushMetrics } from '../observe/push-metrics.ts';
import { startAlertmanagerWatch } from '../enforce/alertmanager/watch.ts';
import { WORKER_SLOT_ENV } from './cluster-protocol.ts';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { CompileDefaults } from '../config/compile.ts';
import { readConfigSource, parseConfigText } from '../config/load.ts';
import type { CompiledConfig } from '../config/model.ts';
import type { ParsedFlags } from '../flags/parse.ts';
import { closeAllDispatchers } from '../forward/dispatchers.ts';
import { handleInternal, mayBeInternal, type InternalRoutesOptions } from '../listen/internal-routes.ts';
import { openListener, type Listener } from '../listen/listeners.ts';
import type { Logger } from '../observe/logger.ts';
import type { AuditLog } from '../observe/audit-log.ts';
import { configDigest } from '../observe/audit-reload.ts';
import { Metrics } from '../observe/metrics.ts';
import { renderStatusPage } from '../observe/status-page.ts';
import { collectStatus, type StatusState } from '../observe/status-data.ts';
import { explainRequest } from '../explain/explain-request.ts';
import { parseRequestTarget } from '../route/request-target.ts';
import { closeOffload, registerOffloadMetrics } from '../offload/offload.ts';
import { VERSION } from '../version.ts';
import { Gateway } from './gateway.ts';
import { sendText } from './respond.ts';
import { describeGuards } from '../authorize/guard-summary.ts';
import type { TenantDefaults } from '../authorize/route-guard.ts';
import type { GatewayOptions } from './options.ts';

/** Everything resolved from the command line before serving starts. */
export interface ServeContext {
  readonly flags: ParsedFlags;
  readonly log: Logger;
  /** -auth.config */
  readonly source: string;
  readonly compile: CompileDefaults;
  readonly opts: GatewayOptions;
  /** -auditLog, or null. */
  readonly audit: AuditLog | null;
}

export interface LoadedConfig {
  readonly config: CompiledConfig;
  readonly text: string;
}

/** How a cluster worker differs from a lone process. */
export interface ClusterServeHooks {
  /** /-/reload: ask the primary to reload every worker; resolves with the combined outcome. */
  readonly requestReload: (why: string) => Promise<boolean>;
  /** Appended to the start-up log line, e.g. " (worker 2 of 4, pid 123)". */
  readonly label: string;
}

export interface Serving {
  readonly gateway: Gateway;
  readonly metrics: Metrics;
  /** The config text the gateway runs on. */
  text: string;
  /** Records a reload outcome for the status page (cluster workers learn it from the primary). */
  noteReload(result: 'applied' | 'unchanged' | 'failed', error: string): void;
  /** Single-process reload: re-read -auth.config and swap when it changed. One at a time. */
  reloadFromSource(why: string): Promise<boolean>;
  /** -http.shutdownDelay, then close the listeners within -http.maxGracefulShutdownDuration. */
  shutdown(): Promise<void>;
}

/** Starts serving; null when a listener could not be opened (already logged and cleaned up). */
export async function startServing(ctx: ServeContext, loaded: LoadedConfig, cluster: ClusterServeHooks | null): Promise<Serving | null> {
  const { flags, log, source, compile, opts } = ctx;
  const metrics = new Metrics();
  metrics.describeApp(VERSION, () => flags.entries());
  for (const level of ['info', 'warn', 'error'] as const) metrics.gauge(`vm_log_messages_total{level="${level}"}`, () => log.counts[level]);
  let tcpConns = 0;
  metrics.gauge('vm_tcplistener_conns', () => tcpConns);
  registerOffloadMetrics(metrics);
  const gateway = new Gateway(loaded.config, opts, metrics, log, ctx.audit);
  // Tenant alert posts wait for the first read of the Alertmanager configs (bounded by the timeout).
  const amWatch = startAlertmanagerWatch({ config: () => gateway.config, intervalMs: flags.duration('tenant.alertmanagerCheckInterval'), timeoutMs: flags.duration('tenant.alertmanagerCheckTimeout'), log, metrics });
  await amWatch.ready;
  metrics.set('vmauth_config_last_reload_successful', 1);
  metrics.set('vmauth_config_last_reload_success_timestamp_seconds', Math.floor(Date.now() / 1000));
  metrics.set('vmauth_config_last_reload_total', 0);
  metrics.set('vmauth_config_last_reload_errors_total', 0);

  // Reloads run one at a time; the new snapshot is compiled completely before the swap.
  let reloading: Promise<boolean> = Promise.resolve(true);
  const reloadFromSource = (why: string): Promise<boolean> => {
    reloading = reloading.then(async () => {
      metrics.inc('vmauth_config_last_reload_total');
      try {
        const text = await readConfigSource(source);
        if (text !== serving.text) {
          const next = parseConfigText(text, source, compile);
          await next.jwt?.authenticator.ready();
          gateway.swapConfig(next);
          ctx.audit?.record({ event: 'reload', trigger: why, result: 'applied', old_sha256: configDigest(serving.text), new_sha256: configDigest(text) });
          serving.text = text;
          serving.noteReload('applied', '');
          metrics.set('vmauth_config_last_reload_success_timestamp_seconds', Math.floor(Date.now() / 1000));
          log.info(`reloaded -auth.config=${JSON.stringify(source)} (${why}): ${gateway.config.users.length} users`);
          logGuards(log, next, compile.tenantDefaults ?? 'secure');
        } else {
          ctx.audit?.record({ event: 'reload', trigger: why, result: 'unchanged', old_sha256: configDigest(serving.text) });
          serving.noteReload('unchanged', '');
        }
        metrics.set('vmauth_config_last_reload_successful', 1);
        return true;
      } catch (err) {
        ctx.audit?.record({ event: 'reload', trigger: why, result: 'failed', old_sha256: configDigest(serving.text), error: firstLine((err as Error).message) });
        serving.noteReload('failed', (err as Error).message);
        metrics.set('vmauth_config_last_reload_successful', 0);
        metrics.inc('vmauth_config_last_reload_errors_total');
        log.error(`failed to reload -auth.config=${JSON.stringify(source)} (${why}); using the last successfully loaded config; error:\n${(err as Error).message}`);
        return false;
      }
    });
    return reloading;
  };

  const status: StatusState = { source, startedAt: Date.now(), loadedAt: Date.now(), lastReload: null, text: () => serving.text };
  let shutdownDeadline = 0;
  const internal: InternalRoutesOptions = {
    metrics,
    metricsAuthKey: secretFlag(flags.string('metricsAuthKey')),
    reloadAuthKey: secretFlag(flags.string('reloadAuthKey')),
    flagsAuthKey: secretFlag(flags.string('flagsAuthKey')),
    basicAuth: flags.string('httpAuth.username') === '' ? null : { username: flags.string('httpAuth.username'), password: secretFlag(flags.string('httpAuth.password')) },
    statusAuthKey: secretFlag(flags.string('statusAuthKey')),
    describeFlags: () => flags.describe(),
    status: (query) => renderStatusPage(collectStatus(gateway, metrics, status, query, cluster?.label ?? '')),
    explain: (input) => explainRequest(gateway.config, input, { authHeaderNames: opts.authHeaderNames, configText: serving.text, removeXffValue: opts.removeXffValue }),
    reload: cluster === null ? (ip) => reloadFromSource(`/-/reload from ${ip}`) : (ip) => cluster.requestReload(`/-/reload from ${ip}`),
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
    if (!serveProxy) {
      // vmauth's internal listener: 400 and the path, as Go's httpserver.Errorf writes it.
      const t = parseRequestTarget(req.url ?? '/');
      metrics.requestError('unsupported_path');
      sendText(res, 400, `unsupported path requested: ${JSON.stringify(t?.path ?? req.url ?? '/')}`);
      return;
    }
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
    // Header deadlines are checked every second, so -http.headerReadTimeout holds to about a second.
    serverOptions: { keepAliveTimeout: flags.duration('http.idleConnTimeout'), requestTimeout: 0, headersTimeout: flags.duration('http.headerReadTimeout'), connectionsCheckingInterval: 1000, maxHeaderSize: 64 * 1024 },
    disableKeepAlive: flags.bool('http.disableKeepAlive'),
    onConnection: (socket: Socket) => {
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
    amWatch.stop();
    await gateway.rateStore.close();
    gateway.config.jwt?.authenticator.close();
    await closeAllDispatchers();
    return null;
  }
  // One pusher per gateway: in cluster mode the first worker pushes the merged view.
  const pushUrls = flags.strings('pushmetrics.url').filter((u) => u !== '');
  const pusher = pushUrls.length > 0 && (process.env[WORKER_SLOT_ENV] ?? '0') === '0' ? startPushMetrics({
    urls: pushUrls,
    intervalMs: flags.duration('pushmetrics.interval'),
    extraLabels: flags.strings('pushmetrics.extraLabel').filter((l) => l !== ''),
    headers: flags.strings('pushmetrics.header').filter((h) => h !== '').map((h) => [h.slice(0, h.indexOf(':')).trim(), h.slice(h.indexOf(':') + 1).trim()] as const),
    gzip: !flags.bool('pushmetrics.disableCompression'),
    render: () => metrics.render(),
    log,
  }) : null;
  if ((process.env[WORKER_SLOT_ENV] ?? '0') === '0') logGuards(log, loaded.config, compile.tenantDefaults ?? 'secure');
  log.info(`started tenantgate v${VERSION} at ${JSON.stringify(flags.strings('httpListenAddr'))}${internalAddrs.length ? `, internal endpoints at ${JSON.stringify(internalAddrs)}` : ''} with ${loaded.config.users.length} users${cluster?.label ?? ''}`);

  const serving: Serving = {
    gateway,
    metrics,
    text: loaded.text,
    noteReload(result, error) {
      status.lastReload = { at: Date.now(), result, error };
      if (result === 'applied') status.loadedAt = Date.now();
    },
    reloadFromSource,
    async shutdown() {
      const delayMs = flags.duration('http.shutdownDelay');
      if (delayMs > 0) {
        shutdownDeadline = Date.now() + delayMs;
        await new Promise((r) => setTimeout(r, delayMs));
      }
      await Promise.all(listeners.map((l) => l.close(flags.duration('http.maxGracefulShutdownDuration'))));
      await pusher?.stop();
      await ctx.audit?.close();
      amWatch.stop();
      await gateway.rateStore.close();
      gateway.config.jwt?.authenticator.close();
      await closeAllDispatchers();
      // Worker threads would otherwise outlive the listeners and keep the process from exiting.
      await closeOffload();
    },
  };
  return serving;
}

/** A config error's first line: enough to say what failed, never a multi-line dump. */
function firstLine(s: string): string {
  const i = s.indexOf('\n');
  return i < 0 ? s : s.slice(0, i);
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

/** One line per tenant-scoped user and route (route-guard.ts): what is refused, or that nothing is. */
export function logGuards(log: Logger, config: CompiledConfig, defaults: TenantDefaults): void {
  for (const line of describeGuards(config, defaults)) {
    if (defaults === 'vmauth') log.warn(line); else log.info(line);
  }
}
