// Per-user budgets: body memory and connections a single user may hold.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { Semaphore } from '../../../src/limit/semaphore.ts';
import { UserRuntime } from '../../../src/limit/user-runtime.ts';
import { RequestStats } from '../../../src/observe/metrics.ts';

const rt = (maxBufferedBytes: number, maxConnections: number) => new UserRuntime(new RequestStats(), new Semaphore(10), { maxBufferedBytes, maxConnections });

test('body memory: reservations up to the cap pass, the next is refused, releases make room', () => {
  const u = rt(100, 0);
  assert.ok(u.reserveBytes(60));
  assert.ok(u.reserveBytes(40));
  assert.ok(!u.reserveBytes(1), 'just over the cap');
  u.releaseBytes(40);
  assert.ok(u.reserveBytes(40));
  assert.equal(u.bufferedBytes, 100);
});

test('body memory: one request alone may exceed the cap (its size is bounded elsewhere)', () => {
  const u = rt(100, 0);
  assert.ok(u.reserveBytes(500));
  assert.ok(!u.reserveBytes(1));
});

test('body memory: 0 means no cap', () => {
  const u = rt(0, 0);
  assert.ok(u.reserveBytes(1e12));
  assert.ok(u.reserveBytes(1e12));
});

test('connections: counted once per socket, refused over the cap, freed on close, moved between users', () => {
  const owners = new WeakMap<Socket, UserRuntime>();
  const a = rt(0, 2);
  const b = rt(0, 2);
  const s1 = new EventEmitter() as unknown as Socket;
  const s2 = new EventEmitter() as unknown as Socket;
  const s3 = new EventEmitter() as unknown as Socket;
  assert.ok(a.claimConnection(s1, owners));
  assert.ok(a.claimConnection(s1, owners), 'the same socket again is free');
  assert.ok(a.claimConnection(s2, owners));
  assert.equal(a.connections, 2);
  assert.ok(!a.claimConnection(s3, owners), 'a third connection is over the cap');
  (s1 as unknown as EventEmitter).emit('close');
  assert.equal(a.connections, 1);
  assert.ok(a.claimConnection(s3, owners));
  // A keep-alive connection reused by another user moves to that user's count.
  assert.ok(b.claimConnection(s2, owners));
  assert.equal(a.connections, 1);
  assert.equal(b.connections, 1);
  (s2 as unknown as EventEmitter).emit('close');
  assert.equal(b.connections, 0);
});
