// The work pool runs tasks in real worker threads, refuses beyond its per-key queue, and gives
// the same answers as inline enforcement.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import bcrypt from 'bcryptjs';
import { WorkAbandonedError, WorkPool, WorkQueueFullError } from '../../../src/offload/work-pool.ts';
import { ClientWatch } from '../../../src/limit/client-watch.ts';
import { compileTenantPolicy } from '../../../src/enforce/tenant/compile.ts';
import type { TenantDecision, TenantRequest } from '../../../src/enforce/tenant/policy.ts';

const pool = new WorkPool({ threads: 2, maxQueuedPerKey: 2 });
after(() => pool.close());

test('a tenant task gives the decision inline enforcement gives', async () => {
  const p = compileTenantPolicy({ labels: { namespace: 'a' } }, ['tenant']);
  const req: TenantRequest = {
    method: 'POST', path: '/api/v1/series', rawQuery: '', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: Buffer.from('match[]=up&match[]=node_load1'), access: null,
  };
  const inline = p.enforce(req);
  const pooled = await pool.run('A', { kind: 'tenant', source: p.source, req }) as TenantDecision;
  assert.equal(pooled.kind, 'forward');
  assert.equal(inline.kind, 'forward');
  if (pooled.kind !== 'forward' || inline.kind !== 'forward') return;
  assert.equal(pooled.rawQuery, inline.rawQuery);
  assert.equal(Buffer.from(pooled.body!).toString(), inline.body!.toString());
  const refused = await pool.run('A', { kind: 'tenant', source: p.source, req: { ...req, body: Buffer.from('match[]=sum(up)') } }) as TenantDecision;
  assert.equal(refused.kind, 'refuse');
});

test('bcrypt runs in the pool', async () => {
  const hash = bcrypt.hashSync('right', 4);
  assert.equal(await pool.run('ip', { kind: 'bcrypt', password: 'right', hash }), true);
  assert.equal(await pool.run('ip', { kind: 'bcrypt', password: 'wrong', hash }), false);
});

test("a key's queue is bounded; another key still gets in", async () => {
  const hash = bcrypt.hashSync('x', 8);
  const one = new WorkPool({ threads: 1, maxQueuedPerKey: 2 });
  try {
    const runs = [0, 1, 2, 3].map(() => one.run('A', { kind: 'bcrypt', password: 'x', hash }));
    // One runs, two wait, the fourth is refused at once.
    await assert.rejects(runs[3]!, WorkQueueFullError);
    const b = one.run('B', { kind: 'bcrypt', password: 'y', hash });
    assert.deepEqual(await Promise.all([...runs.slice(0, 3), b]), [true, true, true, false]);
    assert.equal(one.counts.refused, 1);
  } finally {
    await one.close();
  }
});

test('a waiting task whose client left leaves the queue: its place goes to the next task, it never runs', async () => {
  const hash = bcrypt.hashSync('x', 8);
  const one = new WorkPool({ threads: 1, maxQueuedPerKey: 1 });
  try {
    const running = one.run('A', { kind: 'bcrypt', password: 'x', hash });
    const gone = new ClientWatch();
    const abandoned = one.run('A', { kind: 'bcrypt', password: 'x', hash }, gone);
    // The queue of A is full: one more would be refused.
    await assert.rejects(one.run('A', { kind: 'bcrypt', password: 'x', hash }), WorkQueueFullError);
    gone.abort();
    await assert.rejects(abandoned, WorkAbandonedError);
    assert.equal(one.queued, 0);
    // Its place is free again, and the running task is unaffected.
    const next = one.run('A', { kind: 'bcrypt', password: 'x', hash });
    assert.deepEqual(await Promise.all([running, next]), [true, true]);
    assert.equal(one.counts.done, 2, 'the abandoned task never ran');
  } finally {
    await one.close();
  }
});

test('a task that throws fails alone; the thread keeps serving', async () => {
  await assert.rejects(pool.run('A', { kind: 'tenant', source: { key: 'bad', raw: { labels: 5 }, dropSrcPathPrefixParts: 0 }, req: { method: 'GET', path: '/', rawQuery: '', headers: {}, body: null, access: null } }), /work pool task failed/);
  assert.equal(await pool.run('A', { kind: 'bcrypt', password: 'a', hash: bcrypt.hashSync('a', 4) }), true);
});

test('an idle thread exits and a later task starts a new one', async () => {
  const p = new WorkPool({ threads: 1, maxQueuedPerKey: 1, idleMs: 50 });
  try {
    const hash = bcrypt.hashSync('a', 4);
    assert.equal(await p.run('k', { kind: 'bcrypt', password: 'a', hash }), true);
    const deadline = Date.now() + 5000;
    while (p.threadsAlive > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(p.threadsAlive, 0);
    assert.equal(await p.run('k', { kind: 'bcrypt', password: 'b', hash }), false);
    assert.equal(p.threadsAlive, 1);
  } finally {
    await p.close();
  }
});
