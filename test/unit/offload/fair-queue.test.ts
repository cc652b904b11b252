// The fair queue: keys take turns, a key's backlog waits behind its own items, and per-key caps hold.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FairQueue } from '../../../src/offload/fair-queue.ts';

test("one key's backlog does not delay another key's first item", () => {
  const q = new FairQueue<string>({ maxPerKey: 100, maxRunningPerKey: 100 });
  for (let i = 0; i < 10; i++) assert.ok(q.push('A', `a${i}`));
  assert.ok(q.push('B', 'b0'));
  const order = [q.take()!.item, q.take()!.item, q.take()!.item];
  assert.deepEqual(order, ['a0', 'b0', 'a1']);
  assert.equal(q.size, 8);
});

test('keys take turns', () => {
  const q = new FairQueue<string>({ maxPerKey: 100, maxRunningPerKey: 100 });
  for (const k of ['A', 'B', 'C']) for (let i = 0; i < 2; i++) q.push(k, `${k}${i}`);
  const got: string[] = [];
  for (let x = q.take(); x !== undefined; x = q.take()) got.push(x.item);
  assert.deepEqual(got, ['A0', 'B0', 'C0', 'A1', 'B1', 'C1']);
});

test('a full key is refused; other keys are not', () => {
  const q = new FairQueue<number>({ maxPerKey: 2, maxRunningPerKey: 1 });
  assert.ok(q.push('A', 1));
  assert.ok(q.push('A', 2));
  assert.equal(q.push('A', 3), false);
  assert.ok(q.push('B', 1));
});

test('a key at its running cap waits while another key runs', () => {
  const q = new FairQueue<string>({ maxPerKey: 10, maxRunningPerKey: 1 });
  q.push('A', 'a0'); q.push('A', 'a1'); q.push('B', 'b0');
  assert.equal(q.take()!.item, 'a0');
  assert.equal(q.take()!.item, 'b0');
  assert.equal(q.take(), undefined, 'a1 waits: A already runs one');
  q.done('A');
  assert.equal(q.take()!.item, 'a1');
});

test('remove drops a waiting item', () => {
  const q = new FairQueue<string>({ maxPerKey: 10, maxRunningPerKey: 10 });
  q.push('A', 'x'); q.push('A', 'y');
  assert.ok(q.remove('A', 'x'));
  assert.equal(q.remove('A', 'x'), false);
  assert.equal(q.take()!.item, 'y');
  assert.equal(q.size, 0);
});
