// JWT end to end: a real OIDC provider issues access tokens carrying vm_access; tenantgate
// discovers the provider's keys, picks the user by claims and fills `{{.MetricsExtraLabels}}`
// into a real VictoriaMetrics URL. Two teams' tokens are isolated, proven by reading data back.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT, generateKeyPair } from 'jose';
import { startGateway, type Gateway } from '../helpers/gateway.ts';
import { newSigningKey, startOidcProvider, type RunningOidcProvider } from '../helpers/oidc.ts';
import { freePort } from '../helpers/processes.ts';
import { startVictoriaMetrics, type VictoriaMetrics } from '../helpers/victoria-metrics.ts';

let vm: VictoriaMetrics;
let idp: RunningOidcProvider;
let gw: Gateway;

const clients = [
  { id: 'team-a', secret: 'secret-a-0123456789', vmAccess: { metrics_extra_labels: ['team=a'] } },
  { id: 'team-b', secret: 'secret-b-0123456789', vmAccess: { metrics_extra_labels: ['team=b'] } },
  { id: 'no-claim', secret: 'secret-n-0123456789' },
  { id: 'sneaky', secret: 'secret-s-0123456789', vmAccess: { metrics_extra_labels: ['team=a&extra_label=team=b'] } },
];

async function query(token: string, q: string): Promise<{ status: number; teams: string[] }> {
  const res = await fetch(`${gw.url}/api/v1/query?query=${encodeURIComponent(q)}&extra_label=team=b`, { headers: { authorization: `Bearer ${token}` } });
  const text = await res.text();
  if (res.status !== 200) return { status: res.status, teams: [] };
  const result = JSON.parse(text).data.result as { metric: Record<string, string> }[];
  return { status: 200, teams: result.map((r) => r.metric['team'] ?? '').sort() };
}

before(async () => {
  vm = await startVictoriaMetrics();
  const ts = Date.now() - 60_000;
  const res = await fetch(`${vm.url}/api/v1/import/prometheus`, { method: 'POST', body: `secret{team="a"} 1 ${ts}\nsecret{team="b"} 2 ${ts}\n` });
  assert.equal(res.status, 204);
  await vm.waitForSeries('secret', 2);
  idp = await startOidcProvider({
    port: await freePort(),
    keys: [await newSigningKey('k1')],
    clients,
    resources: [{ indicator: 'urn:tenantgate', audience: 'tenantgate' }],
  });
  gw = await startGateway(`
users:
- name: oidc-teams
  jwt:
    oidc:
      issuer: "${idp.issuer}"
    audience: tenantgate
  url_prefix: "${vm.url}/?extra_label={{.MetricsExtraLabels}}"
`);
});

after(async () => {
  await gw?.stop();
  await idp?.stop();
  await vm?.stop();
});

test('each team\'s token reads only its own series, even when asking for the other', async () => {
  assert.deepEqual(await query(await idp.token('team-a'), 'secret'), { status: 200, teams: ['a'] });
  assert.deepEqual(await query(await idp.token('team-b'), 'secret'), { status: 200, teams: ['b'] });
  assert.deepEqual(await query(await idp.token('team-a'), 'secret{team="b"}'), { status: 200, teams: [] });
});

test('a token without vm_access is refused with 401', async () => {
  assert.equal((await query(await idp.token('no-claim'), 'secret')).status, 401);
});

test('a claim value that tries to inject a query arg is refused', async () => {
  const r = await query(await idp.token('sneaky'), 'secret');
  assert.equal(r.status, 401);
  assert.match(gw.proc.output(), /JWT refused: ERR_JWT_CLAIM_UNSAFE/);
});

test('a token signed by someone else\'s key is refused', async () => {
  const { privateKey } = await generateKeyPair('RS256');
  const forged = await new SignJWT({ vm_access: { metrics_extra_labels: ['team=b'] } })
    .setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setIssuer(idp.issuer).setAudience('tenantgate')
    .setIssuedAt().setExpirationTime('5m').sign(privateKey);
  assert.equal((await query(forged, 'secret')).status, 401);
});

test('an alg=none token is refused', async () => {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const none = `${b64({ alg: 'none' })}.${b64({ iss: idp.issuer, aud: 'tenantgate', exp: Math.floor(Date.now() / 1000) + 300, vm_access: { metrics_extra_labels: ['team=b'] } })}.`;
  assert.equal((await query(none, 'secret')).status, 401);
});

test('refusals are logged with their reason and never with the token', async () => {
  const token = await idp.token('no-claim');
  await query(token, 'secret');
  const out = gw.proc.output();
  assert.match(out, /JWT refused: ERR_JWT_NO_VM_ACCESS/);
  assert.match(out, /JWT refused: ERR_JWT_SIGNATURE/);
  assert.ok(!out.includes(token), 'the token must never appear in logs');
});
