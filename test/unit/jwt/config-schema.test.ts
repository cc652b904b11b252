// The `jwt:` section schema: vmauth field names, strict objects, exclusive key sources.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jwtSectionSchema } from '../../../src/identify/jwt/index.ts';
import { rsa } from './fixtures.ts';

function issues(v: unknown): string {
  const r = jwtSectionSchema.safeParse(v);
  assert.equal(r.success, false, 'expected the schema to refuse');
  return r.success ? '' : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
}

test('a vmauth-style section with every field parses', () => {
  const s = jwtSectionSchema.parse({
    public_keys: [rsa.pem],
    match_claims: { role: 'admin' },
    default_vm_access_claim: { metrics_account_id: 1, metrics_extra_labels: ['team=dev'] },
    audience: ['tenantgate'],
    issuer: 'https://idp.example',
  });
  assert.equal(s.audience?.[0], 'tenantgate');
  assert.equal(jwtSectionSchema.parse({ oidc: { issuer: 'https://idp.example/realms/x' } }).oidc?.issuer, 'https://idp.example/realms/x');
  assert.equal(jwtSectionSchema.parse({ skip_verify: true }).skip_verify, true);
});

test('unknown keys are rejected at every level', () => {
  assert.match(issues({ public_keys: [rsa.pem], publik_keys: [] }), /publik_keys/);
  assert.match(issues({ oidc: { issuer: 'https://x', client_id: 'a' } }), /client_id/);
  assert.match(issues({ skip_verify: true, default_vm_access_claim: { metric_account_id: 1 } }), /metric_account_id/);
});

test('some key source is required', () => {
  assert.match(issues({}), /public_keys, public_key_files, oidc, or skip_verify/);
  assert.match(issues({ skip_verify: false }), /public_keys/);
  assert.match(issues({ public_keys: [] }), /public_keys/);
});

test('oidc cannot be combined with static keys or skip_verify', () => {
  assert.match(issues({ oidc: { issuer: 'https://x' }, public_keys: [rsa.pem] }), /oidc/);
  assert.match(issues({ oidc: { issuer: 'https://x' }, skip_verify: true }), /oidc/);
  assert.match(issues({ public_keys: [rsa.pem], skip_verify: true }), /skip_verify/);
});

test('oidc issuer must be an http(s) URL and be among `issuer` when both are set', () => {
  assert.match(issues({ oidc: { issuer: 'idp.example' } }), /oidc\.issuer/);
  assert.match(issues({ oidc: { issuer: 'https://a' }, issuer: ['https://b'] }), /issuer/);
  jwtSectionSchema.parse({ oidc: { issuer: 'https://a' }, issuer: ['https://b', 'https://a'] });
});

test('match_claims values must be RE2 regexes; types are checked', () => {
  assert.match(issues({ skip_verify: true, match_claims: { role: '[' } }), /match_claims/);
  assert.match(issues({ skip_verify: true, match_claims: { role: ['a'] } }), /match_claims/);
  assert.match(issues({ skip_verify: true, audience: [] }), /audience/);
  assert.match(issues({ skip_verify: true, default_vm_access_claim: { metrics_account_id: -1 } }), /metrics_account_id/);
});
