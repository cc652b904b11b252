// Negative cases for token validation: each refusal has its own test and its own reason code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ANY_ACCESS, NOW_S, authFor, ec256, forge, hmacWithPublicKey, rsa, rsa2, sign } from './fixtures.ts';
import { MAX_TOKEN_LENGTH } from '../../../src/identify/jwt/index.ts';

const auth = authFor([{ public_keys: [rsa.pem] }]);

async function code(token: string, a = auth): Promise<string> {
  const r = await a.authenticate(token);
  return r.ok ? 'OK' : r.code;
}

test('a valid RS256 token is accepted (baseline for the negative cases)', async () => {
  assert.equal(await code(await sign(ANY_ACCESS)), 'OK');
});

test('expired token is refused with ERR_JWT_EXPIRED', async () => {
  assert.equal(await code(await sign({ ...ANY_ACCESS, exp: NOW_S - 60 })), 'ERR_JWT_EXPIRED');
});

test('expiry within the clock skew is still accepted, beyond it refused', async () => {
  assert.equal(await code(await sign({ ...ANY_ACCESS, exp: NOW_S - 10 })), 'OK');
  assert.equal(await code(await sign({ ...ANY_ACCESS, exp: NOW_S - 31 })), 'ERR_JWT_EXPIRED');
});

test('token without exp is refused with ERR_JWT_CLAIMS', async () => {
  assert.equal(await code(await sign(ANY_ACCESS, { exp: null })), 'ERR_JWT_CLAIMS');
});

test('non-numeric exp is refused with ERR_JWT_CLAIMS', async () => {
  assert.equal(await code(await sign({ ...ANY_ACCESS, exp: String(NOW_S + 600) })), 'ERR_JWT_CLAIMS');
});

test('not-yet-valid token (nbf in the future) is refused with ERR_JWT_NOT_YET_VALID', async () => {
  assert.equal(await code(await sign({ ...ANY_ACCESS, nbf: NOW_S + 300 })), 'ERR_JWT_NOT_YET_VALID');
});

test('token issued in the future (iat beyond skew) is refused with ERR_JWT_NOT_YET_VALID', async () => {
  assert.equal(await code(await sign({ ...ANY_ACCESS, iat: NOW_S + 300 })), 'ERR_JWT_NOT_YET_VALID');
  assert.equal(await code(await sign({ ...ANY_ACCESS, iat: NOW_S + 5 })), 'OK');
});

test('wrong signature (signed by another RSA key) is refused with ERR_JWT_SIGNATURE', async () => {
  assert.equal(await code(await sign(ANY_ACCESS, { key: rsa2 })), 'ERR_JWT_SIGNATURE');
});

test('tampered payload with the original signature is refused with ERR_JWT_SIGNATURE', async () => {
  const good = await sign({ ...ANY_ACCESS, role: 'viewer' });
  const [h, , s] = good.split('.');
  const evilPayload = Buffer.from(JSON.stringify({ ...ANY_ACCESS, role: 'admin', exp: NOW_S + 3600 })).toString('base64url');
  assert.equal(await code(`${h}.${evilPayload}.${s}`), 'ERR_JWT_SIGNATURE');
});

test('alg "none" is refused with ERR_JWT_ALG (with and without a signature part)', async () => {
  const payload = { ...ANY_ACCESS, exp: NOW_S + 3600 };
  assert.equal(await code(forge({ alg: 'none', typ: 'JWT' }, payload, '')), 'ERR_JWT_ALG');
  assert.equal(await code(forge({ alg: 'none', typ: 'JWT' }, payload)), 'ERR_JWT_ALG');
  assert.equal(await code(forge({ alg: 'None', typ: 'JWT' }, payload)), 'ERR_JWT_ALG');
});

test('HS256 signed with the RSA public key as HMAC secret is refused with ERR_JWT_ALG', async () => {
  const token = hmacWithPublicKey({ ...ANY_ACCESS, exp: NOW_S + 3600 }, rsa.pem);
  assert.equal(await code(token), 'ERR_JWT_ALG');
});

test('ES256 token presented to an RSA-only section is refused with ERR_JWT_ALG', async () => {
  assert.equal(await code(await sign(ANY_ACCESS, { key: ec256 })), 'ERR_JWT_ALG');
});

test('wrong issuer is refused with ERR_JWT_ISSUER when issuer is configured', async () => {
  const a = authFor([{ public_keys: [rsa.pem], issuer: ['https://idp.example'] }]);
  assert.equal(await code(await sign({ ...ANY_ACCESS, iss: 'https://evil.example' }), a), 'ERR_JWT_ISSUER');
  assert.equal(await code(await sign(ANY_ACCESS), a), 'ERR_JWT_ISSUER');
  assert.equal(await code(await sign({ ...ANY_ACCESS, iss: 'https://idp.example' }), a), 'OK');
});

