// vm_access in vmauth's and vmgateway's formats, as object or JSON string; defaults; validation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { authFor, rsa, sign } from './fixtures.ts';
import { parseVmAccess, type VmAccess } from '../../../src/identify/jwt/index.ts';

function ok(raw: unknown): VmAccess {
  const r = parseVmAccess(raw, 'token');
  assert.ok(r.ok, r.ok ? '' : r.detail);
  return r.access;
}
function bad(raw: unknown): string {
  const r = parseVmAccess(raw, 'token');
  assert.equal(r.ok, false, 'expected a refusal');
  return r.ok ? '' : r.detail;
}

const vmauthClaim = {
  metrics_account_id: 1,
  metrics_project_id: 2,
  metrics_extra_labels: ['dev=team', 'env=prod'],
  metrics_extra_filters: ['{env=~"prod|dev",team!="test"}'],
  logs_account_id: 2,
  logs_project_id: 3,
  logs_extra_filters: ['{"namespace":"my-app","env":"prod"}'],
  logs_extra_stream_filters: [],
};

test('vmauth format is normalised field by field', () => {
  const a = ok(vmauthClaim);
  assert.deepEqual({ ...a }, {
    metricsAccountId: 1, metricsProjectId: 2, metricsExtraLabels: ['dev=team', 'env=prod'], metricsExtraFilters: ['{env=~"prod|dev",team!="test"}'],
    logsAccountId: 2, logsProjectId: 3, logsExtraFilters: ['{"namespace":"my-app","env":"prod"}'], logsExtraStreamFilters: [], mode: 'full', source: 'token',
    metricsTenantGiven: true, logsTenantGiven: true, logsProjectGiven: true,
  });
});

test('vmgateway format is normalised into the metrics fields', () => {
  const a = ok({ tenant_id: { account_id: 1, project_id: 5 }, extra_labels: { team: 'dev', project: 'mobile' }, extra_filters: ['{env=~"prod|dev"}'], mode: 1 });
  assert.equal(a.metricsAccountId, 1);
  assert.equal(a.metricsProjectId, 5);
  assert.deepEqual(a.metricsExtraLabels, ['team=dev', 'project=mobile']);
  assert.deepEqual(a.metricsExtraFilters, ['{env=~"prod|dev"}']);
  assert.equal(a.mode, 'read');
  assert.equal(ok({ tenant_id: {}, mode: 2 }).mode, 'write');
  assert.equal(ok({ tenant_id: {}, mode: 0 }).mode, 'full');
  assert.equal(ok({ tenant_id: {} }).metricsAccountId, 0);
});

test('both formats as a JSON string give the same result as the object', () => {
  assert.deepEqual(ok(JSON.stringify(vmauthClaim)), ok(vmauthClaim));
  const gw = { tenant_id: { account_id: 1, project_id: 5 }, extra_labels: { team: 'dev' }, mode: 1 };
  assert.deepEqual(ok(JSON.stringify(gw)), ok(gw));
});

test('an empty vm_access names no tenant: the ids read 0 but are marked absent, never a default tenant', () => {
  const a = ok({});
  assert.equal(a.metricsAccountId, 0);
  assert.equal(a.logsProjectId, 0);
  assert.equal(a.metricsTenantGiven, false);
  assert.equal(a.logsTenantGiven, false);
  assert.deepEqual(a.metricsExtraFilters, []);
  // an explicit 0 is a tenant like any other
  assert.equal(ok({ logs_account_id: 0 }).logsTenantGiven, true);
  assert.equal(ok({ metrics_account_id: 0 }).metricsTenantGiven, true);
  assert.equal(ok({ tenant_id: { account_id: 0 } }).metricsTenantGiven, true);
  assert.equal(ok({ tenant_id: {} }).metricsTenantGiven, false);
  assert.equal(ok({ metrics_account_id: 4 }).logsTenantGiven, false, 'a metrics tenant is not a logs tenant');
});

test('the result is deeply immutable', () => {
  const a = ok(vmauthClaim);
  assert.ok(Object.isFrozen(a) && Object.isFrozen(a.metricsExtraLabels) && Object.isFrozen(a.logsExtraFilters));
  assert.throws(() => { (a.metricsExtraLabels as string[]).push('x=y'); }, TypeError);
});

test('account ids must be uint32 numbers', () => {
  bad({ metrics_account_id: -1 });
  bad({ metrics_account_id: 4294967296 });
  bad({ metrics_account_id: 1.5 });
  bad({ metrics_account_id: '1' });
  bad({ logs_project_id: '../admin' });
  bad({ tenant_id: { account_id: -5 } });
  assert.equal(ok({ metrics_account_id: 4294967295 }).metricsAccountId, 4294967295);
});

