// -workers=N (N > 1): one worker process. It serves exactly like a lone tenantgate (serve.ts), with
// three differences: its config text comes from the primary (so all workers run the same bytes),
// reloads happen when the primary says so (two-phase: compile, then swap), and /metrics renders
// the merge of every worker's numbers. Its concurrency limits are its share of the configured
// ones (cluster-limits.ts).
import cluster from 'node:cluster';
import { ConfigError } from '../config/errors.ts';
import { parseConfigText } from '../config/load.ts';
import type { CompiledConfig } from '../config/model.ts';
import type { Metrics, ClusterScrape } from '../observe/metrics.ts';
import { workerShare } from './cluster-limits.ts';
import { ClusterRateStore, CLUSTER_RATE_TIMEOUT_MS } from '../process/rate-buckets-ipc.ts';
import { isMessage, WORKER_COUNT_ENV, WORKER_SLOT_ENV, type ReloadState, type ToPrimary, type ToWorker } from './cluster-protocol.ts';
import { logGuards, startServing, type ServeContext, type Serving } from './serve.ts';

/** Whether this process was forked by a tenantgate cluster primary. */
export function isClusterWorker(): boolean {
  return cluster.isWorker && process.env[WORKER_SLOT_ENV] !== undefined;
}

function applyReloadState(metrics: Metrics, s: ReloadState): void {
  metrics.set('vmauth_config_last_reload_successful', s.successful);
  metrics.set('vmauth_config_last_reload_success_timestamp_seconds', s.successSeconds);
  metrics.set('vmauth_config_last_reload_total', s.total);
  metrics.set('vmauth_config_last_reload_errors_total', s.errors);
}

/** Drops a compiled snapshot that never served: its key refresh and backend pools. */
function discard(config: CompiledConfig): void {
  config.jwt?.authenticator.close();
  for (const s of config.backendSets) s.retire();
}

export async function runWorker(ctx: ServeContext): Promise<number> {
  const code = await serveAsWorker(ctx);
  if (process.connected) process.disconnect();
  // Whatever handle is left (a keep-alive socket to a backend), the worker is done.
  setTimeout(() => process.exit(code), 2000).unref();
  return code;
}

