// Audit helpers: what an enforced request is summarised as, and the refusal ring's order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { enforcedDigest, enforcedQueries } from '../../../src/observe/audit-log.ts';
import { RefusalRing } from '../../../src/observe/refusal-ring.ts';

test('enforced queries: the query-language args from the URL and a form body, decoded', () => {
  const q = enforcedQueries('query=up%7Btenant%3D%22a%22%7D&step=15', Buffer.from('match[]=node_load1%7Btenant%3D%22a%22%7D&start=1'));
  assert.deepEqual(q, ['query=up{tenant="a"}', 'match[]=node_load1{tenant="a"}']);
});

test('enforced digest: equal requests hash equal, a different body changes it', () => {
  assert.equal(enforcedDigest('query=up', null), enforcedDigest('query=up', null));
  assert.notEqual(enforcedDigest('query=up', null), enforcedDigest('query=up', Buffer.from('x')));
  assert.match(enforcedDigest('', null), /^[0-9a-f]{64}$/);
});

test('refusal ring: newest first, bounded', () => {
  const r = new RefusalRing(3);
  for (let i = 0; i < 5; i++) r.add({ at: i, user: `u${i}`, method: 'GET', path: '/', status: 403, reason: 'x' });
  assert.deepEqual(r.list().map((x) => x.user), ['u4', 'u3', 'u2']);
});
