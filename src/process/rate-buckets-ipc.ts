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

/** Worker → primary: [key, intervalMs, burst, cost] per check. */
interface TakeMessage { readonly rl: 'take'; readonly id: number; readonly c: readonly (readonly [string, number, number, number])[] }
/** Primary → worker: the verdict as [allowed, index, remaining, retryAfterMs, resetMs]. */
interface VerdictMessage { readonly rl: 'verdict'; readonly id: number; readonly v: readonly [boolean, number, number, number, number] }

/** A worker waits this long for the primary; it answers in microseconds unless it is stuck. */
export const CLUSTER_RATE_TIMEOUT_MS = 1000;

const isTake = (m: unknown): m is TakeMessage => typeof m === 'object' && m !== null && (m as { rl?: unknown }).rl === 'take';
const isVerdict = (m: unknown): m is VerdictMessage => typeof m === 'object' && m !== null && (m as { rl?: unknown }).rl === 'verdict';

/** In the primary: answers every worker's rate-limit questions from one set of buckets. */
export function serveRateBuckets(cluster: Cluster, maxKeys: number): () => void {
  const store = new LocalRateStore(maxKeys);
  const onMessage = (worker: Worker, m: unknown) => {
    if (!isTake(m)) return;
    let v: RateVerdict;
    try {
      v = store.take(m.c.map(([key, intervalMs, burst, cost]) => ({ key, limit: { intervalMs, burst }, cost })));
    } catch {
      return; // A malformed question gets no answer; the worker's timeout turns it into a store error.
    }
    const reply: VerdictMessage = { rl: 'verdict', id: m.id, v: [v.allowed, v.index, v.remaining, v.retryAfterMs, v.resetMs] };
    if (worker.isConnected()) {
      try { worker.send(reply); } catch { /* the worker is going away */ }
    }
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

  readonly #onMessage = (m: unknown) => {
    if (!isVerdict(m)) return;
    const w = this.#waiting.get(m.id);
    if (w === undefined) return;
    this.#waiting.delete(m.id);
    const [allowed, index, remaining, retryAfterMs, resetMs] = m.v;
    w.resolve({ allowed, index, remaining, retryAfterMs, resetMs });
  };

  take(checks: readonly RateCheck[]): Promise<RateVerdict> {
    if (!process.connected || typeof process.send !== 'function') {
      throw new RateStoreError('ERR_RATE_STORE_UNAVAILABLE', 'the cluster primary is gone');
    }
    if (this.#waiting.size >= this.#maxPending) {
      throw new RateStoreError('ERR_RATE_STORE_OVERLOADED', `${this.#waiting.size} questions to the cluster primary are pending`);
    }
    const id = this.#nextId++;
    const msg: TakeMessage = { rl: 'take', id, c: checks.map((c) => [c.key, c.limit.intervalMs, c.limit.burst, c.cost] as const) };
    return new Promise<RateVerdict>((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject, deadline: performance.now() + this.#timeoutMs });
      process.send?.(msg, undefined, undefined, (err) => {
        if (err === null || err === undefined) return;
        if (this.#waiting.delete(id)) reject(new RateStoreError('ERR_RATE_STORE_UNAVAILABLE', `cannot ask the cluster primary: ${err.message}`));
      });
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
