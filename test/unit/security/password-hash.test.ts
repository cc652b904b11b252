// password_hash users: bcrypt in the pool, no username enumeration by work done, 72-byte
// passwords refused, the same wrong secret not hashed twice, failures limited per address and
// per username.
import { after, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import bcrypt from 'bcryptjs';
import type { CompiledUser } from '../../../src/config/model.ts';
import { HashedPasswordUsers } from '../../../src/identify/password-hash.ts';
import { configureLoginGuard, DEFAULT_LOGIN_GUARD } from '../../../src/identify/login-guard.ts';
import { closeOffload, configureOffload, DEFAULT_OFFLOAD, poolStats } from '../../../src/offload/offload.ts';

const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
const alice = { logName: 'alice' } as unknown as CompiledUser;
const LONG = 'p'.repeat(72);
const users = new HashedPasswordUsers(new Map([
  ['alice', { hash: bcrypt.hashSync('secret', 4), user: alice }],
  ['bob', { hash: bcrypt.hashSync(LONG, 5), user: { logName: 'bob' } as unknown as CompiledUser }],
]));
/** bcrypt runs done by the auth pool so far. */
const hashed = () => poolStats().auth?.counts.done ?? 0;

beforeEach(() => {
  configureOffload(DEFAULT_OFFLOAD);
  configureLoginGuard({ maxPerIp: 1000, maxPerUser: 1000, windowMs: 60_000 });
});
after(async () => { configureLoginGuard(DEFAULT_LOGIN_GUARD); await closeOffload(); });

test('the right password identifies the user; a wrong one does not', async () => {
  assert.equal(await users.verify(basic('alice', 'secret'), '10.0.0.1'), alice);
  assert.equal(await users.verify(basic('alice', 'nope'), '10.0.0.1'), null);
});

test('an unknown username costs one bcrypt run, as a known one does', async () => {
  const h0 = hashed();
  assert.equal(await users.verify(basic('alice', 'wrong-1'), '10.0.0.2'), null);
  const known = hashed() - h0;
  assert.equal(await users.verify(basic('mallory', 'wrong-1'), '10.0.0.2'), null);
  assert.equal(hashed() - h0 - known, known);
  assert.equal(known, 1);
});

test('the same wrong secret is not hashed again', async () => {
  assert.equal(await users.verify(basic('alice', 'again'), '10.0.0.3'), null);
  const h = hashed();
  for (let i = 0; i < 5; i++) assert.equal(await users.verify(basic('alice', 'again'), '10.0.0.3'), null);
  assert.equal(hashed(), h);
});

test('passwords over 72 bytes are refused without hashing, even when their first 72 bytes are right', async () => {
  assert.equal((await users.verify(basic('bob', LONG), '10.0.0.4') as CompiledUser).logName, 'bob');
  const h = hashed();
  assert.equal(await users.verify(basic('bob', LONG + 'x'), '10.0.0.4'), null);
  assert.equal(await users.verify(basic('bob', LONG + 'é'), '10.0.0.4'), null);
  assert.equal(hashed(), h);
});

test('failed logins are limited per client address, then per username, before hashing', async () => {
  configureLoginGuard({ maxPerIp: 3, maxPerUser: 5, windowMs: 60_000 });
  for (let i = 0; i < 3; i++) assert.equal(await users.verify(basic('alice', `ip-${i}`), '10.1.0.1'), null);
  const h = hashed();
  const limited = await users.verify(basic('alice', 'fresh-guess'), '10.1.0.1');
  assert.equal(typeof limited === 'object' && limited !== null && 'kind' in limited ? limited.kind : null, 'limited');
  assert.match((limited as { message: string }).message, /-auth\.maxFailedLoginsPerIP=3/);
  assert.equal(hashed(), h, 'no hashing for a limited address');
  // Another address may still try…
  assert.equal(await users.verify(basic('alice', 'other-address'), '10.1.0.2'), null);
  // …until the username has had its failures from many addresses.
  assert.equal(await users.verify(basic('alice', 'user-0'), '10.2.0.1'), null);
  const byUser = await users.verify(basic('alice', 'another'), '10.3.0.1');
  assert.match((byUser as { message: string }).message, /-auth\.maxFailedLoginsPerUser=5/);
  // A secret verified before is remembered, and is not limited.
  assert.equal(await users.verify(basic('alice', 'secret'), '10.3.0.1'), alice);
});

test('a client address with too many verifications waiting gets a refusal, not a longer queue', async () => {
  configureOffload({ ...DEFAULT_OFFLOAD, bcryptQueuedPerKey: 1 });
  const slow = new HashedPasswordUsers(new Map([['carol', { hash: bcrypt.hashSync('c', 10), user: alice }]]));
  const results = await Promise.all([0, 1, 2, 3].map((i) => slow.verify(basic('carol', `w${i}`), '10.9.0.1')));
  assert.ok(results.some((r) => r !== null && 'kind' in r && r.kind === 'limited'), JSON.stringify(results));
});
