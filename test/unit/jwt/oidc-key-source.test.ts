// OIDC discovery and JWKS refresh against an in-memory provider (fetch is injected).
// The real-provider test is test/integration/jwt-oidc-provider.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ANY_ACCESS, NOW_MS, captureLogger, ec256, ed, jwkOf, rsa, rsa2, sign } from './fixtures.ts';
import { createJwtAuthenticator, type JwtSectionConfig, type OidcTimings } from '../../../src/identify/jwt/index.ts';

const ISSUER = 'https://idp.test/realms/main';

interface FakeIdp {
  fetch: typeof fetch;
  calls: string[];
  jwks: { keys: unknown[] };
  discovery: Record<string, unknown>;
  down: boolean;
}

function fakeIdp(keys: unknown[]): FakeIdp {
  const idp: FakeIdp = {
    calls: [],
    jwks: { keys },
    discovery: { issuer: ISSUER, jwks_uri: `${ISSUER}/certs` },
    down: false,
    fetch: (async (input: string | URL | Request) => {
      const url = String(input);
      idp.calls.push(url);
      if (idp.down) throw new TypeError('fetch failed: connect ECONNREFUSED');
      if (url === `${ISSUER}/.well-known/openid-configuration`) return Response.json(idp.discovery);
      if (url === `${ISSUER}/certs`) return Response.json(idp.jwks);
      return new Response('not found', { status: 404 });
    }) as typeof fetch,
  };
  return idp;
}

const SLOW: Partial<OidcTimings> = { refreshIntervalMs: 3_600_000, retryIntervalMs: 3_600_000, unknownKidMinIntervalMs: 0 };

function make(idp: FakeIdp, sections: JwtSectionConfig[] = [{ oidc: { issuer: ISSUER } }], timings: Partial<OidcTimings> = SLOW) {
  const logger = captureLogger();
  const auth = createJwtAuthenticator(sections.map((jwt, index) => ({ index, name: `u${index}`, jwt })), { logger, fetch: idp.fetch, now: () => NOW_MS, oidc: timings });
  return { auth, logger };
}

async function code(auth: ReturnType<typeof make>['auth'], token: string): Promise<string> {
  const r = await auth.authenticate(token);
  return r.ok ? 'OK' : r.code;
}

test('keys are discovered through the well-known document and verify tokens', async () => {
  const idp = fakeIdp([await jwkOf(rsa, 'k1'), await jwkOf(ec256, 'k2')]);
  const { auth } = make(idp);
  try {
    await auth.ready();
    assert.deepEqual(idp.calls, [`${ISSUER}/.well-known/openid-configuration`, `${ISSUER}/certs`]);
    assert.equal(await code(auth, await sign({ ...ANY_ACCESS, iss: ISSUER }, { kid: 'k1' })), 'OK');
    assert.equal(await code(auth, await sign({ ...ANY_ACCESS, iss: ISSUER }, { kid: 'k2', key: ec256 })), 'OK');
  } finally {
    auth.close();
  }
});

test('token iss must equal the OIDC issuer', async () => {
  const idp = fakeIdp([await jwkOf(rsa, 'k1')]);
  const { auth } = make(idp);
  try {
    await auth.ready();
    assert.equal(await code(auth, await sign({ ...ANY_ACCESS, iss: 'https://other.test' }, { kid: 'k1' })), 'ERR_JWT_ISSUER');
    assert.equal(await code(auth, await sign(ANY_ACCESS, { kid: 'k1' })), 'ERR_JWT_ISSUER');
  } finally {
    auth.close();
  }
});

test('a discovery document naming another issuer is refused: no keys, tokens rejected', async () => {
  const idp = fakeIdp([await jwkOf(rsa, 'k1')]);
  idp.discovery = { issuer: 'https://evil.test', jwks_uri: `${ISSUER}/certs` };
  const { auth, logger } = make(idp);
  try {
    await auth.ready();
    assert.ok(logger.logs.some((l) => l.level === 'warn' && /refresh failed/.test(l.msg)));
    assert.equal(await code(auth, await sign({ ...ANY_ACCESS, iss: ISSUER }, { kid: 'k1' })), 'ERR_JWT_NO_KEYS');
  } finally {
    auth.close();
  }
});

