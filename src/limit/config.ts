// The `limits:` section of a user (and of unauthorized_user) in -auth.config: validated strictly
// against this schema (unknown keys and malformed numbers are errors with file:line, like every
// other field) and compiled once into the immutable RateLimits the request path reads.
// The YAML arrives read with the failsafe schema, so every value is its source text.
import { z } from 'zod';
import { editorHints } from '../config/editor-hints.ts';
import { parseBytes } from '../flags/values.ts';
import { gcraLimit, type GcraLimit } from './gcra.ts';

export const MAX_RATE = 1e9;
export const MAX_BURST = 1e12;
export const MAX_CONCURRENT_QUERIES = 100_000;
/** Budget names end up in store keys and log lines. */
const KEY_NAME = /^[A-Za-z0-9_.:@\/-]{1,128}$/;

const absentIfEmpty = (v: unknown) => (v === '' || v === 'null' || v === '~' ? undefined : v);
const opt = <T extends z.ZodType>(t: T) => z.preprocess(absentIfEmpty, t.optional()).register(editorHints, { emptyMeansUnset: true });

const rate = z.string({ error: 'expected a number per second, e.g. 50 or 0.5' })
  .regex(/^\d+(\.\d+)?$/, { error: 'expected a number per second, e.g. 50 or 0.5' })
  .transform(Number)
  .refine((n) => n > 0, { error: 'must be greater than 0 (leave the key out for no limit)' })
  .refine((n) => n <= MAX_RATE, { error: `must be at most ${MAX_RATE}` })
  // Editors type `50` and `0.5` as numbers; the loader reads the text.
  .register(editorHints, { scalar: 'text' });

const count = (what: string, max: number) => z.string({ error: `expected ${what}` })
  .regex(/^\d+$/, { error: `expected ${what}` })
  .transform(Number)
  .refine((n) => n >= 1, { error: 'must be at least 1' })
  .refine((n) => n <= max, { error: `must be at most ${max}` })
  .register(editorHints, { scalar: 'integer' });

const byteSize = (what: string) => z.string({ error: `expected ${what}, e.g. 1048576 or 4MiB` }).transform((s, ctx) => {
  let n: number;
  try { n = parseBytes(s); } catch {
    ctx.addIssue({ code: 'custom', message: `expected ${what}, e.g. 1048576 or 4MiB` });
    return z.NEVER;
  }
  if (!Number.isInteger(n) || n < 1 || n > MAX_BURST) {
    ctx.addIssue({ code: 'custom', message: `expected ${what} between 1 and ${MAX_BURST}` });
    return z.NEVER;
  }
  return n;
}).register(editorHints, { scalar: 'text' });

export const limitsSchema = z.strictObject({
  key: opt(z.string().regex(KEY_NAME, { error: 'expected a budget name of 1-128 characters from [A-Za-z0-9_.:@/-]' })),
  requests_per_second: opt(rate),
  requests_burst: opt(count('a whole number of requests', MAX_BURST)),
  queries_per_second: opt(rate),
  queries_burst: opt(count('a whole number of queries', MAX_BURST)),
  write_samples_per_second: opt(rate),
  write_samples_burst: opt(count('a whole number of samples', MAX_BURST)),
  write_bytes_per_second: opt(byteSize('bytes per second')),
  write_bytes_burst: opt(byteSize('a number of bytes')),
  max_concurrent_queries: opt(count('a whole number of queries', MAX_CONCURRENT_QUERIES)),
}, { error: 'expected a mapping of limits (see docs/limits.md)' });

export type RawLimits = z.infer<typeof limitsSchema>;

/** One rate limit: what it counts (the `limit` metric label) and its GCRA parameters. */
export interface RateLimit {
  readonly name: 'requests' | 'queries' | 'write_samples' | 'write_bytes';
  readonly ratePerSecond: number;
  readonly burst: number;
  readonly gcra: GcraLimit;
}

export interface RateLimits {
  /** The budget these limits are counted under; users with the same key share one budget. */
  readonly key: string;
  readonly requests: RateLimit | null;
  readonly queries: RateLimit | null;
  readonly writeSamples: RateLimit | null;
  readonly writeBytes: RateLimit | null;
  readonly maxConcurrentQueries: number;
  /** For the check that users sharing a key configure the same limits. */
  readonly signature: string;
}

export class LimitsFieldError extends Error {
  readonly field: string;
  constructor(field: string, message: string) {
    super(message);
    this.field = field;
  }
}

function one(name: RateLimit['name'], rateKey: string, burstKey: string, r: number | undefined, b: number | undefined): RateLimit | null {
  if (r === undefined) {
    if (b !== undefined) throw new LimitsFieldError(burstKey, `${burstKey} needs ${rateKey}`);
    return null;
  }
  // The default burst is one second's worth: a client that spreads its requests evenly never waits.
  const burst = b ?? Math.max(1, Math.ceil(r));
  return { name, ratePerSecond: r, burst, gcra: gcraLimit(r, burst) };
}

/** Compiles a validated `limits:` section; `defaultKey` names the budget when `key` is unset. */
export function compileLimits(raw: RawLimits, defaultKey: string): RateLimits | null {
  const requests = one('requests', 'requests_per_second', 'requests_burst', raw.requests_per_second, raw.requests_burst);
  const queries = one('queries', 'queries_per_second', 'queries_burst', raw.queries_per_second, raw.queries_burst);
  const writeSamples = one('write_samples', 'write_samples_per_second', 'write_samples_burst', raw.write_samples_per_second, raw.write_samples_burst);
  const writeBytes = one('write_bytes', 'write_bytes_per_second', 'write_bytes_burst', raw.write_bytes_per_second, raw.write_bytes_burst);
  const maxConcurrentQueries = raw.max_concurrent_queries ?? 0;
  if (requests === null && queries === null && writeSamples === null && writeBytes === null && maxConcurrentQueries === 0) {
    if (raw.key !== undefined) throw new LimitsFieldError('key', 'key names a budget, but this section sets no limit');
    return null;
  }
  const sig = (l: RateLimit | null) => (l === null ? '-' : `${l.ratePerSecond}/${l.burst}`);
  return {
    key: raw.key ?? defaultKey,
    requests,
    queries,
    writeSamples,
    writeBytes,
    maxConcurrentQueries,
    signature: [sig(requests), sig(queries), sig(writeSamples), sig(writeBytes), maxConcurrentQueries].join(' '),
  };
}
