// match_claims: nested paths, arrays, whole-value RE2 regexes, precedence and tie rejection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ANY_ACCESS, authFor, rsa, sign } from './fixtures.ts';
import { JwtConfigError, jwtSectionSchema } from '../../../src/identify/jwt/index.ts';
import { splitClaimPath } from '../../../src/identify/jwt/claim-match.ts';

const keys = { public_keys: [rsa.pem] };

async function which(a: ReturnType<typeof authFor>, claims: Record<string, unknown>): Promise<number | string> {
  const r = await a.authenticate(await sign({ ...ANY_ACCESS, ...claims }));
  return r.ok ? r.index : r.code;
}

test('a top-level string claim selects its section; others do not match', async () => {
  const a = authFor([{ ...keys, match_claims: { role: 'admin' } }, { ...keys, match_claims: { role: 'viewer' } }]);
  assert.equal(await which(a, { role: 'admin' }), 0);
  assert.equal(await which(a, { role: 'viewer' }), 1);
  assert.equal(await which(a, { role: 'writer' }), 'ERR_JWT_NO_MATCH');
  assert.equal(await which(a, {}), 'ERR_JWT_NO_MATCH');
});

test('regex matches the whole value, not a substring (deliberate difference from vmauth)', async () => {
  const a = authFor([{ ...keys, match_claims: { role: 'admin' } }]);
  assert.equal(await which(a, { role: 'not-admin' }), 'ERR_JWT_NO_MATCH');
  assert.equal(await which(a, { role: 'administrator' }), 'ERR_JWT_NO_MATCH');
  const b = authFor([{ ...keys, match_claims: { role: 'admin.*' } }]);
  assert.equal(await which(b, { role: 'administrator' }), 0);
  assert.equal(await which(b, { role: 'superadmin' }), 'ERR_JWT_NO_MATCH');
});

test('alternation regex matches whole values only', async () => {
  const a = authFor([{ ...keys, match_claims: { 'vm_access.metrics_account_id': '(0|1|2)' } }]);
  assert.equal(await which(a, { vm_access: { metrics_account_id: 2 } }), 0);
  assert.equal(await which(a, { vm_access: { metrics_account_id: 12 } }), 'ERR_JWT_NO_MATCH');
});

test('nested dot paths, array indexes and escaped dots', async () => {
  const a = authFor([
    { ...keys, match_claims: { 'security.permissions.0.read': '1' } },
    { ...keys, match_claims: { 'org\\.example.team': 'ops', x: 'y' } },
  ]);
  assert.equal(await which(a, { security: { permissions: [{ read: 1 }] } }), 0);
  assert.equal(await which(a, { security: { permissions: [{ read: 0 }, { read: 1 }] } }), 'ERR_JWT_NO_MATCH');
  assert.equal(await which(a, { 'org.example': { team: 'ops' }, x: 'y' }), 1);
  assert.equal(await which(a, { org: { example: { team: 'ops' } }, x: 'y' }), 'ERR_JWT_NO_MATCH');
  assert.deepEqual(splitClaimPath('a\\.b.c'), ['a.b', 'c']);
});

test('array claims match when any scalar element matches', async () => {
  const a = authFor([{ ...keys, match_claims: { roles: '(read|write)' } }]);
  assert.equal(await which(a, { roles: ['other', 'write'] }), 0);
  assert.equal(await which(a, { roles: ['readwrite'] }), 'ERR_JWT_NO_MATCH');
  assert.equal(await which(a, { roles: [['read'], { r: 'read' }] }), 'ERR_JWT_NO_MATCH');
  assert.equal(await which(a, { roles: [] }), 'ERR_JWT_NO_MATCH');
});

test('numbers and booleans compare by their JSON text; objects and null never match', async () => {
  const a = authFor([{ ...keys, match_claims: { n: '42', b: 'true' } }]);
  assert.equal(await which(a, { n: 42, b: true }), 0);
  assert.equal(await which(a, { n: '42', b: 'true' }), 0);
  assert.equal(await which(a, { n: { v: 42 }, b: true }), 'ERR_JWT_NO_MATCH');
  assert.equal(await which(a, { n: null, b: true }), 'ERR_JWT_NO_MATCH');
});

test('YAML numbers in match_claims are read as strings', () => {
  const s = jwtSectionSchema.parse({ ...keys, match_claims: { 'vm_access.metrics_account_id': 1 } });
  assert.deepEqual(s.match_claims, { 'vm_access.metrics_account_id': '1' });
});

