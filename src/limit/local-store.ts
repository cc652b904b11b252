// Buckets in this process's memory: the store of a single-process gateway, and of the cluster
// primary that decides for its workers. A decision is synchronous and allocation-light.
import { gcra, type GcraDecision } from './gcra.ts';
import type { RateCheck, RateStore, RateVerdict } from './rate-store.ts';

export const DEFAULT_MAX_KEYS = 100_000;

export class LocalRateStore implements RateStore {
  readonly name = 'local';
  /** Bucket key → TAT in ms on this process's monotonic clock. */
  readonly #tat = new Map<string, number>();
  readonly #maxKeys: number;
  readonly #now: () => number;

  constructor(maxKeys = DEFAULT_MAX_KEYS, now: () => number = () => performance.now()) {
    this.#maxKeys = Math.max(1, maxKeys);
    this.#now = now;
  }

  get size(): number { return this.#tat.size; }

  take(checks: readonly RateCheck[]): RateVerdict {
    const now = this.#now();
    if (checks.length === 1) {
      const c = checks[0] as RateCheck;
      const d = gcra(this.#tat.get(c.key) ?? now, now, c.limit, c.cost);
      if (d.allowed) this.#store(c.key, d.tat, now);
      return verdict(d, 0);
    }
    let tightest: GcraDecision | null = null;
    let tightestIndex = 0;
    const decisions: GcraDecision[] = [];
    for (let i = 0; i < checks.length; i++) {
      const c = checks[i] as RateCheck;
      const d = gcra(this.#tat.get(c.key) ?? now, now, c.limit, c.cost);
      if (!d.allowed) return verdict(d, i);
      decisions.push(d);
      if (tightest === null || d.remaining < tightest.remaining) { tightest = d; tightestIndex = i; }
    }
    for (let i = 0; i < checks.length; i++) this.#store((checks[i] as RateCheck).key, (decisions[i] as GcraDecision).tat, now);
    return verdict(tightest as GcraDecision, tightestIndex);
  }

  #store(key: string, tat: number, now: number): void {
    const map = this.#tat;
    if (map.size >= this.#maxKeys && !map.has(key)) this.#evict(now);
    map.set(key, tat);
  }

  /**
   * Makes room for one key. A bucket whose TAT has passed is full, exactly as if it were absent,
   * so dropping those loses nothing; if none has, the oldest buckets go (they restart full,
   * which errs towards admitting). The sweep removes a slice at once so it does not repeat per request.
   */
  #evict(now: number): void {
    const map = this.#tat;
    for (const [k, tat] of map) if (tat <= now) map.delete(k);
    if (map.size < this.#maxKeys) return;
    let drop = Math.max(1, Math.floor(this.#maxKeys / 100));
    for (const k of map.keys()) {
      map.delete(k);
      if (--drop === 0) break;
    }
  }

  async close(): Promise<void> { this.#tat.clear(); }
}

function verdict(d: GcraDecision, index: number): RateVerdict {
  return { allowed: d.allowed, index, remaining: d.remaining, retryAfterMs: d.retryAfterMs, resetMs: d.resetMs };
}
