// The limiter's decisions around its store: fail-open and fail-closed when the store fails or
// is too slow, the bound on pending calls, all-or-nothing charging, and a worker with no primary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { parseConfigText } from '../../../src/config/load.ts';
import { parseFlags } from '../../../src/flags/parse.ts';
import { compileDefaultsFromFlags } from '../../../src/gateway/main.ts';
import { LocalRateStore } from '../../../src/limit/local-store.ts';
import { RateLimiter, type FailMode } from '../../../src/limit/rate-limiter.ts';
import { RateStoreError, type RateStore } from '../../../src/limit/rate-store.ts';
import { Logger } from '../../../src/observe/logger.ts';
import { Metrics } from '../../../src/observe/metrics.ts';
import { ClusterRateStore } from '../../../src/process/rate-buckets-ipc.ts';

const config = parseConfigText(`users:
- username: a
  password: p
  url_prefix: http://127.0.0.1:1/
  limits: {requests_per_second: 0.01, requests_burst: 2, max_concurrent_queries: 1}
- username: free
  password: p
  url_prefix: http://127.0.0.1:1/
`, 'auth.yml', compileDefaultsFromFlags(parseFlags([], {})), {});
const [limited, free] = config.users as [typeof config.users[0], typeof config.users[0]];
const req = () => ({ headers: {} }) as IncomingMessage;

function limiter(store: RateStore, failMode: FailMode = 'open', maxPending = 100) {
  const lines: string[] = [];
  const log = new Logger({ level: 'INFO', format: 'default', output: 'stderr', disableTimestamps: true, sink: (l) => lines.push(l) });
  return { rl: new RateLimiter({ store, failMode, maxPending }, new Metrics(), log), lines };
}

const failing: RateStore = { name: 'redis', take: () => Promise.reject(new RateStoreError('ERR_RATE_STORE_TIMEOUT', 'redis: Command timed out')), close: async () => {} };

test('a user without limits never reaches the store', () => {
  const { rl } = limiter(failing, 'closed');
  assert.equal(rl.admit(free, req(), '/api/v1/query', null), null);
});

test('in-process store: synchronous, and refusals carry the headers', () => {
  const { rl } = limiter(new LocalRateStore());
  const decide = () => rl.admit(limited, req(), '/x', null);
  assert.equal((decide() as { kind: string }).kind, 'admit');
  assert.equal((decide() as { kind: string }).kind, 'admit');
  const r = decide();
  assert.ok(r !== null && !(r instanceof Promise) && r.kind === 'refuse');
  assert.equal(r.status, 429);
  assert.equal(r.limit, 'requests');
  assert.equal(r.headers['x-ratelimit-limit'], '2');
  assert.equal(r.headers['x-ratelimit-remaining'], '0');
});

test('store failure: fail-open admits, fail-closed refuses with 503; one log line per 30 s', async () => {
  const open = limiter(failing, 'open');
  const closed = limiter(failing, 'closed');
  for (let i = 0; i < 3; i++) {
    assert.equal((await open.rl.admit(limited, req(), '/x', null))!.kind, 'admit');
    const r = await closed.rl.admit(limited, req(), '/x', null);
    assert.ok(r !== null && r.kind === 'refuse');
    assert.equal(r.status, 503);
    assert.equal(r.limit, 'store_unavailable');
  }
  assert.equal(open.lines.length, 1);
  assert.match(open.lines[0]!, /rate-limit store redis cannot decide: ERR_RATE_STORE_TIMEOUT: redis: Command timed out; -ratelimit\.failMode=open: admitting/);
  assert.match(closed.lines[0]!, /-ratelimit\.failMode=closed: refusing with 503/);
});

test('fail-closed frees the concurrent-query slot it had taken', async () => {
  const { rl } = limiter(failing, 'closed');
  assert.equal((await rl.admit(limited, req(), '/api/v1/query', null))!.kind, 'refuse');
  // The slot (max_concurrent_queries: 1) is free again: the next refusal is the store's, not the slot's.
  const r = await rl.admit(limited, req(), '/api/v1/query', null);
  assert.ok(r !== null && r.kind === 'refuse' && r.limit === 'store_unavailable');
});

test('pending calls are bounded: past the bound the fail mode decides without asking', async () => {
  let asked = 0;
  const never: RateStore = { name: 'redis', take: () => { asked++; return new Promise(() => {}); }, close: async () => {} };
  const { rl } = limiter(never, 'closed', 3);
  for (let i = 0; i < 3; i++) void rl.admit(limited, req(), '/x', null);
  const r = await rl.admit(limited, req(), '/x', null);
  assert.ok(r !== null && r.kind === 'refuse' && r.status === 503);
  assert.equal(asked, 3);
});

test('a cluster worker without a primary: the store refuses at once and the fail mode decides', async () => {
  const store = new ClusterRateStore(1000, 10);
  try {
    const { rl } = limiter(store, 'open');
    assert.equal((await rl.admit(limited, req(), '/x', null))!.kind, 'admit');
    const c = limiter(store, 'closed');
    assert.equal((await c.rl.admit(limited, req(), '/x', null))!.kind, 'refuse');
  } finally {
    await store.close();
  }
});

test('JWT callers: one budget per tenant named by the token, shared by tokens of the same tenant', () => {
  const { rl } = limiter(new LocalRateStore());
  const access = (account: number, labels: string[] = []) => ({
    metricsAccountId: account, metricsProjectId: 0, metricsExtraLabels: labels, metricsExtraFilters: [],
    logsAccountId: 0, logsProjectId: 0, logsExtraFilters: [], logsExtraStreamFilters: [], mode: 0, source: 'token',
  }) as unknown as Parameters<RateLimiter['admit']>[3];
  const kind = (a: ReturnType<typeof access>) => (rl.admit(limited, req(), '/x', a) as { kind: string }).kind;
  // Burst 2 per tenant.
  assert.deepEqual([kind(access(1)), kind(access(1)), kind(access(1))], ['admit', 'admit', 'refuse']);
  assert.deepEqual([kind(access(2)), kind(access(2)), kind(access(2))], ['admit', 'admit', 'refuse']);
  assert.deepEqual([kind(access(1, ['team=a'])), kind(access(1, ['team=b']))], ['admit', 'admit']);
  // Over-long tenants are hashed, still one budget each.
  const long = Array.from({ length: 50 }, (_, i) => `label_${i}=value_${i}`);
  assert.deepEqual([kind(access(3, long)), kind(access(3, long)), kind(access(3, long))], ['admit', 'admit', 'refuse']);
});

test('a refusal is remembered until its Retry-After: the store is not asked again meanwhile', async () => {
  const local = new LocalRateStore();
  let asked = 0;
  const counting: RateStore = { name: 'redis', take: (c) => { asked++; return Promise.resolve(local.take(c)); }, close: async () => {} };
  const { rl } = limiter(counting, 'closed');
  const statuses = [];
  for (let i = 0; i < 10; i++) {
    const a = await rl.admit(limited, req(), '/x', null);
    statuses.push(a !== null && a.kind === 'refuse' ? a.status : 200);
  }
  // Burst 2, then refusals; only the first refusal asked the store (one unit per 100 s).
  assert.deepEqual(statuses, [200, 200, 429, 429, 429, 429, 429, 429, 429, 429]);
  assert.equal(asked, 3);
  const r = await rl.admit(limited, req(), '/x', null);
  assert.ok(r !== null && r.kind === 'refuse');
  const retry = Number(r.headers['retry-after']);
  assert.ok(retry >= 99 && retry <= 100, String(retry));
  assert.equal(r.headers['x-ratelimit-remaining'], '0');
});
