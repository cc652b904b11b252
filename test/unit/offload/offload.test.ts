// Where tenant enforcement runs: inline under the threshold, in the pool at or over it, with the
// same decisions either way; a full per-user queue is a 429 naming its flag; JWT tenants of one
// config entry get their own queues.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { compileTenantPolicy } from '../../../src/enforce/tenant/compile.ts';
import type { TenantDecision, TenantRequest } from '../../../src/enforce/tenant/policy.ts';
import { closeOffload, configureOffload, DEFAULT_OFFLOAD, enforceTenant, queueKey } from '../../../src/offload/offload.ts';
import { token } from '../tenant/helpers.ts';

after(() => closeOffload());
const policy = compileTenantPolicy({ labels: { namespace: 'a' } }, ['tenant']);
const FORM = { 'content-type': 'application/x-www-form-urlencoded', authorization: 'Basic c2VjcmV0' };
const series = (n: number): TenantRequest => ({
  method: 'POST', path: '/api/v1/series', rawQuery: '', headers: FORM,
  body: Buffer.from(Array.from({ length: n }, (_, i) => `match[]=m${i}`).join('&')), access: null,
});

test('under the threshold the decision is made inline; at it, in the pool; the same either way', async () => {
  configureOffload({ ...DEFAULT_OFFLOAD, thresholdBytes: 200 });
  const small = series(5);
  const large = series(40);
  assert.ok(policy.workSize(small) < 200 && policy.workSize(large) >= 200);
  const inline = enforceTenant(policy, small, 'u');
  assert.ok(!(inline instanceof Promise));
  const pooled = enforceTenant(policy, large, 'u');
  assert.ok(pooled instanceof Promise);
  const d = await pooled as TenantDecision;
  assert.equal(d.kind, 'forward');
  const direct = policy.enforce(large);
  if (d.kind === 'forward' && direct.kind === 'forward') {
    assert.equal(d.rawQuery, direct.rawQuery);
    assert.ok(Buffer.isBuffer(d.body));
    assert.equal(d.body!.toString(), direct.body!.toString());
  }
});

test("a user's full queue is refused with 429 naming -enforce.maxQueuedPerUser; another user still gets in", async () => {
  configureOffload({ ...DEFAULT_OFFLOAD, thresholdBytes: 0, threads: 1, maxQueuedPerUser: 1 });
  const runs = [0, 1, 2, 3].map(() => enforceTenant(policy, series(90), 'greedy'));
  const other = enforceTenant(policy, series(3), 'other');
  const results = await Promise.all(runs);
  const refused = results.filter((r) => r.kind === 'refuse');
  assert.ok(refused.length >= 1, 'at least one refused');
  for (const r of refused) {
    assert.equal(r.kind === 'refuse' && r.status, 429);
    assert.ok(r.kind === 'refuse' && r.reason === 'tenant_work_queue_full' && r.message.includes('-enforce.maxQueuedPerUser=1'));
  }
  assert.equal((await other).kind, 'forward');
});

test('JWT tenants of one config entry have their own queues', () => {
  const a = token({ metrics_account_id: 1, metrics_extra_labels: ['team=a'] });
  const b = token({ metrics_account_id: 1, metrics_extra_labels: ['team=b'] });
  const req = series(1);
  assert.equal(queueKey('jwt', req), 'jwt');
  assert.notEqual(queueKey('jwt', { ...req, access: a }), queueKey('jwt', { ...req, access: b }));
  assert.equal(queueKey('jwt', { ...req, access: a }), queueKey('jwt', { ...req, access: a }));
});

test('a body over 64 KiB moves to the thread, and a decision that forwards it as sent brings the same bytes back', async () => {
  configureOffload({ ...DEFAULT_OFFLOAD, thresholdBytes: 0 });
  const allowed = compileTenantPolicy({ labels: { namespace: 'a' }, allow_paths: ['/custom/.*'] }, ['tenant']);
  const bytes = Buffer.from(Array.from({ length: 100_000 }, (_, i) => String.fromCharCode(97 + (i % 26))).join(''));
  const sent = Buffer.from(bytes);
  const req: TenantRequest = { method: 'POST', path: '/custom/upload', rawQuery: '', headers: { 'content-type': 'application/octet-stream' }, body: sent, access: null };
  const d = await enforceTenant(allowed, req, 'mover');
  assert.equal(sent.length, 0, 'the caller no longer holds the body: it was transferred, not copied');
  assert.equal(d.kind, 'forward');
  if (d.kind === 'forward') {
    assert.ok(Buffer.isBuffer(d.body));
    assert.ok(d.body!.equals(bytes), 'the forwarded body is the body sent');
  }
});

test('a moved body comes back for a decision the main thread must make (a silence update looks the silence up)', async () => {
  configureOffload({ ...DEFAULT_OFFLOAD, thresholdBytes: 0 });
  const silence = { id: 'abc', matchers: [{ name: 'namespace', value: 'a', isRegex: false, isEqual: true }], startsAt: '2026-01-01T00:00:00Z', endsAt: '2027-01-01T00:00:00Z', createdBy: 'x', comment: 'c'.repeat(70_000) };
  const sent = Buffer.from(JSON.stringify(silence));
  const req: TenantRequest = { method: 'POST', path: '/api/v2/silences', rawQuery: '', headers: { 'content-type': 'application/json' }, body: sent, access: null };
  const expected = policy.enforce({ ...req, body: Buffer.from(sent) });
  assert.equal(expected.kind, 'lookup');
  const d = await enforceTenant(policy, req, 'mover');
  assert.equal(sent.length, 0, 'the body was transferred');
  assert.equal(d.kind, 'lookup', 'decided again on this thread, with the body the thread gave back');
});

test('a body of 64 KiB or less is copied to the thread, never taken from the caller', async () => {
  configureOffload({ ...DEFAULT_OFFLOAD, thresholdBytes: 0 });
  const req = series(50);
  assert.ok(req.body!.length <= 64 * 1024);
  const before = Buffer.from(req.body!);
  const d = await enforceTenant(policy, req, 'copier');
  assert.equal(d.kind, 'forward');
  assert.ok(req.body!.equals(before), 'the caller keeps its body');
});
