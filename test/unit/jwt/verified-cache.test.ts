// The verified-token cache must never accept what a fresh check would refuse: an expired token
// stays refused, and a token that failed once is checked again every time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ANY_ACCESS, authFor, NOW_MS, NOW_S, rsa, rsa2, sign } from './fixtures.ts';

test('a cached token is refused once its exp has passed', async () => {
  let t = NOW_MS;
  const auth = authFor([{ public_keys: [rsa.pem] }], { now: () => t });
  const token = await sign(ANY_ACCESS, { exp: NOW_S + 10 });
  assert.equal((await auth.authenticate(token)).ok, true);
  assert.equal((await auth.authenticate(token)).ok, true, 'served again (from the cache)');
  t = NOW_MS + 10_000 + 31_000; // past exp and the 30 s skew
  const r = await auth.authenticate(token);
  assert.equal(r.ok, false);
  assert.equal(r.ok ? '' : r.code, 'ERR_JWT_EXPIRED');
  auth.close();
});

test('a cache entry lives at most 30 s even for long-lived tokens', async () => {
  let t = NOW_MS;
  const auth = authFor([{ public_keys: [rsa.pem] }], { now: () => t });
  const token = await sign(ANY_ACCESS, { exp: NOW_S + 3600 });
  const first = await auth.authenticate(token);
  assert.equal(first.ok, true);
  assert.equal(await auth.authenticate(token), first, 'the same result object: it came from the cache');
  t = NOW_MS + 31_000;
  const later = await auth.authenticate(token);
  assert.equal(later.ok, true);
  assert.notEqual(later, first, 'verified afresh after the entry expired');
  auth.close();
});

test('failures are never cached: a token signed by an unknown key is refused every time', async () => {
  const auth = authFor([{ public_keys: [rsa.pem] }]);
  const forged = await sign(ANY_ACCESS, { key: rsa2 });
  for (let i = 0; i < 3; i++) assert.equal((await auth.authenticate(forged)).ok, false);
  auth.close();
});
