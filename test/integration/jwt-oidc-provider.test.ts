// The JWT authenticator against a real OpenID Connect provider (npm oidc-provider) on 127.0.0.1:
// discovery, real JWT access tokens with a custom vm_access claim, key rotation picked up through
// an unknown-kid refresh, and previously fetched keys surviving a provider outage.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { decodeProtectedHeader } from 'jose';
import { freePort } from '../helpers/processes.ts';
import { newSigningKey, startOidcProvider, type OidcClient, type OidcResource, type RunningOidcProvider } from '../helpers/oidc.ts';
import { compileUrlPrefix, createJwtAuthenticator, renderUrlPrefix, type JwtAuthenticator } from '../../src/identify/jwt/index.ts';

const clients: OidcClient[] = [
  { id: 'team-a', secret: 'secret-a-0123456789abcdef0123456789', vmAccess: { metrics_account_id: 11, metrics_project_id: 2, metrics_extra_labels: ['team=a'] } },
  // vmgateway format, encoded as a JSON string like some identity providers require
  { id: 'team-b', secret: 'secret-b-0123456789abcdef0123456789', vmAccess: JSON.stringify({ tenant_id: { account_id: 22, project_id: 0 }, mode: 1 }) },
  { id: 'no-access', secret: 'secret-c-0123456789abcdef0123456789' },
];
const resources: OidcResource[] = [
  { indicator: 'urn:tenantgate', audience: 'tenantgate' },
  { indicator: 'urn:other-api', audience: 'other-api' },
];

const warnings: string[] = [];
const logger = { warn: (msg: string, fields?: object) => { warnings.push(`${msg} ${JSON.stringify(fields ?? {})}`); }, info: () => undefined };

let provider: RunningOidcProvider | undefined;
let auth: JwtAuthenticator | undefined;
after(async () => {
  auth?.close();
  await provider?.stop();
});

test('real OIDC provider: discovery, tokens, rotation, outage', async (t) => {
  const port = await freePort();
  const keyA = await newSigningKey('key-a');
  const keyB = await newSigningKey('key-b');
  provider = await startOidcProvider({ port, keys: [keyA], clients, resources });
  const issuer = provider.issuer;

  auth = createJwtAuthenticator(
    [
      { index: 0, name: 'team-a', jwt: { oidc: { issuer }, audience: 'tenantgate', match_claims: { client_id: 'team-a' } } },
      { index: 1, name: 'team-b', jwt: { oidc: { issuer }, audience: 'tenantgate', match_claims: { client_id: 'team-b' } } },
      { index: 2, name: 'others', jwt: { oidc: { issuer }, audience: 'tenantgate', match_claims: { client_id: 'no-.*' } } },
    ],
    // rotation must be picked up at once in this test, so no pause between unknown-kid refreshes
    { logger, oidc: { unknownKidMinIntervalMs: 0 } },
  );
  await auth.ready();
  const a = auth;

  const tokenA1 = await provider.token('team-a');
  assert.equal(decodeProtectedHeader(tokenA1).kid, 'key-a');

  await t.test('a token for team-a is accepted by its section with its vm_access', async () => {
    const r = await a.authenticate(tokenA1);
    assert.ok(r.ok, r.ok ? '' : `${r.code}: ${r.detail}`);
    assert.equal(r.index, 0);
    assert.equal(r.claims['iss'], issuer);
    assert.equal(r.access.metricsAccountId, 11);
    assert.deepEqual(r.access.metricsExtraLabels, ['team=a']);
    const url = renderUrlPrefix(compileUrlPrefix('http://vmselect:8481/select/{{.MetricsTenant}}/prometheus/?extra_label={{.MetricsExtraLabels}}'), r.access);
    assert.equal(url.href, 'http://vmselect:8481/select/11:2/prometheus/?extra_label=team%3Da');
  });

  await t.test('a token for team-b (vmgateway format as a JSON string) is accepted by its section', async () => {
    const r = await a.authenticate(await provider!.token('team-b'));
    assert.ok(r.ok, r.ok ? '' : `${r.code}: ${r.detail}`);
    assert.equal(r.index, 1);
    assert.equal(r.access.metricsAccountId, 22);
    assert.equal(r.access.mode, 'read');
  });

  await t.test('a provider token without vm_access is refused (no default configured)', async () => {
    const r = await a.authenticate(await provider!.token('no-access'));
    assert.equal(r.ok ? 'OK' : r.code, 'ERR_JWT_NO_VM_ACCESS');
  });

  await t.test('a provider token for another audience is refused', async () => {
    const r = await a.authenticate(await provider!.token('team-a', 'urn:other-api'));
    assert.equal(r.ok ? 'OK' : r.code, 'ERR_JWT_AUDIENCE');
  });

  await t.test('a provider token with an edited payload is refused', async () => {
    const [h, p, s] = tokenA1.split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString('utf8')) as Record<string, unknown>;
    claims['vm_access'] = { metrics_account_id: 0 };
    const r = await a.authenticate(`${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`);
    assert.equal(r.ok ? 'OK' : r.code, 'ERR_JWT_SIGNATURE');
  });

  await t.test('after the provider rotates to a new key, its tokens are accepted via an unknown-kid refresh', async () => {
    await provider!.stop();
    // same issuer and port; the new key signs, the old one is still published
    provider = await startOidcProvider({ port, keys: [keyB, keyA], clients, resources });
    const tokenB = await provider.token('team-a');
    assert.equal(decodeProtectedHeader(tokenB).kid, 'key-b');
    const r = await a.authenticate(tokenB);
    assert.ok(r.ok, r.ok ? '' : `${r.code}: ${r.detail}`);
    assert.equal(r.index, 0);
    // the token signed before the rotation is still good: key-a is still published
    assert.equal((await a.authenticate(tokenA1)).ok, true);
  });

  await t.test('while the provider is down, previously fetched keys keep working', async () => {
    const tokenB = await provider!.token('team-b');
    await provider!.stop();
    provider = undefined;
    const before = warnings.length;
    // a token with a kid nobody knows forces a refresh attempt against the dead provider
    const [, p, s] = tokenB.split('.');
    const unknownKidHeader = Buffer.from(JSON.stringify({ alg: 'RS256', kid: 'key-zzz', typ: 'at+jwt' })).toString('base64url');
    const unknown = await a.authenticate(`${unknownKidHeader}.${p}.${s}`);
    assert.equal(unknown.ok ? 'OK' : unknown.code, 'ERR_JWT_UNKNOWN_KID');
    assert.ok(warnings.slice(before).some((w) => w.includes('keeping the previous keys')), 'the failed refresh was logged');
    for (const token of [tokenA1, tokenB]) {
      const r = await a.authenticate(token);
      assert.ok(r.ok, r.ok ? '' : `${r.code}: ${r.detail}`);
    }
  });
});
