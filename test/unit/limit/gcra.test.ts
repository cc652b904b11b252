// GCRA against a reference token bucket (whole tokens, refilled one per interval, capped at the
// burst; a full bucket also admits a request larger than the burst and goes into debt), and
// properties of the rate and burst for any request sequence.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { gcra, gcraLimit, type GcraLimit } from '../../../src/limit/gcra.ts';
import { LocalRateStore } from '../../../src/limit/local-store.ts';

/** The reference: a token bucket written the textbook way, in integer milliseconds. */
class TokenBucket {
  readonly interval: number;
  readonly burst: number;
  tokens: number;
  last = 0;
  constructor(interval: number, burst: number) { this.interval = interval; this.burst = burst; this.tokens = burst; }
  take(now: number, cost: number): boolean {
    if (this.tokens >= this.burst) this.last = now;
    const gained = Math.floor((now - this.last) / this.interval);
    if (gained > 0) {
      this.tokens = Math.min(this.burst, this.tokens + gained);
      this.last = this.tokens >= this.burst ? now : this.last + gained * this.interval;
    }
    if (this.tokens >= cost || this.tokens === this.burst) { this.tokens -= cost; return true; }
    return false;
  }
}

/** Requests as (gap since the previous one, cost), turned into absolute times. */
const requests = (maxCost: number) => fc.array(fc.tuple(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 1, max: maxCost })), { minLength: 1, maxLength: 200 });

function run(limit: GcraLimit, seq: readonly (readonly [number, number])[]): { now: number; cost: number; allowed: boolean }[] {
  let tat = 0;
  let now = 0;
  return seq.map(([gap, cost]) => {
    now += gap;
    const d = gcra(tat, now, limit, cost);
    if (d.allowed) tat = d.tat;
    return { now, cost, allowed: d.allowed };
  });
}

test('GCRA decides exactly as the reference token bucket (integer intervals)', () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 20 }), requests(25), (interval, burst, seq) => {
    const ref = new TokenBucket(interval, burst);
    const got = run({ intervalMs: interval, burst }, seq);
    for (const r of got) assert.equal(r.allowed, ref.take(r.now, r.cost), `at ${r.now} cost ${r.cost}`);
  }), { numRuns: 500 });
});

test('property: in any window, admitted units ≤ burst + window × rate (+ one over-burst request)', () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 20 }), requests(30), (interval, burst, seq) => {
    const got = run({ intervalMs: interval, burst }, seq);
    for (let i = 0; i < got.length; i++) {
      let units = 0;
      let largest = 0;
      for (let j = i; j < got.length; j++) {
        const r = got[j]!;
        if (!r.allowed) continue;
        units += r.cost;
        largest = Math.max(largest, r.cost);
        const window = r.now - got[i]!.now;
        // A request larger than the burst is admitted only into a full bucket, so it can exceed
        // the bound by at most its own excess.
        assert.ok(units <= burst + window / interval + Math.max(0, largest - burst) + 1e-9, `window ${window}ms admitted ${units}`);
      }
    }
  }), { numRuns: 300 });
});

test('property: a client that keeps to the rate is never refused', () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1, max: 10 }), fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 100 }), (interval, burst, extra) => {
    const got = run({ intervalMs: interval, burst }, extra.map((e) => [interval + e, 1] as const));
    assert.ok(got.every((r) => r.allowed));
  }), { numRuns: 300 });
});

test('property: a full bucket admits exactly `burst` unit requests at one instant', () => {
  fc.assert(fc.property(fc.double({ min: 0.01, max: 1e6, noNaN: true }), fc.integer({ min: 1, max: 1000 }), (rate, burst) => {
    const got = run(gcraLimit(rate, burst), Array.from({ length: burst + 3 }, () => [0, 1] as const));
    assert.equal(got.filter((r) => r.allowed).length, burst);
  }), { numRuns: 300 });
});

test('refusal tells when to retry, and retrying then is admitted', () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 15 }), (interval, burst, cost) => {
    const limit = { intervalMs: interval, burst };
    let tat = 0;
    for (let i = 0; i < burst; i++) tat = gcra(tat, 0, limit, 1).tat;
    const refused = gcra(tat, 0, limit, cost);
    assert.equal(refused.allowed, false);
    assert.ok(refused.retryAfterMs > 0);
    assert.equal(gcra(tat, refused.retryAfterMs, limit, cost).allowed, true);
    assert.equal(gcra(tat, refused.retryAfterMs - 1, limit, cost).allowed, false);
  }), { numRuns: 300 });
});

test('remaining and reset: burst 5 at 1/s', () => {
  const limit = gcraLimit(1, 5);
  let d = gcra(0, 0, limit, 1);
  assert.deepEqual([d.allowed, d.remaining, d.resetMs], [true, 4, 1000]);
  d = gcra(d.tat, 0, limit, 4);
  assert.deepEqual([d.allowed, d.remaining, d.resetMs], [true, 0, 5000]);
  const r = gcra(d.tat, 0, limit, 1);
  assert.deepEqual([r.allowed, r.remaining, r.retryAfterMs, r.resetMs], [false, 0, 1000, 5000]);
});

test('LocalRateStore: checks are all-or-nothing', () => {
  let now = 0;
  const store = new LocalRateStore(100, () => now);
  const a = { key: 'a', limit: { intervalMs: 1000, burst: 2 }, cost: 1 };
  const b = { key: 'b', limit: { intervalMs: 1000, burst: 1 }, cost: 1 };
  assert.equal(store.take([a, b]).allowed, true);
  const v = store.take([a, b]);
  assert.deepEqual([v.allowed, v.index], [false, 1]);
  // `a` was not charged by the refused call: it still has one unit.
  assert.equal(store.take([a]).allowed, true);
  assert.equal(store.take([a]).allowed, false);
  now = 1000;
  assert.equal(store.take([b]).allowed, true);
});

test('LocalRateStore: key cardinality is bounded; full buckets are dropped first', () => {
  let now = 0;
  const store = new LocalRateStore(10, () => now);
  const limit = { intervalMs: 1000, burst: 1 };
  for (let i = 0; i < 10; i++) store.take([{ key: `k${i}`, limit, cost: 1 }]);
  assert.equal(store.size, 10);
  now = 500;
  store.take([{ key: 'new', limit, cost: 1 }]);
  assert.ok(store.size <= 10);
  // k9 is recent and was not evicted, so it is still empty.
  assert.equal(store.take([{ key: 'k9', limit, cost: 1 }]).allowed, false);
  now = 5000;
  for (let i = 0; i < 100; i++) store.take([{ key: `m${i}`, limit, cost: 1 }]);
  assert.ok(store.size <= 10);
});