async function serveAsWorker(ctx: ServeContext): Promise<number> {
  const { log, source, compile } = ctx;
  const slot = Number(process.env[WORKER_SLOT_ENV]);
  const workers = Number(process.env[WORKER_COUNT_ENV]);
  const opts = {
    ...ctx.opts,
    maxConcurrentRequests: workerShare(ctx.opts.maxConcurrentRequests, slot, workers),
    userLimitShare: (limit: number) => workerShare(limit, slot, workers),
    // With the in-process store, rate-limit buckets are the primary's: one budget per gateway.
    ...(ctx.opts.rateLimit?.store === 'redis' ? {} : { rateStore: () => new ClusterRateStore(CLUSTER_RATE_TIMEOUT_MS, ctx.opts.rateLimit?.maxPendingCalls ?? 10_000) }),
  };
  const send = (m: ToPrimary) => { if (process.connected) process.send?.(m); };

  // Answers to this worker's own questions (reload, scrape), by id.
  let nextId = 1;
  const waiting = new Map<number, (m: ToWorker) => void>();
  const askPrimary = (make: (id: number) => ToPrimary, timeoutMs: number): Promise<ToWorker | null> => new Promise((resolve) => {
    const id = nextId++;
    const timer = setTimeout(() => { waiting.delete(id); resolve(null); }, timeoutMs);
    waiting.set(id, (m) => { clearTimeout(timer); waiting.delete(id); resolve(m); });
    send(make(id));
  });

  let startMsg: (m: Extract<ToWorker, { t: 'start' }>) => void = () => {};
  const started = new Promise<Extract<ToWorker, { t: 'start' }>>((r) => { startMsg = r; });
  let stopWith: (why: string) => void = () => {};
  const stopRequested = new Promise<string>((r) => { stopWith = r; });
  let serving: Promise<Serving | null> = Promise.resolve(null);
  let pending: { seq: number; config: CompiledConfig; text: string } | null = null;
  // Primary instructions are handled in order (a commit must follow its prepare).
  let queue: Promise<void> = Promise.resolve();

  const handle = async (m: ToWorker, s: Serving): Promise<void> => {
    switch (m.t) {
      case 'prepare': {
        if (pending !== null) { discard(pending.config); pending = null; }
        try {
          const next = parseConfigText(m.text, source, compile);
          await next.jwt?.authenticator.ready();
          pending = { seq: m.seq, config: next, text: m.text };
          send({ t: 'prepared', seq: m.seq, ok: true, error: '', users: next.users.length });
        } catch (err) {
          send({ t: 'prepared', seq: m.seq, ok: false, error: (err as Error).message, users: 0 });
        }
        return;
      }
      case 'commit':
        if (pending !== null && pending.seq === m.seq) {
          s.gateway.swapConfig(pending.config);
          s.text = pending.text;
          s.noteReload('applied', '');
          if (slot === 0) logGuards(log, pending.config, compile.tenantDefaults ?? 'secure');
        } else if (pending !== null) discard(pending.config);
        pending = null;
        applyReloadState(s.metrics, m.state);
        send({ t: 'committed', seq: m.seq });
        return;
      case 'abort':
        if (pending !== null) { discard(pending.config); pending = null; }
        s.noteReload('failed', 'see the log of the primary process for the error');
        applyReloadState(s.metrics, m.state);
        send({ t: 'committed', seq: m.seq });
        return;
      case 'snapshot':
        send({ t: 'snapshot-reply', id: m.id, snapshot: s.metrics.snapshot({ slot, pid: process.pid }) });
        return;
      default:
        return;
    }
  };

  process.on('message', (raw: unknown) => {
    if (!isMessage(raw)) return;
    const m = raw as ToWorker;
    switch (m.t) {
      case 'start': startMsg(m); return;
      case 'reload-done':
      case 'scrape-done': waiting.get(m.id)?.(m); return;
      case 'shutdown': stopWith('the primary asked'); return;
      default:
        queue = queue.then(async () => {
          const s = await serving;
          if (s !== null) await handle(m, s);
        });
    }
  });
  // A worker whose primary is gone cannot be coordinated any more (and receives no connections).
  process.on('disconnect', () => stopWith('the primary is gone'));
  process.on('SIGTERM', () => stopWith('SIGTERM'));
  process.on('SIGINT', () => stopWith('SIGINT'));
  // kill -HUP <worker pid> reloads every worker, like kill -HUP <primary pid>.
  process.on('SIGHUP', () => { send({ t: 'reload-request', id: 0, why: `SIGHUP to worker ${slot + 1}` }); });

  send({ t: 'hello' });
  const start = await Promise.race([started, stopRequested.then(() => null)]);
  if (start === null) return 0;

  let config: CompiledConfig;
  try {
    config = parseConfigText(start.text, source, compile);
  } catch (err) {
    if (err instanceof ConfigError) { log.error(`cannot load -auth.config=${JSON.stringify(source)}:\n${err.message}`); return 1; }
    throw err;
  }
  await config.jwt?.authenticator.ready();
  serving = startServing({ ...ctx, opts }, { config, text: start.text }, {
    label: ` (worker ${slot + 1} of ${workers}, pid ${process.pid})`,
    requestReload: async (why) => {
      const r = await askPrimary((id) => ({ t: 'reload-request', id, why }), 120_000);
      return r !== null && r.t === 'reload-done' && r.ok;
    },
  });
  const s = await serving;
  if (s === null) return 1;
  applyReloadState(s.metrics, start.state);
  s.metrics.useClusterSource(async (): Promise<ClusterScrape> => {
    const r = await askPrimary((id) => ({ t: 'scrape-request', id }), 10_000);
    if (r === null || r.t !== 'scrape-done' || r.snapshots.length === 0) {
      // Without the primary, this worker's own numbers are all there is.
      return { snapshots: [s.metrics.snapshot({ slot, pid: process.pid })], extraSeries: [['tenantgate_workers', workers], ['tenantgate_workers_scraped', 1]] };
    }
    return { snapshots: r.snapshots, extraSeries: r.extraSeries };
  });
  send({ t: 'ready' });

  await stopRequested;
  await s.shutdown();
  // Set by message handlers while this function awaited; TypeScript cannot see that.
  const leftover = pending as { config: CompiledConfig } | null;
  if (leftover !== null) discard(leftover.config);
  return 0;
}