test('while no keys are known the section matches nothing, and another section may still accept', async () => {
  const idp = fakeIdp([]);
  idp.down = true;
  const { auth } = make(idp, [{ oidc: { issuer: ISSUER }, match_claims: { team: 'a' } }, { public_keys: [rsa2.pem] }]);
  try {
    await auth.ready();
    assert.equal(await code(auth, await sign({ ...ANY_ACCESS, iss: ISSUER, team: 'a' }, { kid: 'k1' })), 'ERR_JWT_NO_KEYS');
    const r = await auth.authenticate(await sign({ ...ANY_ACCESS, iss: ISSUER, team: 'a' }, { key: rsa2 }));
    assert.ok(r.ok && r.index === 1);
  } finally {
    auth.close();
  }
});

test('an unknown kid triggers one refresh, after which the rotated key verifies', async () => {
  const idp = fakeIdp([await jwkOf(rsa, 'old')]);
  const { auth } = make(idp);
  try {
    await auth.ready();
    idp.jwks = { keys: [await jwkOf(rsa, 'old'), await jwkOf(rsa2, 'new')] };
    const before = idp.calls.length;
    assert.equal(await code(auth, await sign({ ...ANY_ACCESS, iss: ISSUER }, { kid: 'new', key: rsa2 })), 'OK');
    assert.equal(idp.calls.length - before, 2, 'one discovery + one JWKS request');
    // the now-known kid needs no further requests
    assert.equal(await code(auth, await sign({ ...ANY_ACCESS, iss: ISSUER }, { kid: 'new', key: rsa2 })), 'OK');
    assert.equal(idp.calls.length - before, 2);
  } finally {
    auth.close();
  }
});

test('an unknown kid that stays unknown is refused with ERR_JWT_UNKNOWN_KID', async () => {
  const idp = fakeIdp([await jwkOf(rsa, 'k1')]);
  const { auth } = make(idp);
  try {
    await auth.ready();
    assert.equal(await code(auth, await sign({ ...ANY_ACCESS, iss: ISSUER }, { kid: 'nope', key: rsa2 })), 'ERR_JWT_UNKNOWN_KID');
  } finally {
    auth.close();
  }
});

test('unknown-kid refreshes are rate-limited', async () => {
  const idp = fakeIdp([await jwkOf(rsa, 'k1')]);
  const { auth } = make(idp, undefined, { ...SLOW, unknownKidMinIntervalMs: 3_600_000 });
  try {
    await auth.ready();
    const before = idp.calls.length;
    for (let i = 0; i < 5; i++) {
      assert.equal(await code(auth, await sign({ ...ANY_ACCESS, iss: ISSUER }, { kid: `random-${i}`, key: rsa2 })), 'ERR_JWT_UNKNOWN_KID');
    }
    assert.equal(idp.calls.length - before, 0, 'the initial load was within the interval, so no refresh at all');
  } finally {
    auth.close();
  }
});

test('concurrent unknown-kid requests share one refresh', async () => {
  const idp = fakeIdp([await jwkOf(rsa, 'k1')]);
  const { auth } = make(idp);
  try {
    await auth.ready();
    idp.jwks = { keys: [await jwkOf(rsa2, 'k2')] };
    const before = idp.calls.length;
    const token = await sign({ ...ANY_ACCESS, iss: ISSUER }, { kid: 'k2', key: rsa2 });
    const results = await Promise.all(Array.from({ length: 10 }, () => code(auth, token)));
    assert.deepEqual(results, Array(10).fill('OK'));
    assert.equal(idp.calls.length - before, 2);
  } finally {
    auth.close();
  }
});

test('when the provider is down, the previously fetched keys keep working', async () => {
  const idp = fakeIdp([await jwkOf(rsa, 'k1')]);
  const { auth, logger } = make(idp);
  try {
    await auth.ready();
    idp.down = true;
    // an unknown kid forces a refresh attempt, which fails
    assert.equal(await code(auth, await sign({ ...ANY_ACCESS, iss: ISSUER }, { kid: 'k9', key: rsa2 })), 'ERR_JWT_UNKNOWN_KID');
    assert.ok(logger.logs.some((l) => l.level === 'warn' && /keeping the previous keys/.test(l.msg)));
    assert.equal(await code(auth, await sign({ ...ANY_ACCESS, iss: ISSUER }, { kid: 'k1' })), 'OK');
  } finally {
    auth.close();
  }
});

