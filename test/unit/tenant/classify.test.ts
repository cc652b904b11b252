// The allow-list: which paths are reads, writes or admin for each kind of backend, and that
// anything else is unknown (refused by the policy).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyRequest } from '../../../src/enforce/tenant/classify.ts';
import type { EnforceKind } from '../../../src/enforce/tenant/config.ts';

const cases: Array<[EnforceKind, string, string, string | null]> = [
  // [kind, method, path, "access/api" or null for unknown]
  ['victoriametrics', 'GET', '/api/v1/query', 'read/vm_read'],
  ['victoriametrics', 'GET', '/prometheus/api/v1/query_range', 'read/vm_read'],
  ['victoriametrics', 'GET', '/api/v1/export/native', 'read/vm_read'],
  ['victoriametrics', 'GET', '/federate', 'read/vm_read'],
  ['victoriametrics', 'GET', '/api/v1/status/tsdb', 'read/vm_read'],
  ['victoriametrics', 'GET', '/api/v1/labels', 'read/vm_labels'],
  ['victoriametrics', 'GET', '/api/v1/label/job/values', 'read/vm_labels'],
  ['victoriametrics', 'POST', '/api/v1/write', 'write/vm_write'],
  ['victoriametrics', 'POST', '/api/v1/import/prometheus', 'write/vm_write'],
  ['victoriametrics', 'POST', '/influx/write', 'write/vm_write'],
  ['victoriametrics', 'POST', '/opentelemetry/v1/metrics', 'write/vm_write'],
  ['victoriametrics', 'POST', '/datadog/api/v2/series', 'write/vm_write'],
  ['victoriametrics', 'GET', '/select/0/prometheus/api/v1/query', 'read/vm_read'],
  ['victoriametrics', 'POST', '/insert/3:4/prometheus/api/v1/write', 'write/vm_write'],
  ['victoriametrics', 'POST', '/insert/3/influx/write', 'write/vm_write'],
  ['victoriametrics', 'GET', '/select/0/prometheus/api/v1/write', null],
  ['victoriametrics', 'POST', '/insert/0/prometheus/api/v1/query', null],
  ['victoriametrics', 'GET', '/select/0/graphite/metrics/find', null],
  ['victoriametrics', 'GET', '/select/x/prometheus/api/v1/query', null],
  ['victoriametrics', 'GET', '/delete/0/prometheus/api/v1/admin/tsdb/delete_series', 'admin/admin'],
  ['victoriametrics', 'GET', '/api/v1/admin/tsdb/delete_series', 'admin/admin'],
  ['victoriametrics', 'GET', '/prometheus/api/v1/admin/tsdb/snapshot', 'admin/admin'],
  ['victoriametrics', 'GET', '/snapshot/create', 'admin/admin'],
  ['victoriametrics', 'GET', '/internal/force_merge', 'admin/admin'],
  ['victoriametrics', 'GET', '/debug/pprof/profile', 'admin/admin'],
  ['victoriametrics', 'GET', '/api/v1/series/count', null],
  ['victoriametrics', 'GET', '/api/v1/status/top_queries', null],
  ['victoriametrics', 'GET', '/api/v1/targets', null],
  ['victoriametrics', 'GET', '/metrics/find', null],
  ['victoriametrics', 'GET', '/tags/job', null],
  ['victoriametrics', 'GET', '/graphite/tags', null],
  ['victoriametrics', 'GET', '/api/v1/import/prometheus/metrics/job/x', null],
  ['victoriametrics', 'GET', '/api/v1/query/', null],
  ['victoriametrics', 'GET', '', null],
  ['promql', 'GET', '/api/v1/query', 'read/query'],
  ['promql', 'POST', '/api/v1/query_exemplars', 'read/query'],
  ['promql', 'GET', '/prometheus/api/v1/series', 'read/series'],
  ['promql', 'GET', '/api/v1/label/__name__/values', 'read/series'],
  ['promql', 'GET', '/federate', 'read/series'],
  ['promql', 'GET', '/api/v1/rules', 'read/rules'],
  ['promql', 'GET', '/api/v1/alerts', 'read/alerts'],
  ['promql', 'POST', '/api/v1/write', 'write/remote_write'],
  ['promql', 'GET', '/api/v2/alerts', 'read/am_alerts'],
  ['promql', 'POST', '/api/v2/alerts', 'write/am_alerts_post'],
  ['promql', 'GET', '/alertmanager/api/v2/alerts/groups', 'read/am_alerts'],
  ['promql', 'GET', '/api/v2/silences', 'read/am_silences'],
  ['promql', 'POST', '/api/v2/silences', 'write/am_silences_post'],
  ['promql', 'DELETE', '/api/v2/silence/0b9e4c1a-7f7e-4d0e-9d3c-2a6f7f1c9e11', 'write/am_silence_delete'],
  ['promql', 'GET', '/alertmanager/api/v2/silence/0b9e4c1a-7f7e-4d0e-9d3c-2a6f7f1c9e11', 'read/am_silence_get'],
  ['promql', 'DELETE', '/api/v2/silence/not-a-uuid', null],
  ['promql', 'DELETE', '/api/v2/silence/', null],
  ['promql', 'DELETE', '/api/v2/silence/abc/def', null],
  ['promql', 'GET', '/api/v1/import', null],
  ['promql', 'POST', '/api/v1/import/prometheus', null],
  ['promql', 'POST', '/influx/write', null],
  ['promql', 'POST', '/datadog/api/v2/series', null],
  ['promql', 'POST', '/opentelemetry/v1/metrics', null],
  ['promql', 'GET', '/api/v2/status', 'admin/admin'],
  ['promql', 'GET', '/api/v1/metadata', 'read/metadata'],
  ['promql', 'GET', '/api/v1/status/buildinfo', 'read/buildinfo'],
  ['promql', 'POST', '/prometheus/api/v1/format_query', 'read/format_query'],
  ['promql', 'GET', '/api/v1/status/runtimeinfo', null],
  ['victoriametrics', 'GET', '/api/v1/metadata', 'read/metadata'],
  ['victoriametrics', 'GET', '/api/v1/status/buildinfo', 'read/buildinfo'],
  ['victoriametrics', 'GET', '/select/1/prometheus/api/v1/format_query', 'read/format_query'],
  ['victoriametrics', 'GET', '/api/v1/rules', 'read/rules'],
  ['victoriametrics', 'GET', '/api/v1/alerts', 'read/alerts'],
  ['victoriametrics', 'GET', '/api/v1/query_exemplars', 'read/vm_read'],
  ['victoriametrics', 'GET', '/insert/1/prometheus/api/v1/metadata', null],
  ['promql', 'GET', '/api/v1/targets', null],
  ['promql', 'GET', '/api/v1/status/config', null],
  ['promql', 'GET', '/classic/graph', null],
  ['promql', 'GET', '/api/v1/otlp/v1/metrics', null],
  ['promql', 'GET', '/-/reload', 'admin/admin'],
  ['victorialogs', 'GET', '/select/logsql/query', 'read/logs_read'],
  ['victorialogs', 'GET', '/select/logsql/tail', 'read/logs_read'],
  ['victorialogs', 'POST', '/insert/jsonline', 'write/logs_write'],
  ['victorialogs', 'POST', '/insert/elasticsearch/_bulk', 'write/logs_write'],
  ['victorialogs', 'POST', '/insert/loki/api/v1/push', 'write/logs_write'],
  ['victorialogs', 'GET', '/select/tenant_ids', 'read/logs_tenant_ids'],
  ['victorialogs', 'GET', '/internal/insert', 'admin/admin'],
  ['victorialogs', 'GET', '/select/logsql/unknown', null],
  ['victorialogs', 'GET', '/api/v1/query', null],
];

for (const [kind, method, path, want] of cases) {
  test(`${kind} ${method} ${path || '/'} → ${want ?? 'unknown'}`, () => {
    const ep = classifyRequest(kind, path, method);
    assert.equal(ep === null ? null : `${ep.access}/${ep.api}`, want);
  });
}

test('cluster tenants are parsed from the path', () => {
  assert.deepEqual(classifyRequest('victoriametrics', '/select/7:3/prometheus/api/v1/query', 'GET')?.cluster, { accountId: 7, projectId: 3 });
  assert.deepEqual(classifyRequest('victoriametrics', '/insert/7/prometheus/api/v1/write', 'POST')?.cluster, { accountId: 7, projectId: 0 });
  assert.equal(classifyRequest('victoriametrics', '/select/multitenant/prometheus/api/v1/query', 'GET')?.cluster, 'multitenant');
  assert.equal(classifyRequest('victoriametrics', '/api/v1/query', 'GET')?.cluster, null);
});
