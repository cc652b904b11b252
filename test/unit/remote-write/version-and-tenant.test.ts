import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectRemoteWriteVersion, enforceRemoteWrite, prepareTenantLabels, writeLabelsForTenant } from '../../../src/enforce/remote-write/index.ts';
import { bytes, label, series } from './raw-proto.ts';
import { LIMITS, catchRemoteWriteError } from './helpers.ts';

test('detectRemoteWriteVersion follows the Content-Type rules of the 2.0 spec', () => {
  assert.equal(detectRemoteWriteVersion(undefined), 'v1');
  assert.equal(detectRemoteWriteVersion(''), 'v1');
  assert.equal(detectRemoteWriteVersion('application/x-protobuf'), 'v1');
  assert.equal(detectRemoteWriteVersion('Application/X-Protobuf; charset=utf-8'), 'v1');
  assert.equal(detectRemoteWriteVersion('application/x-protobuf;proto=prometheus.WriteRequest'), 'v1');
  assert.equal(detectRemoteWriteVersion('application/x-protobuf; proto="io.prometheus.write.v2.Request"'), 'v2');
  assert.equal(detectRemoteWriteVersion('application/x-protobuf;proto=io.prometheus.write.v2.Request'), 'v2');
  for (const bad of ['application/json', 'text/plain', 'application/x-protobuf;proto=io.prometheus.write.v3.Request',
    'application/x-protobuf;proto=prometheus.WriteRequest;proto=io.prometheus.write.v2.Request']) {
    const err = catchRemoteWriteError(() => detectRemoteWriteVersion(bad));
    assert.deepEqual([err.code, err.status], ['ERR_RW_VERSION', 415], bad);
  }
});

test('unusable tenant labels are a 500 configuration error, never a pass-through', () => {
  const raw = bytes(series(label('__name__', 'up')));
  for (const labels of [[], [['tenant', '']], [['bad-name', 'x']], [['tenant', 'a'], ['tenant', 'b']]] as Array<Array<[string, string]>>) {
    const err = catchRemoteWriteError(() => enforceRemoteWrite(raw, 'identity', labels, LIMITS));
    assert.deepEqual([err.code, err.status], ['ERR_RW_TENANT_LABELS', 500], JSON.stringify(labels));
  }
  assert.equal(prepareTenantLabels([['b', '1'], ['a', '2']]).values.join(','), '2,1', 'sorted by name');
});

test('writeLabelsForTenant refuses multi-valued tenants with 403', () => {
  assert.deepEqual(writeLabelsForTenant({ tenant: 'a', cluster: ['eu'] }), [['tenant', 'a'], ['cluster', 'eu']]);
  for (const t of [{ tenant: ['a', 'b'] }, { tenant: [] as string[] }]) {
    const err = catchRemoteWriteError(() => writeLabelsForTenant(t));
    assert.deepEqual([err.code, err.status], ['ERR_RW_TENANT_LABELS', 403]);
  }
});
