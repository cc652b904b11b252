// -workers=N with the in-process store: one set of rate-limit buckets per gateway, owned by the
// cluster primary, so N workers share one budget instead of N. A worker asks the primary for
// each decision over the cluster IPC channel; the primary answers from a LocalRateStore.
//
// The messages carry no `t` field, so the primary's and workers' own protocol handlers
// (gateway/cluster-protocol.ts) ignore them. A worker bounds what it waits for: at most
// maxPending calls in flight and a timeout per call; a call that fails either way (or a
// primary that is gone) is a store error, and -ratelimit.failMode decides.
import type { Cluster, Worker } from 'node:cluster';
import { LocalRateStore } from '../limit/local-store.ts';
import { RateStoreError, type RateCheck, type RateStore, type RateVerdict } from '../limit/rate-store.ts';

/**
 * Worker → primary: the questions of one event-loop turn in one message (one message per
 * request would cost more than the decisions: serialising and the pipe write dominate).
 * `q` is flat: id, number of checks, then key, intervalMs, burst, cost per check.
 */
interface TakeMessage { readonly rl: 'take'; readonly q: readonly (string | number)[] }
/** Primary → worker: per question id, allowed (1/0), index, remaining, retryAfterMs, resetMs. */
interface VerdictMessage { readonly rl: 'verdict'; readonly v: readonly number[] }

/** A worker waits this long for the primary; it answers in microseconds unless it is stuck. */
export const CLUSTER_RATE_TIMEOUT_MS = 1000;

const isTake = (m: unknown): m is TakeMessage => typeof m === 'object' && m !== null && (m as { rl?: unknown }).rl === 'take';
const isVerdict = (m: unknown): m is VerdictMessage => typeof m === 'object' && m !== null && (m as { rl?: unknown }).rl === 'verdict';

/** In the primary: answers every worker's rate-limit questions from one set of buckets. */
export function serveRateBuckets(cluster: Cluster, maxKeys: number): () => void {
  const store = new LocalRateStore(maxKeys);
  const onMessage = (worker: Worker, m: unknown) => {
    if (!isTake(m) || !Array.isArray(m.q)) return;
    const q = m.q;
    const out: number[] = [];
    // A malformed question ends the batch; the questions left unanswered time out in the worker.
    for (let i = 0; i + 1 < q.length;) {
      const id = q[i] as number;
      const n = q[i + 1] as number;
      if (typeof id !== 'number' || typeof n !== 'number' || n < 1 || n > 16 || i + 2 + n * 4 > q.length) break;
      const checks: RateCheck[] = [];
      for (let j = 0, k = i + 2; j < n; j++, k += 4) {
        checks.push({ key: String(q[k]), limit: { intervalMs: Number(q[k + 1]), burst: Number(q[k + 2]) }, cost: Number(q[k + 3]) });
      }
      i += 2 + n * 4;
      const v = store.take(checks);
      out.push(id, v.allowed ? 1 : 0, v.index, v.remaining, v.retryAfterMs, v.resetMs);
    }
    if (out.length === 0 || !worker.isConnected()) return;
    const reply: VerdictMessage = { rl: 'verdict', v: out };
    try { worker.send(reply); } catch { /* the worker is going away */ }
  };
  cluster.on('message', onMessage);
  return () => { cluster.off('message', onMessage); };
}

interface Waiting {
  readonly resolve: (v: RateVerdict) => void;
  readonly reject: (e: Error) => void;
  readonly deadline: number;
}

/** In a worker: a RateStore whose buckets are the primary's. */
export class ClusterRateStore implements RateStore {
  readonly name = 'cluster';
  readonly #waiting = new Map<number, Waiting>();
  readonly #timeoutMs: number;
  readonly #maxPending: number;
  readonly #sweeper: NodeJS.Timeout;
  #nextId = 1;

  constructor(timeoutMs: number, maxPending: number) {
    this.#timeoutMs = timeoutMs;
    this.#maxPending = maxPending;
    process.on('message', this.#onMessage);
    // One timer for every call: a per-call timer would cost more than the call itself.
    this.#sweeper = setInterval(() => this.#expire(), Math.max(5, Math.min(250, Math.floor(timeoutMs / 2)))).unref();
  }

  /** Questions of this event-loop turn, not sent yet (flat, as TakeMessage.q). */
  #batch: (string | number)[] = [];
  #flushScheduled = false;

  readonly #onMessage = (m: unknown) => {
    if (!isVerdict(m)) return;
    const v = m.v;
    for (let i = 0; i + 5 < v.length; i += 6) {
      const w = this.#waiting.get(v[i] as number);
      if (w === undefined) continue;
      this.#waiting.delete(v[i] as number);
      w.resolve({ allowed: v[i + 1] === 1, index: v[i + 2] as number, remaining: v[i + 3] as number, retryAfterMs: v[i + 4] as number, resetMs: v[i + 5] as number });
    }
  };

  readonly #flush = () => {
    this.#flushScheduled = false;
    const q = this.#batch;
    if (q.length === 0) return;
    this.#batch = [];
    const msg: TakeMessage = { rl: 'take', q };
    process.send?.(msg, undefined, undefined, (err) => {
      if (err === null || err === undefined) return;
      // Fail every question of the batch now rather than at its timeout.
      for (let i = 0; i + 1 < q.length; i += 2 + (q[i + 1] as number) * 4) {
        const w = this.#waiting.get(q[i] as number);
        if (w === undefined) continue;
        this.#waiting.delete(q[i] as number);
        w.reject(new RateStoreError('ERR_RATE_STORE_UNAVAILABLE', `cannot ask the cluster primary: ${err.message}`));
      }
    });
  };

  take(checks: readonly RateCheck[]): Promise<RateVerdict> {
    if (!process.connected || typeof process.send !== 'function') {
      throw new RateStoreError('ERR_RATE_STORE_UNAVAILABLE', 'the cluster primary is gone');
    }
    if (this.#waiting.size >= this.#maxPending) {
      throw new RateStoreError('ERR_RATE_STORE_OVERLOADED', `${this.#waiting.size} questions to the cluster primary are pending`);
    }
    const id = this.#nextId++;
    const b = this.#batch;
    b.push(id, checks.length);
    for (const c of checks) b.push(c.key, c.limit.intervalMs, c.limit.burst, c.cost);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      // After the I/O callbacks of this turn: requests parsed together share one message.
      setImmediate(this.#flush);
    }
    return new Promise<RateVerdict>((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject, deadline: performance.now() + this.#timeoutMs });
    });
  }

  #expire(): void {
    if (this.#waiting.size === 0) return;
    const now = performance.now();
    for (const [id, w] of this.#waiting) {
      if (w.deadline > now) continue;
      this.#waiting.delete(id);
      w.reject(new RateStoreError('ERR_RATE_STORE_TIMEOUT', `the cluster primary did not answer within ${this.#timeoutMs}ms`));
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#sweeper);
    process.off('message', this.#onMessage);
    for (const [, w] of this.#waiting) w.reject(new RateStoreError('ERR_RATE_STORE_UNAVAILABLE', 'shutting down'));
    this.#waiting.clear();
  }
}
