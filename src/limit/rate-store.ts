// Where rate-limit buckets live. Every store takes a request's checks all-or-nothing: either
// every bucket has room and all are charged, or none is charged and the verdict names the bucket
// that refused. Stores: in-process (local-store.ts), the cluster primary's buckets reached over
// IPC (src/process/), and Redis / Valkey shared by every replica (redis-store.ts).
import type { GcraLimit } from './gcra.ts';

export interface RateCheck {
  /** Bucket name, unique per budget and limit (e.g. `u:alice:requests`). */
  readonly key: string;
  readonly limit: GcraLimit;
  readonly cost: number;
}

export interface RateVerdict {
  readonly allowed: boolean;
  /** The check that refused; when allowed, the check with the fewest units left. */
  readonly index: number;
  readonly remaining: number;
  readonly retryAfterMs: number;
  readonly resetMs: number;
}

export interface RateStore {
  /** 'local', 'cluster' or 'redis': the `store` label of store metrics. */
  readonly name: string;
  /** For stores behind a connection: whether it is up now (the `tenantgate_ratelimit_store_connected` gauge). */
  readonly connected?: boolean;
  /** Rejects (or throws) when the store cannot answer; the caller applies the fail mode. */
  take(checks: readonly RateCheck[]): RateVerdict | Promise<RateVerdict>;
  close(): Promise<void>;
}

/** Thrown when a store cannot decide (unreachable, timed out, too many calls pending). */
export class RateStoreError extends Error {
  readonly code: 'ERR_RATE_STORE_UNAVAILABLE' | 'ERR_RATE_STORE_TIMEOUT' | 'ERR_RATE_STORE_OVERLOADED';
  constructor(code: RateStoreError['code'], message: string) {
    super(message);
    this.code = code;
  }
}
