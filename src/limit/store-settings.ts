// -ratelimit.* flags, validated once at start-up (a bad value exits with a flag error, never a
// silent fail-open), and the store they select.
import { readFileSync } from 'node:fs';
import type { ParsedFlags } from '../flags/parse.ts';
import { FlagError } from '../flags/parse.ts';
import type { Logger } from '../observe/logger.ts';
import type { Metrics } from '../observe/metrics.ts';
import { RateLimiter, type FailMode } from './rate-limiter.ts';
import { LocalRateStore } from './local-store.ts';
import type { RateStore } from './rate-store.ts';
import { RedisRateStore, validateRedisAddr, type RedisStoreOptions } from './redis-store.ts';

export interface RateLimitSettings {
  readonly store: 'local' | 'redis';
  readonly failMode: FailMode;
  readonly maxKeys: number;
  readonly maxPendingCalls: number;
  readonly redis: RedisStoreOptions | null;
}

export function rateLimitSettings(f: ParsedFlags): RateLimitSettings {
  const store = f.string('ratelimit.store');
  if (store !== 'local' && store !== 'redis') throw new FlagError(`invalid value ${JSON.stringify(store)} for flag -ratelimit.store: expected local or redis`);
  const failMode = f.string('ratelimit.failMode');
  if (failMode !== 'open' && failMode !== 'closed') throw new FlagError(`invalid value ${JSON.stringify(failMode)} for flag -ratelimit.failMode: expected open or closed`);
  const maxKeys = f.int('ratelimit.maxKeys');
  if (maxKeys < 1 || maxKeys > 100_000_000) throw new FlagError(`invalid value "${maxKeys}" for flag -ratelimit.maxKeys: must be between 1 and 100000000`);
  const maxPendingCalls = f.int('ratelimit.maxPendingCalls');
  if (maxPendingCalls < 1 || maxPendingCalls > 1_000_000) throw new FlagError(`invalid value "${maxPendingCalls}" for flag -ratelimit.maxPendingCalls: must be between 1 and 1000000`);
  let redis: RedisStoreOptions | null = null;
  if (store === 'redis') {
    const addr = f.string('ratelimit.redis.addr');
    const problem = validateRedisAddr(addr);
    if (problem !== null) throw new FlagError(problem);
    const timeoutMs = f.duration('ratelimit.redis.timeout');
    if (timeoutMs < 1 || timeoutMs > 60_000) throw new FlagError(`invalid value for flag -ratelimit.redis.timeout: must be between 1ms and 1m`);
    const db = f.int('ratelimit.redis.db');
    if (db < 0 || db > 65535) throw new FlagError(`invalid value "${db}" for flag -ratelimit.redis.db: must be between 0 and 65535`);
    redis = {
      addr,
      username: f.string('ratelimit.redis.username'),
      password: secret(f.string('ratelimit.redis.password')),
      db,
      tls: f.bool('ratelimit.redis.tls'),
      tlsCaFile: f.string('ratelimit.redis.tlsCAFile'),
      tlsServerName: f.string('ratelimit.redis.tlsServerName'),
      tlsInsecureSkipVerify: f.bool('ratelimit.redis.tlsInsecureSkipVerify'),
      keyPrefix: f.string('ratelimit.redis.keyPrefix'),
      timeoutMs,
    };
  } else if (f.string('ratelimit.redis.addr') !== '') {
    throw new FlagError('-ratelimit.redis.addr is set but -ratelimit.store is local; set -ratelimit.store=redis to use it');
  }
  return { store, failMode, maxKeys, maxPendingCalls, redis };
}

/** The store of one serving process; cluster workers with the local store use the primary's instead. */
export function createRateStore(s: RateLimitSettings): RateStore {
  return s.redis !== null ? new RedisRateStore(s.redis) : new LocalRateStore(s.maxKeys);
}

/** Defaults for code that builds GatewayOptions without flags (tests, benchmarks). */
export const DEFAULT_RATE_LIMIT_SETTINGS: RateLimitSettings = { store: 'local', failMode: 'open', maxKeys: 100_000, maxPendingCalls: 10_000, redis: null };

function secret(value: string): string {
  if (!value.startsWith('file://')) return value;
  try {
    return readFileSync(value.slice('file://'.length), 'utf8').trim();
  } catch (err) {
    throw new FlagError(`cannot read -ratelimit.redis.password from ${value}: ${(err as Error).message}`);
  }
}

/** The limiter of one serving process, from its gateway options. */
export function createRateLimiter(
  opts: { readonly rateLimit?: RateLimitSettings; readonly rateStore?: () => RateStore; readonly userLimitShare?: (limit: number) => number },
  metrics: Metrics,
  log: Logger,
): RateLimiter {
  const s = opts.rateLimit ?? DEFAULT_RATE_LIMIT_SETTINGS;
  return new RateLimiter({
    store: opts.rateStore?.() ?? createRateStore(s),
    failMode: s.failMode,
    maxPending: s.maxPendingCalls,
    ...(opts.userLimitShare !== undefined ? { concurrencyShare: opts.userLimitShare } : {}),
  }, metrics, log);
}
