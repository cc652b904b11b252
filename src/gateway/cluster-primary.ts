// -workers=N (N > 1): the primary process. It validates -auth.config before forking (same exit
// codes as a single process), forks N workers that each run the normal gateway, and keeps them
// behaving as one: it reads the config once per reload and drives a two-phase reload in every
// worker, gathers every worker's metrics for a scrape, restarts crashed workers (bounded), and
// drains them all on SIGTERM / SIGINT. The primary serves no requests itself; node:cluster hands
// accepted connections to the workers round-robin.
import cluster, { type Worker } from 'node:cluster';
import { ConfigError } from '../config/errors.ts';
import { loadConfig, readConfigSource } from '../config/load.ts';
import { closeAllDispatchers } from '../forward/dispatchers.ts';
import type { MetricsSnapshot } from '../observe/metrics-snapshot.ts';
import { isMessage, WORKER_COUNT_ENV, WORKER_SLOT_ENV, type ReloadState, type ToPrimary, type ToWorker } from './cluster-protocol.ts';
import type { ServeContext } from './serve.ts';
import { configDigest } from '../observe/audit-reload.ts';
import { serveRateBuckets } from '../process/rate-buckets-ipc.ts';

/** A worker that dies more often than this within RESTART_WINDOW_MS stops the whole gateway. */
const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 60_000;
const PREPARE_TIMEOUT_MS = 60_000;
const COMMIT_TIMEOUT_MS = 10_000;
const SNAPSHOT_TIMEOUT_MS = 5_000;

interface Slot {
  readonly index: number;
  worker: Worker | null;
  /** Received its config ('start'); from then on it takes part in reloads. */
  started: boolean;
  ready: boolean;
}

type Reply<T> = { kind: 'ok'; msg: T } | { kind: 'gone' } | { kind: 'timeout' };

