// Per-request admission against a user's `limits:`: the requests and queries rates and the
// concurrent-query cap before any work is done for the request, and the remote-write rates once
// the bytes (Content-Length, before the body is read) and samples (after tenant enforcement
// decoded the write) are known. Refusals are 429 with Retry-After and X-RateLimit-* headers,
// counted per user and limit; when the store cannot answer, -ratelimit.failMode decides.
//
// A user without `limits:` costs one null check. The store decides synchronously in a single
// process (in-process buckets) and asynchronously for cluster workers and Redis.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CompiledUser } from '../config/model.ts';
import { REFUSALS } from '../errors/catalogue.ts';
import type { VmAccess } from '../identify/jwt/index.ts';
import type { Logger } from '../observe/logger.ts';
import { labelString, type Metrics } from '../observe/metrics.ts';
import type { RateLimit, RateLimits } from './config.ts';
import { RateStoreError, type RateCheck, type RateStore, type RateVerdict } from './rate-store.ts';
import { requestKind } from './request-kind.ts';

export type FailMode = 'open' | 'closed';

export interface RateLimiterOptions {
  readonly store: RateStore;
  readonly failMode: FailMode;
  /** Most store calls in flight at once; beyond it the fail mode decides without asking the store. */
  readonly maxPending: number;
  /** This process's share of a max_concurrent_queries limit (cluster workers); unset: all of it. */
  readonly concurrencyShare?: (limit: number) => number;
}

/** A refusal: what the client gets, and the `limit` label it is counted under. */
export interface RateRefusal {
  readonly kind: 'refuse';
  readonly status: 411 | 429 | 503;
  /** requests, queries, write_samples, write_bytes, write_length_required, concurrent_queries or store_unavailable. */
  readonly limit: string;
  readonly message: string;
  readonly headers: Record<string, string>;
  readonly user: CompiledUser;
}

/** An admitted request with limits: release() when it is done (frees its concurrent-query slot). */
export interface RateTicket {
  readonly kind: 'admit';
  release(): void;
}

export type Admission = RateTicket | RateRefusal;

interface Budget {
  readonly limits: RateLimits;
  /** Budget key in the store (the user's, or per token tenant for JWT users). */
  readonly key: string;
}

/** A refusal the store gave for a prepared set of checks, valid until `until` (performance.now()). */
interface KnownRefusal {
  readonly until: number;
  readonly index: number;
  readonly resetAt: number;
}

interface PreparedChecks {
  readonly requests: readonly RateCheck[];
  readonly query: readonly RateCheck[];
}

const FAIL_LOG_INTERVAL_MS = 30_000;
/** JWT tenant keys longer than this are hashed, so a claim cannot make store keys huge. */
const MAX_TENANT_KEY = 200;

export class RateLimiter {
  readonly #store: RateStore;
  readonly #failMode: FailMode;
  readonly #maxPending: number;
  readonly #share: (limit: number) => number;
  readonly #metrics: Metrics;
  readonly #log: Logger;
  #pending = 0;
  /** Checks built once per compiled limits (and budget key), reused by every request. */
  readonly #prepared = new WeakMap<RateLimits, PreparedChecks>();
  /** Concurrent queries in flight per budget key; an entry lives while its count is above 0. */
  readonly #inFlight = new Map<string, number>();
  /** Write requests admitted but not yet charged for their samples. */
  readonly #writes = new WeakMap<IncomingMessage, Budget>();
  #failures = 0;
  #lastFailLog = 0;
  /**
   * Refusals remembered per prepared checks: until the moment the store named, the same checks
   * are refused here without asking it again. Exact, not an approximation: a GCRA bucket only
   * refills with time (other processes can only empty it further), and the moment is counted
   * from before the question was sent, so it is never later than the store's. A tenant hammering
   * past its limit therefore costs the primary or Redis one call per Retry-After, not one per request.
   */
  readonly #refusedUntil = new WeakMap<readonly RateCheck[], KnownRefusal>();
  /** Requests refused here, for the access log's `reason`. */
  readonly #refused = new WeakMap<IncomingMessage, string>();

