// Key types and key loading: RSA, ECDSA and EdDSA all verify; unusable keys are config errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ANY_ACCESS, authFor, captureLogger, ec256, ec384, ed, rsa, sign } from './fixtures.ts';
import { createJwtAuthenticator, JwtConfigError } from '../../../src/identify/jwt/index.ts';

test('RSA key verifies RS256, RS384, RS512, PS256, PS384 and PS512 tokens', async () => {
  const a = authFor([{ public_keys: [rsa.pem] }]);
  for (const alg of ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']) {
    const r = await a.authenticate(await sign(ANY_ACCESS, { alg }));
    assert.equal(r.ok, true, alg);
  }
});

test('ECDSA P-256 key verifies ES256 and refuses ES384 (curve/alg mismatch)', async () => {
  const a = authFor([{ public_keys: [ec256.pem] }]);
  assert.equal((await a.authenticate(await sign(ANY_ACCESS, { key: ec256 }))).ok, true);
  const r = await a.authenticate(await sign(ANY_ACCESS, { key: ec384, alg: 'ES384' }));
  assert.equal(r.ok ? 'OK' : r.code, 'ERR_JWT_ALG');
});

test('ECDSA P-384 key verifies ES384', async () => {
  const a = authFor([{ public_keys: [ec384.pem] }]);
  assert.equal((await a.authenticate(await sign(ANY_ACCESS, { key: ec384 }))).ok, true);
});

test('Ed25519 key verifies EdDSA', async () => {
  const a = authFor([{ public_keys: [ed.pem] }]);
  assert.equal((await a.authenticate(await sign(ANY_ACCESS, { key: ed }))).ok, true);
});

test('several keys of different types in one section: each verifies its own tokens', async () => {
  const a = authFor([{ public_keys: [rsa.pem, ec256.pem, ed.pem] }]);
  for (const key of [rsa, ec256, ed]) assert.equal((await a.authenticate(await sign(ANY_ACCESS, { key }))).ok, true, key.alg);
});

test('public_key_files are read at creation', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tg-jwt-'));
  try {
    const file = join(dir, 'key.pem');
    writeFileSync(file, ec256.pem);
    const a = authFor([{ public_key_files: [file] }]);
    assert.equal((await a.authenticate(await sign(ANY_ACCESS, { key: ec256 }))).ok, true);
    assert.throws(() => authFor([{ public_key_files: [join(dir, 'missing.pem')] }]), (e: unknown) => e instanceof JwtConfigError && e.field === 'jwt.public_key_files[0]');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a private key in public_keys is a config error (never silently derived)', () => {
  const pem = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  assert.throws(() => authFor([{ public_keys: [pem] }]), /private key/);
});

test('an RSA key under 2048 bits is a config error', () => {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const pem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
  assert.throws(() => authFor([{ public_keys: [pem] }]), /2048/);
});

test('garbage PEM is a config error naming the section index and field', () => {
  assert.throws(
    () => createJwtAuthenticator([{ index: 0, name: 'a', jwt: { skip_verify: true } }, { index: 7, name: 'b', jwt: { public_keys: ['not a key'] } }], { logger: captureLogger() }),
    (e: unknown) => e instanceof JwtConfigError && e.sectionIndex === 7 && e.field === 'jwt.public_keys[0]' && /users\[7\]/.test(e.message),
  );
});

test('skip_verify: true logs a loud warning at creation and accepts unsigned-by-us tokens', async () => {
  const logger = captureLogger();
  const a = createJwtAuthenticator([{ index: 3, name: 'test', jwt: { skip_verify: true } }], { logger, now: () => Date.UTC(2030, 0, 1) });
  const warning = logger.logs.find((l) => l.level === 'warn');
  assert.ok(warning !== undefined && /skip_verify/.test(warning.msg) && /NOT verified/.test(warning.msg));
  assert.equal((await a.authenticate(await sign(ANY_ACCESS, { key: ed }))).ok, true);
});

test('skip_verify accepts unsigned (alg none) tokens as vmauth does, but still refuses expired ones', async () => {
  const a = authFor([{ skip_verify: true }]);
  const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ exp: Date.UTC(2030, 0, 1) / 1000 + 60, vm_access: {} })).toString('base64url')}.`;
  const r1 = await a.authenticate(none);
  assert.equal(r1.ok ? 'OK' : r1.code, 'OK');
  // Only skip_verify users see such tokens: a user that verifies signatures refuses alg none.
  const strict = authFor([{ public_keys: [rsa.pem] }]);
  const r0 = await strict.authenticate(none);
  assert.equal(r0.ok ? 'OK' : r0.code, 'ERR_JWT_ALG');
  const r2 = await a.authenticate(await sign({ ...ANY_ACCESS, exp: 1000 }));
  assert.equal(r2.ok ? 'OK' : r2.code, 'ERR_JWT_EXPIRED');
});
