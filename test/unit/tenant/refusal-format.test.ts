// Refusals in the error format of the API the client called, and metadata kept to the tenant's
// own metric families.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { refusalBody, refusalFormat, refuse } from '../../../src/enforce/tenant/refusal.ts';
import { filterMetadata } from '../../../src/enforce/tenant/metadata.ts';

test('the refusal format follows the API: Prometheus JSON, Alertmanager JSON, text for writes and logs', () => {
  const cases: Array<[Parameters<typeof refusalFormat>[0], string, string]> = [
    ['promql', '/api/v1/query', 'prometheus'],
    ['promql', '/prometheus/api/v1/status/config', 'prometheus'],
    ['promql', '/api/v1/write', 'text'],
    ['promql', '/api/v2/silences', 'alertmanager'],
    ['promql', '/alertmanager/api/v2/status', 'alertmanager'],
    ['promql', '/classic/graph', 'text'],
    ['victoriametrics', '/select/0/prometheus/api/v1/query', 'prometheus'],
    ['victoriametrics', '/api/v1/import/prometheus', 'text'],
    ['victoriametrics', '/api/v1/push', 'text'],
    ['victoriametrics', '/api/v2/write', 'text'],
    ['victorialogs', '/select/logsql/query', 'text'],
  ];
  for (const [kind, path, want] of cases) assert.equal(refusalFormat(kind, path), want, `${kind} ${path}`);
});

test('refusal bodies', () => {
  const r = refuse(403, 'tenant_path_not_allowed', 'no "way"');
  assert.deepEqual(JSON.parse(refusalBody({ ...r, format: 'prometheus' }).body), { status: 'error', errorType: 'forbidden', error: 'no "way"' });
  assert.deepEqual(JSON.parse(refusalBody({ ...refuse(400, 'tenant_query_invalid', 'bad'), format: 'prometheus' }).body).errorType, 'bad_data');
  assert.deepEqual(JSON.parse(refusalBody({ ...r, format: 'alertmanager' }).body), { code: 403, message: 'no "way"' });
  assert.deepEqual(refusalBody(r), { contentType: 'text/plain; charset=utf-8', body: 'no "way"\n' });
});

test('metadata keeps the families of the tenant\'s metric names only', () => {
  const meta = {
    status: 'success',
    data: {
      app_requests: [{ type: 'counter', help: 'h', unit: '' }],
      latency_seconds: [{ type: 'histogram', help: 'h', unit: '' }],
      secret_b: [{ type: 'gauge', help: 'h', unit: '' }],
      up_info: [{ type: 'info', help: 'h', unit: '' }],
    },
  };
  const names = { status: 'success', data: ['app_requests_total', 'latency_seconds_bucket', 'latency_seconds_sum', 'up_info'] };
  assert.deepEqual(Object.keys((filterMetadata(meta, names) as { data: object }).data), ['app_requests', 'latency_seconds', 'up_info']);
  assert.throws(() => filterMetadata(meta, { status: 'error' }));
  assert.throws(() => filterMetadata({ status: 'success', data: [] }, names));
});