test('strings only where strings are expected', () => {
  bad({ metrics_extra_filters: '{a="b"}' });
  bad({ metrics_extra_filters: [1] });
  bad({ logs_extra_filters: [{ a: 1 }] });
  bad({ extra_labels: { team: 1 } });
  bad({ extra_labels: ['team=dev'] });
  bad({ tenant_id: 1 });
  bad('not json');
  bad([1]);
  bad(42);
});

test('extra labels must have valid label names', () => {
  bad({ metrics_extra_labels: ['team'] });
  bad({ metrics_extra_labels: ['1team=dev'] });
  bad({ metrics_extra_labels: ['te am=dev'] });
  bad({ extra_labels: { 'bad-name': 'x' } });
  assert.deepEqual(ok({ metrics_extra_labels: ['_a1=x=y'] }).metricsExtraLabels, ['_a1=x=y']);
});

test('control characters (CR, LF, NUL) are refused in every string', () => {
  assert.match(bad({ metrics_extra_filters: ['{a="b"}\r\nX-Evil: 1'] }), /control character/);
  bad({ logs_extra_stream_filters: ['a\u0000b'] });
  bad({ extra_labels: { team: 'dev\nops' } });
});

test('unknown fields and mixed conflicting formats are refused', () => {
  assert.match(bad({ metric_account_id: 1 }), /unknown field/);
  bad({ tenant_id: { account_id: 1 }, metrics_account_id: 2 });
  bad({ extra_labels: { a: 'b' }, metrics_extra_labels: ['a=b'] });
  bad({ extra_filters: [], metrics_extra_filters: [] });
  bad({ mode: 4 });
  assert.equal(ok({ tenant_id: { account_id: 3 }, metrics_account_id: 3 }).metricsAccountId, 3);
});

test('a token without vm_access is not accepted by a section without default_vm_access_claim', async () => {
  const a = authFor([{ public_keys: [rsa.pem] }]);
  const r = await a.authenticate(await sign({ sub: 'x' }));
  assert.equal(r.ok ? 'OK' : r.code, 'ERR_JWT_NO_VM_ACCESS');
  const n = await a.authenticate(await sign({ vm_access: null }));
  assert.equal(n.ok ? 'OK' : n.code, 'ERR_JWT_NO_VM_ACCESS');
});

test('default_vm_access_claim is used only when the token has no vm_access', async () => {
  const a = authFor([{ public_keys: [rsa.pem], default_vm_access_claim: { metrics_account_id: 10, metrics_extra_labels: ['team=dev'] } }]);
  const r1 = await a.authenticate(await sign({ sub: 'x' }));
  assert.ok(r1.ok);
  assert.equal(r1.access.metricsAccountId, 10);
  assert.equal(r1.access.source, 'default');
  const r2 = await a.authenticate(await sign({ vm_access: { metrics_account_id: 3 } }));
  assert.ok(r2.ok);
  assert.equal(r2.access.metricsAccountId, 3);
  assert.deepEqual(r2.access.metricsExtraLabels, [], 'defaults are not merged into a token claim');
});

test('an invalid vm_access in the token is refused even when a default exists', async () => {
  const a = authFor([{ public_keys: [rsa.pem], default_vm_access_claim: { metrics_account_id: 10 } }]);
  const r = await a.authenticate(await sign({ vm_access: { metrics_account_id: 'x' } }));
  assert.equal(r.ok ? 'OK' : r.code, 'ERR_JWT_VM_ACCESS');
});

test('a token without vm_access falls through to a less specific section that has a default', async () => {
  const a = authFor([
    { public_keys: [rsa.pem], match_claims: { role: 'admin' } },
    { public_keys: [rsa.pem], default_vm_access_claim: { metrics_account_id: 99 } },
  ]);
  const r = await a.authenticate(await sign({ role: 'admin' }));
  assert.ok(r.ok);
  assert.equal(r.index, 1);
  assert.equal(r.access.metricsAccountId, 99);
});

test('default_vm_access_claim is validated at config load', () => {
  assert.throws(() => authFor([{ public_keys: [rsa.pem], default_vm_access_claim: { metrics_extra_labels: ['no-equals'] } }]), /default_vm_access_claim/);
  assert.throws(() => authFor([{ public_keys: [rsa.pem], default_vm_access_claim: { tenant_id: { account_id: 1 } } as never }]), /default_vm_access_claim/);
});