test('a JWKS that lost all usable keys does not replace the known keys', async () => {
  const idp = fakeIdp([await jwkOf(rsa, 'k1')]);
  const { auth } = make(idp);
  try {
    await auth.ready();
    idp.jwks = { keys: [{ kty: 'oct', k: 'c2VjcmV0', kid: 'h1' }] };
    assert.equal(await code(auth, await sign({ ...ANY_ACCESS, iss: ISSUER }, { kid: 'zz', key: rsa2 })), 'ERR_JWT_UNKNOWN_KID');
    assert.equal(await code(auth, await sign({ ...ANY_ACCESS, iss: ISSUER }, { kid: 'k1' })), 'OK');
  } finally {
    auth.close();
  }
});

test('symmetric, encryption and private JWKs are skipped; an HS256 token with an "oct" kid is refused', async () => {
  const priv = { ...(rsa.privateKey.export({ format: 'jwk' }) as object), kid: 'priv' };
  const idp = fakeIdp([{ kty: 'oct', k: Buffer.from('secret').toString('base64url'), kid: 'h1' }, { ...(await jwkOf(ec256, 'enc')), use: 'enc' }, priv, await jwkOf(ed, 'ed')]);
  const { auth, logger } = make(idp);
  try {
    await auth.ready();
    const skipped = logger.logs.find((l) => /skipped unusable keys/.test(l.msg))?.fields as { skipped: string[] } | undefined;
    assert.equal(skipped?.skipped.length, 3);
    assert.equal(await code(auth, await sign({ ...ANY_ACCESS, iss: ISSUER }, { kid: 'ed', key: ed })), 'OK');
    assert.equal(await code(auth, await sign({ ...ANY_ACCESS, iss: ISSUER }, { kid: 'enc', key: ec256 })), 'ERR_JWT_UNKNOWN_KID');
    const { createHmac } = await import('node:crypto');
    const b = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const input = `${b({ alg: 'HS256', kid: 'h1' })}.${b({ ...ANY_ACCESS, iss: ISSUER, exp: NOW_MS / 1000 + 60 })}`;
    const hs = `${input}.${createHmac('sha256', 'secret').update(input).digest('base64url')}`;
    assert.equal(await code(auth, hs), 'ERR_JWT_ALG');
  } finally {
    auth.close();
  }
});

test('a JWK whose alg does not fit its key is skipped', async () => {
  const idp = fakeIdp([{ ...(await jwkOf(rsa, 'k1')), alg: 'ES256' }, await jwkOf(rsa2, 'k2')]);
  const { auth } = make(idp);
  try {
    await auth.ready();
    assert.equal(await code(auth, await sign({ ...ANY_ACCESS, iss: ISSUER }, { kid: 'k1' })), 'ERR_JWT_UNKNOWN_KID');
    // a JWK with alg RS256 must not verify PS256 tokens
    assert.equal(await code(auth, await sign({ ...ANY_ACCESS, iss: ISSUER }, { kid: 'k2', key: rsa2, alg: 'PS256' })), 'ERR_JWT_ALG');
  } finally {
    auth.close();
  }
});

test('sections with the same issuer share one discovery', async () => {
  const idp = fakeIdp([await jwkOf(rsa, 'k1')]);
  const { auth } = make(idp, [{ oidc: { issuer: ISSUER }, match_claims: { a: '1' } }, { oidc: { issuer: ISSUER }, match_claims: { b: '1' } }]);
  try {
    await auth.ready();
    assert.equal(idp.calls.length, 2);
  } finally {
    auth.close();
  }
});

test('an oversized JWKS document is refused', async () => {
  const idp = fakeIdp([await jwkOf(rsa, 'k1'), { pad: 'x'.repeat(1024 * 1024) }]);
  const { auth, logger } = make(idp);
  try {
    await auth.ready();
    assert.ok(logger.logs.some((l) => l.level === 'warn' && JSON.stringify(l.fields).includes('limit')));
    assert.equal(await code(auth, await sign({ ...ANY_ACCESS, iss: ISSUER }, { kid: 'k1' })), 'ERR_JWT_NO_KEYS');
  } finally {
    auth.close();
  }
});