  constructor(opts: RateLimiterOptions, metrics: Metrics, log: Logger) {
    this.#store = opts.store;
    this.#failMode = opts.failMode;
    this.#maxPending = opts.maxPending;
    this.#share = opts.concurrencyShare ?? ((n) => n);
    this.#metrics = metrics;
    this.#log = log;
    const store = opts.store;
    if ('connected' in store) metrics.gauge(`tenantgate_ratelimit_store_connected{store="${store.name}"}`, () => (store.connected === true ? 1 : 0));
  }

  get store(): RateStore { return this.#store; }

  /**
   * Admission before any work: null when the user has no limits, else a ticket or a refusal
   * (synchronously when the store can answer at once).
   */
  admit(user: CompiledUser, req: IncomingMessage, path: string, access: VmAccess | null): Admission | Promise<Admission> | null {
    const limits = user.limits;
    if (limits === null) return null;
    const kind = requestKind(path);
    const budget: Budget = { limits, key: access === null ? limits.key : tenantKey(limits.key, access) };
    let checks: readonly RateCheck[];
    let prepared = false;
    if (access === null) {
      prepared = true;
      const p = this.#checks(limits);
      checks = kind === 'query' ? p.query : p.requests;
    } else {
      checks = buildChecks(budget.key, limits, kind === 'query');
    }
    if (kind === 'write' && limits.writeBytes !== null) {
      // No Content-Length and no Transfer-Encoding: no body (as node's parser reads it).
      const declared = Number(req.headers['content-length'] ?? 0);
      if (req.headers['transfer-encoding'] !== undefined) {
        // A chunked body cannot be counted before it is read; without this it would bypass the limit.
        return refusal(user, 411, 'write_length_required',
          `write_bytes_per_second applies to ${user.logName}: send writes with a Content-Length header (a chunked body cannot be counted before it is read)`, {});
      }
      if (declared > 0) { checks = [...checks, { key: `{${budget.key}}:write_bytes`, limit: limits.writeBytes.gcra, cost: declared }]; prepared = false; }
    }
    if (kind === 'write' && limits.writeSamples !== null) this.#writes.set(req, budget);
    let slot: string | null = null;
    if (kind === 'query' && limits.maxConcurrentQueries > 0) {
      const cap = this.#share(limits.maxConcurrentQueries);
      const n = this.#inFlight.get(budget.key) ?? 0;
      if (n >= cap) {
        return refusal(user, 429, 'concurrent_queries',
          `too many concurrent queries for ${user.logName}: max_concurrent_queries=${limits.maxConcurrentQueries} are running; retry when one finishes`,
          { 'retry-after': '1', 'x-ratelimit-limit': String(limits.maxConcurrentQueries), 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '1' });
      }
      this.#inFlight.set(budget.key, n + 1);
      slot = budget.key;
    }
    const ticket = slot === null ? ADMITTED : this.#ticket(slot);
    if (checks.length === 0) return ticket;
    return this.#take(user, checks, ticket, prepared);
  }

  /**
   * The remote-write samples of an admitted write, once known (tenant enforcement decoded it):
   * null when within the limit (or none applies), else a refusal. Nothing is forwarded on refusal.
   */
  chargeWriteSamples(user: CompiledUser, req: IncomingMessage, samples: number): RateRefusal | Promise<RateRefusal | null> | null {
    const budget = this.#writes.get(req);
    if (budget === undefined || samples <= 0) return null;
    this.#writes.delete(req);
    const limit = budget.limits.writeSamples as RateLimit;
    const r = this.#take(user, [{ key: `{${budget.key}}:write_samples`, limit: limit.gcra, cost: samples }], ADMITTED, false);
    if (r instanceof Promise) return r.then((a) => (a.kind === 'refuse' ? a : null));
    return r.kind === 'refuse' ? r : null;
  }

  /** Sends a refusal (429, or 503 when the store is down and failing closed); returns the status. */
  respond(res: ServerResponse, r: RateRefusal): number {
    this.#metrics.requestError(REFUSALS[r.status === 503 ? 'ratelimit_store_unavailable' : r.status === 411 ? 'ratelimit_length_required' : 'rate_limited'].reason);
    this.#metrics.inc(`tenantgate_user_rate_limited_total${labelString({ ...r.user.metricLabels, limit: r.limit })}`);
    if (res.req !== undefined) this.#refused.set(res.req, r.status === 503 ? 'ratelimit_store_unavailable' : r.status === 411 ? 'ratelimit_length_required' : `rate_limited:${r.limit}`);
    if (!res.headersSent && !res.destroyed) {
      const body = r.message + '\n';
      res.writeHead(r.status, {
        'content-type': 'text/plain; charset=utf-8',
        'x-content-type-options': 'nosniff',
        'content-length': Buffer.byteLength(body),
        ...r.headers,
      });
      res.end(body);
    }
    return r.status;
  }

  /** Why this limiter refused `req` (access log), if it did. */
  refusalReason(req: IncomingMessage): string | undefined {
    return this.#refused.get(req);
  }

  #checks(limits: RateLimits): PreparedChecks {
    let p = this.#prepared.get(limits);
    if (p === undefined) {
      p = { requests: buildChecks(limits.key, limits, false), query: buildChecks(limits.key, limits, true) };
      this.#prepared.set(limits, p);
    }
    return p;
  }