export async function runPrimary(ctx: ServeContext, count: number, argv: readonly string[]): Promise<number> {
  const { flags, log, source, compile } = ctx;
  let text: string;
  try {
    const loaded = await loadConfig(source, compile);
    text = loaded.text;
    // Compiled only to validate; the workers compile their own copies.
    loaded.config.jwt?.authenticator.close();
    for (const s of loaded.config.backendSets) s.retire();
    await closeAllDispatchers();
  } catch (err) {
    await closeAllDispatchers();
    if (err instanceof ConfigError) { log.error(`cannot load -auth.config=${JSON.stringify(source)}:\n${err.message}`); return 1; }
    throw err;
  }

  let state: ReloadState = { total: 0, errors: 0, successful: 1, successSeconds: Math.floor(Date.now() / 1000) };
  const slots: Slot[] = Array.from({ length: count }, (_, index) => ({ index, worker: null, started: false, ready: false }));
  const pending = new Map<string, { slot: Slot; resolve: (r: Reply<ToPrimary>) => void }>();
  let restarts = 0;
  const restartTimes: number[] = [];
  let phase: 'starting' | 'running' | 'stopping' = 'starting';
  let stopCode = 0;
  let killTimer: NodeJS.Timeout | undefined;
  let finish: (code: number) => void = () => {};
  const finished = new Promise<number>((r) => { finish = r; });
  // Reloads and hand-outs of the config to (re)started workers run one at a time, so a worker
  // never starts on a config that a reload in flight is about to replace.
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const p = chain.then(fn);
    chain = p.catch(() => {});
    return p;
  };
  let nextId = 1;
  let ticker: NodeJS.Timeout | undefined;

  const send = (slot: Slot, msg: ToWorker) => {
    const w = slot.worker;
    if (w === null || !w.isConnected()) return false;
    try { w.send(msg); return true; } catch { return false; }
  };
  /** Sends `msg` and waits for the worker's `replyType` answer carrying the same `key`. */
  const ask = <T extends ToPrimary>(slot: Slot, msg: ToWorker, replyType: T['t'], key: number, timeoutMs: number): Promise<Reply<T>> => {
    const k = `${slot.index}:${replyType}:${key}`;
    return new Promise((resolve) => {
      const timer = setTimeout(() => { pending.delete(k); resolve({ kind: 'timeout' }); }, timeoutMs);
      pending.set(k, { slot, resolve: (r) => { clearTimeout(timer); pending.delete(k); resolve(r as Reply<T>); } });
      if (!send(slot, msg)) pending.get(k)?.resolve({ kind: 'gone' });
    });
  };
  const settle = (slot: Slot, replyType: string, key: number, msg: ToPrimary) => {
    pending.get(`${slot.index}:${replyType}:${key}`)?.resolve({ kind: 'ok', msg });
  };
  const started = () => slots.filter((s) => s.started && s.worker !== null);

  const reloadAll = (why: string): Promise<boolean> => serial(async () => {
    const seq = nextId++;
    const total = state.total + 1;
    const fail = async (message: string) => {
      state = { ...state, total, errors: state.errors + 1, successful: 0 };
      await Promise.all(started().map((s) => ask(s, { t: 'abort', seq, state }, 'committed', seq, COMMIT_TIMEOUT_MS)));
      ctx.audit?.record({ event: 'reload', trigger: why, result: 'failed', old_sha256: configDigest(text), error: message.split('\n', 1)[0] });
      log.error(`failed to reload -auth.config=${JSON.stringify(source)} (${why}); every worker keeps the last successfully loaded config; error:\n${message}`);
      return false;
    };
    let next: string;
    try {
      next = await readConfigSource(source);
    } catch (err) {
      return fail((err as Error).message);
    }
    const changed = next !== text;
    let users = -1;
    if (changed) {
      const answers = await Promise.all(started().map((s) => ask<Extract<ToPrimary, { t: 'prepared' }>>(s, { t: 'prepare', seq, text: next }, 'prepared', seq, PREPARE_TIMEOUT_MS)
        .then((r) => ({ slot: s, r }))));
      for (const { slot, r } of answers) {
        if (r.kind === 'timeout') return fail(`worker ${slot.index + 1} did not compile the config within ${PREPARE_TIMEOUT_MS / 1000}s`);
        if (r.kind === 'ok' && !r.msg.ok) return fail(r.msg.error);
        if (r.kind === 'ok') users = r.msg.users;
      }
      ctx.audit?.record({ event: 'reload', trigger: why, result: 'applied', old_sha256: configDigest(text), new_sha256: configDigest(next) });
      text = next;
    } else {
      ctx.audit?.record({ event: 'reload', trigger: why, result: 'unchanged', old_sha256: configDigest(text) });
    }
    state = { total, errors: state.errors, successful: 1, successSeconds: changed ? Math.floor(Date.now() / 1000) : state.successSeconds };
    // Waiting for every worker's acknowledgement makes "/-/reload answered 200" mean "every worker swapped".
    await Promise.all(started().map((s) => ask(s, { t: 'commit', seq, state }, 'committed', seq, COMMIT_TIMEOUT_MS)));
    if (changed) log.info(`reloaded -auth.config=${JSON.stringify(source)} (${why}) in ${count} workers${users >= 0 ? `: ${users} users` : ''}`);
    return true;
  });

  const scrape = async (): Promise<{ snapshots: MetricsSnapshot[]; extraSeries: [string, number][] }> => {
    const id = nextId++;
    const answers = await Promise.all(slots.filter((s) => s.ready).map((s) => ask<Extract<ToPrimary, { t: 'snapshot-reply' }>>(s, { t: 'snapshot', id }, 'snapshot-reply', id, SNAPSHOT_TIMEOUT_MS)));
    const snapshots = answers.flatMap((r) => (r.kind === 'ok' ? [r.msg.snapshot] : []));
    return {
      snapshots,
      extraSeries: [['tenantgate_workers', count], ['tenantgate_workers_scraped', snapshots.length], ['tenantgate_worker_restarts_total', restarts]],
    };
  };

  const onMessage = (slot: Slot, m: unknown) => {
    if (!isMessage(m)) return;
    const msg = m as ToPrimary;
    switch (msg.t) {
      case 'hello':
        void serial(async () => {
          if (send(slot, { t: 'start', text, state })) slot.started = true;
        });
        return;
      case 'ready':
        slot.ready = true;
        if (phase === 'starting' && slots.every((s) => s.ready)) {
          phase = 'running';
          log.info(`started ${count} workers (pids ${slots.map((s) => s.worker?.process.pid).join(', ')}); reloads and /metrics cover all of them`);
        }
        return;
      case 'prepared': settle(slot, 'prepared', msg.seq, msg); return;
      case 'committed': settle(slot, 'committed', msg.seq, msg); return;
      case 'snapshot-reply': settle(slot, 'snapshot-reply', msg.id, msg); return;
      case 'reload-request':
        void reloadAll(msg.why).then((ok) => { send(slot, { t: 'reload-done', id: msg.id, ok }); });
        return;
      case 'scrape-request':
        void scrape().then((r) => { send(slot, { t: 'scrape-done', id: msg.id, ...r }); });
        return;
    }
  };

  const fork = (slot: Slot) => {
    const w = cluster.fork({ [WORKER_SLOT_ENV]: String(slot.index), [WORKER_COUNT_ENV]: String(count) });
    slot.worker = w;
    slot.started = false;
    slot.ready = false;
    w.on('message', (m: unknown) => { if (slot.worker === w) onMessage(slot, m); });
    w.on('exit', (code, signal) => {
      if (slot.worker !== w) return;
      slot.worker = null;
      slot.started = false;
      slot.ready = false;
      for (const p of [...pending.values()]) if (p.slot === slot) p.resolve({ kind: 'gone' });
      onExit(slot, w.process.pid, code, signal);
    });
  };

  const onExit = (slot: Slot, pid: number | undefined, code: number | null, signal: string | null) => {
    const how = signal !== null ? `signal ${signal}` : `code ${code}`;
    if (phase === 'stopping') {
      if (slots.every((s) => s.worker === null)) finish(stopCode);
      return;
    }
    if (phase === 'starting') {
      log.error(`worker ${slot.index + 1} (pid ${pid}) exited with ${how} during start-up; stopping tenantgate`);
      void stop(1);
      return;
    }
    const now = Date.now();
    while (restartTimes.length > 0 && now - (restartTimes[0] as number) > RESTART_WINDOW_MS) restartTimes.shift();
    if (restartTimes.length >= MAX_RESTARTS) {
      log.error(`worker ${slot.index + 1} (pid ${pid}) exited with ${how}; ${MAX_RESTARTS} restarts within ${RESTART_WINDOW_MS / 1000}s already, so tenantgate stops`);
      void stop(1);
      return;
    }
    restartTimes.push(now);
    restarts++;
    log.error(`worker ${slot.index + 1} (pid ${pid}) exited unexpectedly with ${how}; restarting it`);
    fork(slot);
  };

  const stop = async (code: number) => {
    if (phase === 'stopping') return;
    phase = 'stopping';
    stopCode = code;
    if (ticker !== undefined) clearInterval(ticker);
    if (slots.every((s) => s.worker === null)) { finish(stopCode); return; }
    for (const s of slots) {
      // A worker that has not asked for its config yet cannot drain anything; it just goes.
      if (s.worker !== null && !send(s, { t: 'shutdown' })) s.worker.process.kill('SIGTERM');
    }
    // Workers drain within -http.shutdownDelay + -http.maxGracefulShutdownDuration; stragglers are killed.
    const boundMs = flags.duration('http.shutdownDelay') + flags.duration('http.maxGracefulShutdownDuration') + 10_000;
    killTimer = setTimeout(() => {
      for (const s of slots) {
        if (s.worker !== null) {
          log.error(`worker ${s.index + 1} (pid ${s.worker.process.pid}) did not stop within ${boundMs / 1000}s; killing it`);
          stopCode = 1;
          s.worker.process.kill('SIGKILL');
        }
      }
    }, boundMs);
  };

  // Workers run this same program with the same flags; structured clone keeps NaN quantiles intact.
  cluster.setupPrimary({ args: [...argv], serialization: 'advanced' });
  if (ctx.opts.rateLimit?.store !== 'redis') serveRateBuckets(cluster, ctx.opts.rateLimit?.maxKeys ?? 100_000);
  for (const s of slots) fork(s);

  const onHup = () => { log.info('SIGHUP received; reloading -auth.config in every worker'); ctx.audit?.reopen(); void reloadAll('SIGHUP'); };
  const onTerm = (signal: string) => () => {
    if (phase === 'stopping') return;
    log.info(`received ${signal}; draining ${count} workers`);
    void stop(0);
  };
  const onSigterm = onTerm('SIGTERM');
  const onSigint = onTerm('SIGINT');
  process.on('SIGHUP', onHup);
  process.on('SIGTERM', onSigterm);
  process.on('SIGINT', onSigint);
  const interval = flags.duration('configCheckInterval');
  if (interval > 0) ticker = setInterval(() => void reloadAll('-configCheckInterval'), interval);

  const code = await finished;
  if (killTimer !== undefined) clearTimeout(killTimer);
  process.off('SIGHUP', onHup);
  process.off('SIGTERM', onSigterm);
  process.off('SIGINT', onSigint);
  await ctx.audit?.close();
  log.info(code === 0 ? 'stopped tenantgate' : 'stopped tenantgate after a failure');
  return code;
}
