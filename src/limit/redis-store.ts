// Rate-limit buckets in Redis / Valkey, shared by every gateway replica. The requests of one
// event-loop turn go to Redis together, as one call of an atomic script (redis-gcra.ts): one
// command per batch instead of per request, which is what the client's CPU cost scales with.
// The client never
// queues a command while disconnected and bounds each call by -ratelimit.redis.timeout, so an
// unreachable store costs a request at most that long before the fail mode decides; it
// reconnects in the background with capped backoff, without a restart.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Redis, RedisOptions } from 'ioredis';
import { GCRA_SCRIPT } from './redis-gcra.ts';
import { RateStoreError, type RateCheck, type RateStore, type RateVerdict } from './rate-store.ts';

export interface RedisStoreOptions {
  /** host:port, or a redis:// / rediss:// URL. */
  readonly addr: string;
  readonly username: string;
  readonly password: string;
  readonly db: number;
  readonly tls: boolean;
  readonly tlsCaFile: string;
  readonly tlsServerName: string;
  readonly tlsInsecureSkipVerify: boolean;
  readonly keyPrefix: string;
  readonly timeoutMs: number;
}

/** Most requests decided by one script call; a script blocks Redis while it runs. */
const MAX_BATCH = 256;

interface Pending {
  readonly checks: readonly RateCheck[];
  readonly resolve: (v: RateVerdict) => void;
  readonly reject: (e: Error) => void;
}

type GcraClient = Redis & { tenantgateGcra(numKeys: number, ...args: (string | number)[]): Promise<number[]> };

export class RedisRateStore implements RateStore {
  readonly name = 'redis';
  readonly #client: GcraClient;
  readonly #prefix: string;
  #closed = false;
  /** Requests of this event-loop turn, not sent yet. */
  #batch: Pending[] = [];
  #flushScheduled = false;
  /** The last connection error, for the fail-mode log line. */
  lastError = '';

  constructor(o: RedisStoreOptions) {
    this.#prefix = o.keyPrefix;
    // The client library is loaded only by a gateway that uses Redis: every other process would
    // carry its code and command tables in memory for nothing.
    const client = createRequire(import.meta.url)('ioredis') as typeof import('ioredis');
    this.#client = new client.Redis(clientOptions(o)) as GcraClient;
    this.#client.defineCommand('tenantgateGcra', { lua: GCRA_SCRIPT });
    // Connection errors surface as failed calls (and the fail mode); this only keeps the reason.
    this.#client.on('error', (err: Error) => { this.lastError = err.message; });
  }

  get connected(): boolean { return this.#client.status === 'ready'; }

  take(checks: readonly RateCheck[]): Promise<RateVerdict> {
    if (this.#client.status !== 'ready') {
      return Promise.reject(new RateStoreError('ERR_RATE_STORE_UNAVAILABLE', `redis is ${this.#client.status}${this.lastError !== '' ? ` (${this.lastError})` : ''}`));
    }
    return new Promise((resolve, reject) => {
      this.#batch.push({ checks, resolve, reject });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(this.#flush);
      }
    });
  }

  readonly #flush = () => {
    this.#flushScheduled = false;
    const all = this.#batch;
    this.#batch = [];
    for (let i = 0; i < all.length; i += MAX_BATCH) void this.#send(all.slice(i, i + MAX_BATCH));
  };

  async #send(batch: readonly Pending[]): Promise<void> {
    const keys: string[] = [];
    const argv: (string | number)[] = [batch.length];
    for (const p of batch) {
      argv.push(p.checks.length);
      for (const c of p.checks) {
        keys.push(this.#prefix + c.key);
        argv.push(c.limit.intervalMs * 1000, c.limit.burst, c.cost);
      }
    }
    let r: number[];
    try {
      r = await this.#client.tenantgateGcra(keys.length, ...keys, ...argv);
    } catch (err) {
      const msg = (err as Error).message;
      const e = new RateStoreError(/timed out/i.test(msg) ? 'ERR_RATE_STORE_TIMEOUT' : 'ERR_RATE_STORE_UNAVAILABLE', `redis: ${msg}`);
      for (const p of batch) p.reject(e);
      return;
    }
    batch.forEach((p, i) => {
      const o = i * 5;
      p.resolve({ allowed: r[o] === 1, index: Number(r[o + 1]), remaining: Number(r[o + 2]), retryAfterMs: Number(r[o + 3]) / 1000, resetMs: Number(r[o + 4]) / 1000 });
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try { await this.#client.quit(); } catch { this.#client.disconnect(); }
  }
}

function clientOptions(o: RedisStoreOptions): RedisOptions {
  let host = o.addr;
  let port = 6379;
  let tls = o.tls;
  let username = o.username;
  let password = o.password;
  let db = o.db;
  if (/^rediss?:\/\//i.test(o.addr)) {
    const u = new URL(o.addr);
    host = u.hostname.replace(/^\[|\]$/g, '');
    port = u.port === '' ? 6379 : Number(u.port);
    tls = tls || u.protocol === 'rediss:';
    if (u.username !== '' && username === '') username = decodeURIComponent(u.username);
    if (u.pathname.length > 1 && db === 0) db = Number(u.pathname.slice(1));
  } else {
    const colon = o.addr.lastIndexOf(':');
    if (colon > 0 && !o.addr.endsWith(']')) { host = o.addr.slice(0, colon).replace(/^\[|\]$/g, ''); port = Number(o.addr.slice(colon + 1)); }
  }
  return {
    host,
    port,
    db,
    ...(username !== '' ? { username } : {}),
    ...(password !== '' ? { password } : {}),
    ...(tls ? {
      tls: {
        ...(o.tlsCaFile !== '' ? { ca: readFileSync(o.tlsCaFile) } : {}),
        ...(o.tlsServerName !== '' ? { servername: o.tlsServerName } : {}),
        rejectUnauthorized: !o.tlsInsecureSkipVerify,
      },
    } : {}),
    // Never queue while disconnected: the fail mode answers at once instead.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: o.timeoutMs,
    connectTimeout: Math.max(1000, o.timeoutMs * 10),
    // Reconnect forever, backing off to 2 s between attempts.
    retryStrategy: (attempt: number) => Math.min(50 * 2 ** Math.min(attempt, 6), 2000),
    // Requests of one event-loop tick share one write to the socket.
    enableAutoPipelining: true,
    lazyConnect: false,
  };
}

/** Checks -ratelimit.redis.addr at start-up, so a typo is a flag error and not a silent fail-open. */
export function validateRedisAddr(addr: string): string | null {
  if (addr === '') return 'missing -ratelimit.redis.addr (host:port or redis://host:port) for -ratelimit.store=redis';
  if (/^rediss?:\/\//i.test(addr)) {
    let u: URL;
    try { u = new URL(addr); } catch { return `invalid -ratelimit.redis.addr=${JSON.stringify(addr)}: not a URL`; }
    // /flags and the `flag` metric show this flag: a password in it would be published.
    if (u.password !== '') return 'invalid -ratelimit.redis.addr: do not put the password in the URL; use -ratelimit.redis.password (file:///path reads it from a file)';
    if (u.pathname.length > 1 && !/^\/\d+$/.test(u.pathname)) return `invalid -ratelimit.redis.addr: the path must be a database number, e.g. redis://host:6379/2`;
    return null;
  }
  const m = /^(\[[^\]]+\]|[^:\s]+):(\d{1,5})$/.exec(addr);
  if (m === null || Number(m[2]) < 1 || Number(m[2]) > 65535) return `invalid -ratelimit.redis.addr=${JSON.stringify(addr)}; expected host:port or redis://host:port`;
  return null;
}