test('wrong audience is refused with ERR_JWT_AUDIENCE when audience is configured', async () => {
  const a = authFor([{ public_keys: [rsa.pem], audience: 'tenantgate' }]);
  assert.equal(await code(await sign({ ...ANY_ACCESS, aud: 'grafana' }), a), 'ERR_JWT_AUDIENCE');
  assert.equal(await code(await sign({ ...ANY_ACCESS, aud: ['grafana', 'other'] }), a), 'ERR_JWT_AUDIENCE');
  assert.equal(await code(await sign(ANY_ACCESS), a), 'ERR_JWT_AUDIENCE');
  assert.equal(await code(await sign({ ...ANY_ACCESS, aud: ['grafana', 'tenantgate'] }), a), 'OK');
});

test('audience is not checked when not configured (vmauth compatibility)', async () => {
  assert.equal(await code(await sign({ ...ANY_ACCESS, aud: 'anything' })), 'OK');
});

test('malformed base64 is refused with ERR_JWT_MALFORMED', async () => {
  const good = await sign(ANY_ACCESS);
  const [h, p, s] = good.split('.');
  assert.equal(await code(`${h}.${p!.slice(0, 10)}!!${p!.slice(10)}.${s}`), 'ERR_JWT_MALFORMED');
  assert.equal(await code(`${h}.${p}.${s}+/`), 'ERR_JWT_MALFORMED');
  assert.equal(await code(`${h}=.${p}.${s}`), 'ERR_JWT_MALFORMED');
  assert.equal(await code(`${h}.${p}.`), 'ERR_JWT_MALFORMED');
});

test('malformed JSON and non-object parts are refused with ERR_JWT_MALFORMED', async () => {
  const b = (s: string) => Buffer.from(s).toString('base64url');
  assert.equal(await code(`${b('{"alg":"RS256"')}.${b('{}')}.c2ln`), 'ERR_JWT_MALFORMED');
  assert.equal(await code(`${b('{"alg":"RS256"}')}.${b('[1,2]')}.c2ln`), 'ERR_JWT_MALFORMED');
  assert.equal(await code(`${b('{"alg":"RS256"}')}.${b('null')}.c2ln`), 'ERR_JWT_MALFORMED');
  assert.equal(await code(`${b('{"alg":"RS256"}')}.${Buffer.from([0xff, 0xfe, 0x7b]).toString('base64url')}.c2ln`), 'ERR_JWT_MALFORMED');
  assert.equal(await code('a.b'), 'ERR_JWT_MALFORMED');
  assert.equal(await code('a.b.c.d'), 'ERR_JWT_MALFORMED');
  assert.equal(await code(''), 'ERR_JWT_MALFORMED');
});

test('a critical header extension is refused with ERR_JWT_MALFORMED', async () => {
  assert.equal(await code(forge({ alg: 'RS256', crit: ['b64'], b64: false }, { ...ANY_ACCESS, exp: NOW_S + 60 })), 'ERR_JWT_MALFORMED');
});

test('oversize token is refused with ERR_JWT_TOO_LARGE before parsing', async () => {
  const big = await sign({ ...ANY_ACCESS, pad: 'x'.repeat(MAX_TOKEN_LENGTH) });
  assert.equal(await code(big), 'ERR_JWT_TOO_LARGE');
  // not even the shape is looked at
  assert.equal(await code('!'.repeat(MAX_TOKEN_LENGTH + 1)), 'ERR_JWT_TOO_LARGE');
});

test('unknown kid on a static key set falls back to the kid-less keys', async () => {
  // PEM keys carry no kid, so a kid in the token cannot select among them; the signature decides.
  assert.equal(await code(await sign(ANY_ACCESS, { kid: 'whatever' })), 'OK');
  assert.equal(await code(await sign(ANY_ACCESS, { kid: 'whatever', key: rsa2 })), 'ERR_JWT_SIGNATURE');
});

test('failure details never contain the token', async () => {
  const tokens = [await sign(ANY_ACCESS, { key: rsa2 }), await sign({ ...ANY_ACCESS, exp: NOW_S - 100 }), hmacWithPublicKey({ exp: NOW_S + 10 }, rsa.pem)];
  for (const t of tokens) {
    const r = await auth.authenticate(t);
    assert.equal(r.ok, false);
    if (!r.ok) {
      for (const part of t.split('.')) assert.ok(!r.detail.includes(part), r.detail);
    }
  }
});