  #ticket(key: string): RateTicket {
    let done = false;
    const inFlight = this.#inFlight;
    return {
      kind: 'admit',
      release() {
        if (done) return;
        done = true;
        const n = (inFlight.get(key) ?? 1) - 1;
        if (n <= 0) inFlight.delete(key); else inFlight.set(key, n);
      },
    };
  }

  #take(user: CompiledUser, checks: readonly RateCheck[], ticket: RateTicket, prepared: boolean): Admission | Promise<Admission> {
    const sentAt = performance.now();
    if (prepared) {
      const known = this.#refusedUntil.get(checks);
      if (known !== undefined) {
        if (sentAt < known.until) {
          ticket.release();
          return this.#rateRefusal(user, checks, known.index, 0, known.until - sentAt, known.resetAt - sentAt);
        }
        this.#refusedUntil.delete(checks);
      }
    }
    if (this.#pending >= this.#maxPending) {
      return this.#storeFailed(user, ticket, new RateStoreError('ERR_RATE_STORE_OVERLOADED', `${this.#pending} rate-limit store calls are pending (-ratelimit.maxPendingCalls)`));
    }
    let v: RateVerdict | Promise<RateVerdict>;
    try {
      v = this.#store.take(checks);
    } catch (err) {
      return this.#storeFailed(user, ticket, err);
    }
    if (!(v instanceof Promise)) return this.#decide(user, checks, v, ticket, prepared ? sentAt : -1);
    this.#pending++;
    return v.then(
      (verdict) => { this.#pending--; return this.#decide(user, checks, verdict, ticket, prepared ? sentAt : -1); },
      (err: unknown) => { this.#pending--; return this.#storeFailed(user, ticket, err); },
    );
  }

  /** `sentAt` ≥ 0: when the checks (prepared ones) were sent, so a refusal can be remembered. */
  #decide(user: CompiledUser, checks: readonly RateCheck[], v: RateVerdict, ticket: RateTicket, sentAt: number): Admission {
    if (v.allowed) return ticket;
    ticket.release();
    if (sentAt >= 0 && v.retryAfterMs > 0) this.#refusedUntil.set(checks, { until: sentAt + v.retryAfterMs, index: v.index, resetAt: sentAt + v.resetMs });
    return this.#rateRefusal(user, checks, v.index, v.remaining, v.retryAfterMs, v.resetMs);
  }

  #rateRefusal(user: CompiledUser, checks: readonly RateCheck[], index: number, remaining: number, retryAfterMs: number, resetMs: number): RateRefusal {
    const c = checks[index] as RateCheck;
    const name = c.key.slice(c.key.lastIndexOf(':') + 1);
    const limit = limitOf(user.limits as RateLimits, name);
    const retry = Math.max(1, Math.ceil(retryAfterMs / 1000));
    const unit = name === 'write_bytes' ? 'bytes' : name === 'write_samples' ? 'samples' : name;
    return refusal(user, 429, name,
      `rate limit exceeded for ${user.logName}: ${name}_per_second=${limit.ratePerSecond} (burst ${limit.burst} ${unit}); retry in ${retry}s`,
      {
        'retry-after': String(retry),
        'x-ratelimit-limit': String(limit.burst),
        'x-ratelimit-remaining': String(remaining),
        'x-ratelimit-reset': String(Math.max(1, Math.ceil(resetMs / 1000))),
      });
  }

  #storeFailed(user: CompiledUser, ticket: RateTicket, err: unknown): Admission {
    const open = this.#failMode === 'open';
    const code = err instanceof RateStoreError ? err.code : 'ERR_RATE_STORE_UNAVAILABLE';
    this.#metrics.inc(`tenantgate_ratelimit_store_errors_total{store="${this.#store.name}",outcome="${open ? 'admitted' : 'refused'}"}`);
    this.#failures++;
    const now = Date.now();
    if (now - this.#lastFailLog >= FAIL_LOG_INTERVAL_MS) {
      this.#log.warn(`rate-limit store ${this.#store.name} cannot decide: ${code}: ${(err as Error).message}; -ratelimit.failMode=${this.#failMode}: ${open ? 'admitting' : 'refusing with 503'} requests of users with limits until it answers again (${this.#failures} failed decisions since the last such line)`);
      this.#lastFailLog = now;
      this.#failures = 0;
    }
    if (open) return ticket;
    ticket.release();
    return refusal(user, 503, 'store_unavailable',
      'rate limits cannot be checked right now (the rate-limit store is unavailable) and -ratelimit.failMode=closed refuses requests until it is back; retry shortly',
      { 'retry-after': '1' });
  }
}