test('scope as a space-separated string matches per scope', async () => {
  const a = authFor([{ ...keys, match_claims: { scope: 'metrics:write' } }]);
  assert.equal(await which(a, { scope: 'openid metrics:write profile' }), 0);
  assert.equal(await which(a, { scope: 'openid metrics:write-all' }), 'ERR_JWT_NO_MATCH');
  assert.equal(await which(a, { scope: ['metrics:write'] }), 0);
});

test('vm_access given as a JSON string is matched through nested paths', async () => {
  const a = authFor([{ ...keys, match_claims: { 'vm_access.metrics_account_id': '7' } }]);
  assert.equal(await which(a, { vm_access: JSON.stringify({ metrics_account_id: 7 }) }), 0);
  assert.equal(await which(a, { vm_access: JSON.stringify({ metrics_account_id: 8 }) }), 'ERR_JWT_NO_MATCH');
});

test('paths never reach inherited properties', async () => {
  const a = authFor([{ ...keys, match_claims: { 'x.constructor.name': 'Object' } }, { ...keys, match_claims: { 'y.__proto__': '.*', z: '1' } }]);
  assert.equal(await which(a, { x: {} }), 'ERR_JWT_NO_MATCH');
  assert.equal(await which(a, { y: {}, z: 1 }), 'ERR_JWT_NO_MATCH');
});

test('most specific section wins regardless of config order', async () => {
  const a = authFor([
    { ...keys, match_claims: { iss: 'foo' } },
    { ...keys, match_claims: { iss: 'foo', role: 'admin' } },
    { ...keys },
  ]);
  assert.equal(await which(a, { iss: 'foo', role: 'admin' }), 1);
  assert.equal(await which(a, { iss: 'foo', role: 'viewer' }), 0);
  assert.equal(await which(a, { iss: 'bar' }), 2);
});

test('equally specific, different claim sets: first in config order wins', async () => {
  const a = authFor([{ ...keys, match_claims: { role: 'foo' } }, { ...keys, match_claims: { team: 'platform' } }]);
  assert.equal(await which(a, { role: 'foo', team: 'platform' }), 0);
  assert.equal(await which(a, { team: 'platform' }), 1);
});

test('identical claim sets in two sections are rejected at config load', () => {
  assert.throws(
    () => authFor([{ ...keys, match_claims: { role: 'admin', team: 'a' } }, { ...keys, match_claims: { team: 'a', role: 'admin' } }]),
    (e: unknown) => e instanceof JwtConfigError && e.sectionIndex === 1 && /users\[0\]/.test(e.message),
  );
  assert.throws(() => authFor([{ ...keys }, { ...keys, match_claims: {} }]), JwtConfigError);
});

test('identical claim sets are allowed when their issuers cannot overlap', async () => {
  const a = authFor([{ ...keys, issuer: 'https://a.example' }, { ...keys, issuer: 'https://b.example' }]);
  assert.equal(await which(a, { iss: 'https://b.example' }), 1);
  assert.throws(() => authFor([{ ...keys, issuer: 'https://a.example' }, { ...keys }]), JwtConfigError);
});

test('a section whose conditions fail does not stop a less specific one from accepting', async () => {
  const a = authFor([{ ...keys, match_claims: { role: 'admin' }, audience: 'admin-api' }, { ...keys }]);
  assert.equal(await which(a, { role: 'admin', aud: 'admin-api' }), 0);
  assert.equal(await which(a, { role: 'admin', aud: 'other' }), 1);
});

test('the reported failure is the most specific candidate\'s', async () => {
  const a = authFor([{ ...keys, match_claims: { role: 'admin' }, audience: 'admin-api' }, { ...keys, issuer: 'https://x' }]);
  const r = await a.authenticate(await sign({ ...ANY_ACCESS, role: 'admin', aud: 'other' }));
  assert.equal(r.ok ? 'OK' : r.code, 'ERR_JWT_AUDIENCE');
});

test('an invalid regex is a config error naming the claim', () => {
  assert.throws(() => authFor([{ ...keys, match_claims: { role: '(' } }]), /role/);
  assert.throws(() => authFor([{ ...keys, match_claims: { 'a..b': 'x' } }]), /empty path segment/);
  // RE2 has no backreferences
  assert.throws(() => authFor([{ ...keys, match_claims: { role: '(a)\\1' } }]), JwtConfigError);
});