test('a discovered jwks_uri on another host, over http under an https issuer, or with credentials is refused: no keys are fetched from it', async () => {
  for (const jwksUri of ['https://attacker.test/certs', 'http://idp.test/realms/main/certs', 'https://user:pw@idp.test/certs', 'https://idp.test.attacker.test/certs']) {
    const idp = fakeIdp([await jwkOf(rsa, 'k1')]);
    idp.discovery = { issuer: ISSUER, jwks_uri: jwksUri };
    const { auth, logger } = make(idp);
    try {
      await auth.ready();
      assert.deepEqual(idp.calls, [`${ISSUER}/.well-known/openid-configuration`], `${jwksUri} must not be fetched`);
      assert.equal(await code(auth, await sign({ ...ANY_ACCESS, iss: ISSUER }, { kid: 'k1' })), 'ERR_JWT_NO_KEYS');
      assert.ok(logger.logs.some((l) => /jwks_uri/.test(JSON.stringify(l))), "the refusal is logged");
    } finally {
      auth.close();
    }
  }
});

test('a jwks_uri on another host is used only when listed in oidc.jwks_hosts', async () => {
  const idp = fakeIdp([await jwkOf(rsa, 'k1')]);
  idp.discovery = { issuer: ISSUER, jwks_uri: 'https://keys.idp-cdn.test/certs' };
  const inner = idp.fetch;
  idp.fetch = (async (input: string | URL | Request) => String(input) === 'https://keys.idp-cdn.test/certs' ? Response.json(idp.jwks) : inner(input)) as typeof fetch;
  const { auth } = make(idp, [{ oidc: { issuer: ISSUER, jwks_hosts: ['keys.idp-cdn.test'] } }]);
  try {
    await auth.ready();
    assert.equal(await code(auth, await sign({ ...ANY_ACCESS, iss: ISSUER }, { kid: 'k1' })), 'OK');
  } finally {
    auth.close();
  }
});

test('discovery and JWKS requests never follow redirects', async () => {
  let init: RequestInit | undefined;
  const idp = fakeIdp([await jwkOf(rsa, 'k1')]);
  const inner = idp.fetch;
  idp.fetch = (async (input: string | URL | Request, i?: RequestInit) => { init = i; return inner(input); }) as typeof fetch;
  const { auth } = make(idp);
  try {
    await auth.ready();
    assert.equal(init?.redirect, 'error');
  } finally {
    auth.close();
  }
});

test('a key withdrawn from the JWKS stops verifying at the next refresh, even for a token verified (and cached) before', async () => {
  const idp = fakeIdp([await jwkOf(rsa, 'k1'), await jwkOf(rsa2, 'k2')]);
  const { auth } = make(idp, [{ oidc: { issuer: ISSUER } }], { refreshIntervalMs: 50, retryIntervalMs: 50, unknownKidMinIntervalMs: 3_600_000 });
  try {
    await auth.ready();
    const t1 = await sign({ ...ANY_ACCESS, iss: ISSUER }, { kid: 'k1' });
    assert.equal(await code(auth, t1), 'OK');
    idp.jwks = { keys: [await jwkOf(rsa2, 'k2')] };
    // wait (bounded) for a refresh that has seen the new set
    const before = idp.calls.length;
    for (let i = 0; i < 100 && idp.calls.length < before + 2; i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(idp.calls.length >= before + 2, 'a refresh ran');
    assert.equal(await code(auth, t1), 'ERR_JWT_UNKNOWN_KID', 'the cached verification does not outlive the key');
    assert.equal(await code(auth, await sign({ ...ANY_ACCESS, iss: ISSUER }, { kid: 'k2', key: rsa2 })), 'OK');
  } finally {
    auth.close();
  }
});

test('the default refresh period bounds key withdrawal to about a minute', async () => {
  const { DEFAULT_OIDC_TIMINGS } = await import('../../../src/identify/jwt/oidc-key-source.ts');
  assert.ok(DEFAULT_OIDC_TIMINGS.refreshIntervalMs <= 60_000);
});