const ADMITTED: RateTicket = { kind: 'admit', release() {} };

function refusal(user: CompiledUser, status: 411 | 429 | 503, limit: string, message: string, headers: Record<string, string>): RateRefusal {
  return { kind: 'refuse', status, limit, message, headers, user };
}

function buildChecks(key: string, limits: RateLimits, query: boolean): RateCheck[] {
  const out: RateCheck[] = [];
  // `{budget}:limit`: the budget in braces keeps keys unambiguous whatever characters it holds.
  if (limits.requests !== null) out.push({ key: `{${key}}:requests`, limit: limits.requests.gcra, cost: 1 });
  if (query && limits.queries !== null) out.push({ key: `{${key}}:queries`, limit: limits.queries.gcra, cost: 1 });
  return out;
}

function limitOf(limits: RateLimits, name: string): RateLimit {
  switch (name) {
    case 'requests': return limits.requests as RateLimit;
    case 'queries': return limits.queries as RateLimit;
    case 'write_samples': return limits.writeSamples as RateLimit;
    default: return limits.writeBytes as RateLimit;
  }
}

/** A JWT user's budget per tenant its token names: one token tenant cannot spend another's. */
function tenantKey(base: string, a: VmAccess): string {
  let t = `${a.metricsAccountId}:${a.metricsProjectId}:${a.logsAccountId}:${a.logsProjectId}`;
  if (a.metricsExtraLabels.length > 0) t += ':' + a.metricsExtraLabels.join(',');
  if (t.length > MAX_TENANT_KEY) t = 'h' + fnv1a(t);
  return `${base}|${t}`;
}

/** A short, stable digest for over-long tenant keys (not a security boundary: keys are not secrets). */
function fnv1a(s: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
  }
  return (h1 >>> 0).toString(16).padStart(8, '0') + (h2 >>> 0).toString(16).padStart(8, '0');
}
