// Load balancing and health bookkeeping of a backend set, driven with explicit clock values
// (no timers, no sockets): least_loaded, first_available, skipping broken backends, the
// all-broken fallback, at-most-once per request, and the probe that gates a broken backend's return.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Dispatcher } from 'undici';
import { Backend, BackendSet, type BackendTarget } from '../../../src/forward/backend-set.ts';

const NO_DISPATCHER = {} as Dispatcher;

function target(name: string): BackendTarget {
  return { origin: `http://${name}:80`, host: `${name}:80`, basePath: '/', rawQuery: '', query: new Map() as unknown as BackendTarget['query'], display: `http://${name}:80/`, template: null };
}
const backends = (...names: string[]) => names.map((n) => new Backend(target(n), NO_DISPATCHER));
const name = (b: Backend) => b.target.host.split(':')[0];

/** A probe whose answer the test gives later. */
function manualProbe() {
  const calls: { origin: string; answer: (ok: boolean) => void }[] = [];
  const probe = (origin: string) => new Promise<boolean>((resolve) => { calls.push({ origin, answer: resolve }); });
  return { probe, calls };
}
const tick = () => new Promise((r) => setImmediate(r));

describe('least_loaded', () => {
  test('spreads sequential requests round-robin over idle backends', () => {
    const set = new BackendSet(backends('a', 'b', 'c'), 'least_loaded', new Set(), 3000);
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) { const b = set.acquire(0); seen.push(name(b) as string); set.release(b); }
    assert.deepEqual(seen, ['a', 'b', 'c', 'a', 'b', 'c']);
  });

  test('prefers the backend with the fewest requests in flight', () => {
    const set = new BackendSet(backends('a', 'b', 'c'), 'least_loaded', new Set(), 3000);
    const held = [set.acquire(0), set.acquire(0), set.acquire(0)]; // one each
    set.release(held[1] as Backend); // b is now idle
    assert.equal(name(set.acquire(0)), 'b');
    set.release(held[2] as Backend); // c is now the only idle one
    assert.equal(name(set.acquire(0)), 'c');
    const [a, b, c] = set.backends as Backend[];
    assert.deepEqual([a, b, c].map((x) => (x as Backend).inFlight), [1, 1, 1]);
  });

  test('skips a broken backend until -failTimeout passes (no probe configured)', () => {
    const set = new BackendSet(backends('a', 'b', 'c'), 'least_loaded', new Set(), 3000);
    const [a] = set.backends as Backend[];
    set.markBroken(a as Backend, 1000);
    for (let i = 0; i < 10; i++) { const b = set.acquire(2000); assert.notEqual(name(b), 'a'); set.release(b); }
    const seen = new Set<string>();
    for (let i = 0; i < 3; i++) { const b = set.acquire(4000); seen.add(name(b) as string); set.release(b); }
    assert.ok(seen.has('a'), 'a is back after the deadline');
  });

  test('when every backend is broken, the first configured one is used', () => {
    const set = new BackendSet(backends('a', 'b', 'c'), 'least_loaded', new Set(), 3000);
    for (const b of set.backends) set.markBroken(b, 0);
    for (let i = 0; i < 4; i++) { const b = set.acquire(10); assert.equal(name(b), 'a'); set.release(b); }
  });

  test('a request never goes twice to a backend it already tried while others are left', () => {
    const set = new BackendSet(backends('a', 'b', 'c'), 'least_loaded', new Set([503]), 3000);
    for (let start = 0; start < 3; start++) {
      const tried = new Set<Backend>();
      for (let i = 0; i < 3; i++) {
        const b = set.acquire(0, tried);
        assert.ok(!tried.has(b), `attempt ${i} repeated ${name(b)}`);
        tried.add(b);
        set.release(b); // a retry status does not mark the backend broken
      }
      assert.equal(tried.size, 3);
    }
  });

  test('all-broken fallback still prefers a backend not yet tried', () => {
    const set = new BackendSet(backends('a', 'b', 'c'), 'least_loaded', new Set(), 3000);
    const [a] = set.backends as Backend[];
    for (const b of set.backends) set.markBroken(b, 0);
    const b = set.acquire(10, new Set([a as Backend]));
    assert.equal(name(b), 'b');
  });
});

describe('first_available', () => {
  test('sends everything to the first backend while it is healthy, then to the next', () => {
    const set = new BackendSet(backends('a', 'b', 'c'), 'first_available', new Set(), 3000);
    for (let i = 0; i < 5; i++) { const b = set.acquire(0); assert.equal(name(b), 'a'); }
    const [a, b] = set.backends as Backend[];
    set.markBroken(a as Backend, 0);
    assert.equal(name(set.acquire(1)), 'b');
    set.markBroken(b as Backend, 0);
    assert.equal(name(set.acquire(1)), 'c');
  });
});

describe('health probe after -failTimeout', () => {
  test('a broken backend stays out past its deadline until a probe succeeds; a failed probe extends the deadline', async () => {
    const { probe, calls } = manualProbe();
    const set = new BackendSet(backends('a', 'b'), 'first_available', new Set(), 3000, { probe });
    const [a] = set.backends as Backend[];
    set.markBroken(a as Backend, 0);
    assert.equal(name(set.acquire(1000)), 'b');
    assert.equal(calls.length, 0, 'no probe before the deadline');
    assert.equal(name(set.acquire(3500)), 'b', 'past the deadline but not yet confirmed');
    assert.equal(calls.length, 1);
    assert.equal(calls[0]?.origin, 'http://a:80');
    set.acquire(3600);
    assert.equal(calls.length, 1, 'one probe at a time');
    calls[0]?.answer(false);
    await tick();
    assert.ok((a as Backend).brokenUntil > 3600, 'failed probe re-arms the deadline');
    assert.equal(name(set.acquire(3700)), 'b');
    // Next probe once the new deadline passes; success brings the backend back.
    assert.equal(name(set.acquire((a as Backend).brokenUntil + 1)), 'b');
    assert.equal(calls.length, 2);
    calls[1]?.answer(true);
    await tick();
    assert.equal((a as Backend).brokenUntil, 0);
    assert.equal(name(set.acquire(Date.now())), 'a');
  });
});

describe('backend source (discovery)', () => {
  test('a refreshed list replaces the old one; removed backends are retired only, in-flight ones release normally', async () => {
    const [a, b, c] = backends('a', 'b', 'c') as [Backend, Backend, Backend];
    let next: readonly Backend[] | null = [a, b];
    let claims = 0;
    // Refreshes run only when the test asks (acquire's periodic claim is refused).
    const source = { claimRefresh: () => { claims++; return false; }, refresh: async () => next };
    const set = new BackendSet([a], 'least_loaded', new Set(), 3000, { source });
    await set.refresh();
    assert.deepEqual(set.backends.map(name), ['a', 'b']);
    const held = set.acquire(0);
    next = [held === a ? b : a, c];
    await set.refresh();
    assert.equal(set.backends.includes(held), false);
    assert.equal(held.retired, true);
    assert.equal(held.inFlight, 1, 'the in-flight request keeps its backend');
    set.release(held);
    assert.equal(held.inFlight, 0);
    assert.ok(claims >= 1);
  });
});
