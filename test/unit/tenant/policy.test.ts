// What the policy forwards or refuses, per enforce kind, and how JWT claims narrow the config.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { argsOf, forwarded, policy, refused, run, token } from './helpers.ts';
import { compileTenantPolicy } from '../../../src/enforce/tenant/compile.ts';
import { alertmanagerGuard } from '../../../src/enforce/alertmanager/guard.ts';
import { snappyCompress } from '../../../src/enforce/remote-write/snappy-encode.ts';
import { snappyDecompress } from '../../../src/enforce/remote-write/snappy-decode.ts';
import { decodeWriteRequest, encodeWriteRequest } from '../remote-write/proto-reference.ts';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

describe('enforce: victoriametrics', () => {
  const vm = policy({ enforce: 'victoriametrics', labels: { namespace: 'a' }, filters: ['{env=~"prod|dev"}'] });

  test('sets extra_label and extra_filters[], strips every client copy from URL and form', () => {
    const f = forwarded(run(vm, {
      method: 'POST', path: '/api/v1/query', query: 'extra_label=namespace=b&extra_filters={}&extra_filters%5B%5D={}&query=up',
      body: 'extra_filters[]=%7B%7D&extra_label=namespace%3Db&extra_filters=x&start=1', headers: FORM,
    }));
    const { url, form } = argsOf(f);
    assert.deepEqual(url.get('extra_label'), ['namespace=a']);
    assert.deepEqual(url.get('extra_filters[]'), ['{env=~"prod|dev"}']);
    assert.equal(url.get('extra_filters'), undefined);
    assert.deepEqual(url.get('query'), ['up']);
    assert.deepEqual([...form!.keys()], ['start']);
  });

  test('labels APIs without match[] get one, so vmselect cannot skip the extra filters', () => {
    assert.deepEqual(argsOf(forwarded(run(vm, { path: '/api/v1/labels' }))).url.get('match[]'), ['{__name__=~".+"}']);
    assert.deepEqual(argsOf(forwarded(run(vm, { path: '/api/v1/label/job/values', query: 'match[]=up' }))).url.get('match[]'), ['up']);
  });

  test('multi-valued labels become a filter ANDed into every filter', () => {
    const p = policy({ enforce: 'victoriametrics', labels: { namespace: ['a', 'b.c'], cluster: 'eu' }, filters: ['{env="prod"}', '{env="dev"}'] });
    const { url } = argsOf(forwarded(run(p, { path: '/api/v1/query', query: 'query=up' })));
    assert.deepEqual(url.get('extra_label'), ['cluster=eu']);
    assert.deepEqual(url.get('extra_filters[]'), ['{env="prod", namespace=~"a|b\\\\.c"}', '{env="dev", namespace=~"a|b\\\\.c"}']);
    refused(run(p, { method: 'POST', path: '/api/v1/import', body: 'x 1' }), 403, 'tenant_multi_value_write');
  });

  test('writes get extra_label only; form and multipart write bodies are refused', () => {
    const { url } = argsOf(forwarded(run(vm, { method: 'POST', path: '/api/v1/import/prometheus', query: 'extra_label=namespace=b&extra_label=job=x', body: 'up 1' })));
    assert.deepEqual(url.get('extra_label'), ['namespace=a']);
    refused(run(vm, { method: 'POST', path: '/api/v1/import/prometheus', body: 'a=b', headers: FORM }), 415, 'tenant_body_unsupported');
    refused(run(vm, { method: 'POST', path: '/api/v1/write', body: 'x', headers: { 'content-type': 'multipart/form-data; boundary=x' } }), 415);
  });

  test('reads refuse multipart and non-form bodies, and bodies on GET', () => {
    refused(run(vm, { method: 'POST', path: '/api/v1/query', body: '--x', headers: { 'content-type': 'Multipart/Form-Data; boundary=x' } }), 415);
    refused(run(vm, { method: 'POST', path: '/api/v1/query', body: '{"query":"up"}', headers: { 'content-type': 'application/json' } }), 415);
    refused(run(vm, { method: 'GET', path: '/api/v1/query', body: 'query=up', headers: FORM }), 400);
  });

  test('cluster paths: refused unless the path names the configured tenant', () => {
    refused(run(vm, { path: '/select/0/prometheus/api/v1/query', query: 'query=up' }), 403, 'tenant_cluster_path');
    const c = policy({ enforce: 'victoriametrics', labels: { namespace: 'a' }, cluster_tenant: '5:1' });
    forwarded(run(c, { path: '/select/5:1/prometheus/api/v1/query', query: 'query=up' }));
    refused(run(c, { path: '/select/5/prometheus/api/v1/query', query: 'query=up' }), 403, 'tenant_cluster_path');
    refused(run(c, { path: '/select/multitenant/prometheus/api/v1/query', query: 'query=up' }), 403, 'tenant_cluster_path');
    // A token's tenant must agree too.
    refused(run(c, { path: '/select/5:1/prometheus/api/v1/query', query: 'query=up', access: token({ metrics_account_id: 6, metrics_project_id: 1 }) }), 403, 'tenant_cluster_path');
  });

  test('tenant-selecting client headers are removed', () => {
    const f = forwarded(run(vm, { path: '/api/v1/query', query: 'query=up' }));
    assert.deepEqual([...f.removeHeaders!].sort(), ['accountid', 'projectid', 'thanos-tenant', 'vl-extra-fields', 'vl-extra-filters', 'vl-extra-stream-filters', 'x-scope-orgid']);
  });

  test('drop_src_path_prefix_parts: the policy classifies the path the backend sees', () => {
    const p = compileTenantPolicy({ enforce: 'victoriametrics', labels: { namespace: 'a' } }, ['x'], { dropSrcPathPrefixParts: 1 });
    forwarded(run(p, { path: '/metrics/api/v1/query', query: 'query=up' }));
    refused(run(p, { path: '/metrics/api/v1/targets' }), 403, 'tenant_path_not_allowed');
    refused(run(vm, { path: '/metrics/api/v1/query', query: 'query=up' }), 403, 'tenant_path_not_allowed');
  });
});

describe('enforce: promql', () => {
  const pq = policy({ labels: { namespace: 'a' } });

  test('query in the URL or in the form body is enforced where it was', () => {
    const u = argsOf(forwarded(run(pq, { path: '/api/v1/query', query: 'query=sum(x)&time=1' }))).url;
    assert.deepEqual(u.get('query'), ['sum(x{namespace="a"})']);
    assert.deepEqual(u.get('time'), ['1']);
    const { url, form } = argsOf(forwarded(run(pq, { method: 'POST', path: '/api/v1/query_range', query: 'step=15', body: 'query=rate(y%5B5m%5D)', headers: FORM })));
    assert.deepEqual(form!.get('query'), ['rate(y{namespace="a"}[5m])']);
    assert.deepEqual(url.get('step'), ['15']);
  });

  test('missing, duplicate and unparsable queries are refused', () => {
    refused(run(pq, { path: '/api/v1/query' }), 400, 'tenant_missing_param');
    refused(run(pq, { path: '/api/v1/query', query: 'query=up&query=x' }), 400, 'tenant_duplicate_param');
    refused(run(pq, { method: 'POST', path: '/api/v1/query', query: 'query=up', body: 'query=x', headers: FORM }), 400, 'tenant_duplicate_param');
    const r = refused(run(pq, { path: '/api/v1/query', query: 'query=sum(' }), 400, 'tenant_query_invalid');
    assert.match(r.message, /ERR_PROMQL_PARSE/);
  });

  test('match[] from URL and form are merged, enforced, and added when missing', () => {
    const { url, form } = argsOf(forwarded(run(pq, { method: 'POST', path: '/api/v1/series', query: 'match[]=up', body: 'match%5B%5D=%7Bnamespace%3D%22b%22%7D', headers: FORM })));
    assert.equal(url.get('match[]'), undefined);
    assert.deepEqual(form!.get('match[]'), ['{namespace="b", namespace="a"}', 'up{namespace="a"}']);
    assert.deepEqual(argsOf(forwarded(run(pq, { path: '/api/v1/labels' }))).url.get('match[]'), ['{namespace="a"}']);
    refused(run(pq, { path: '/federate', query: 'match[]=rate(x[5m])' }), 400, 'tenant_query_invalid');
  });

  test('rules and alerts responses are filtered to the tenant', () => {
    const f = forwarded(run(pq, { path: '/api/v1/alerts' }));
    const body = JSON.stringify({ status: 'success', data: { alerts: [{ labels: { namespace: 'a', alertname: 'x' } }, { labels: { namespace: 'b', alertname: 'y' } }] } });
    const out = JSON.parse(f.responseFilter!.filter(200, 'application/json', Buffer.from(body)).toString());
    assert.deepEqual(out.data.alerts.map((a: { labels: { alertname: string } }) => a.labels.alertname), ['x']);
    // Error statuses pass unchanged; a malformed success body fails closed.
    assert.equal(f.responseFilter!.filter(503, 'text/plain', Buffer.from('down')).toString(), 'down');
    assert.throws(() => f.responseFilter!.filter(200, 'application/json', Buffer.from('{"status":"success","data":{}}')));
    const rules = forwarded(run(pq, { path: '/api/v1/rules' }));
    const rb = { status: 'success', data: { groups: [{ name: 'g', rules: [{ type: 'recording', name: 'r', query: 'sum(x{namespace="b"})', labels: {} }, { type: 'recording', name: 'mine', query: 'sum(x{namespace="a"})', labels: {} }] }] } };
    const ro = JSON.parse(rules.responseFilter!.filter(200, undefined, Buffer.from(JSON.stringify(rb))).toString());
    assert.deepEqual(ro.data.groups[0].rules.map((r: { name: string }) => r.name), ['mine']);
  });

  test('remote write: tenant labels set on every series, client values overridden', () => {
    const raw = encodeWriteRequest({ timeseries: [{ labels: [['__name__', 'x'], ['namespace', 'b']], samples: [{ value: 1, timestamp: 1 }] }] });
    const f = forwarded(run(pq, { method: 'POST', path: '/api/v1/write', body: Buffer.from(snappyCompress(raw)), headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' } }));
    const out = decodeWriteRequest(snappyDecompress(f.body!, 1 << 20));
    assert.deepEqual(out.timeseries[0]!.labels, [['__name__', 'x'], ['namespace', 'a']]);
  });

  test('remote write: snappy length bomb → 413 before decompression; garbage → 400', () => {
    const bomb = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x00]);
    refused(run(pq, { method: 'POST', path: '/api/v1/write', body: bomb, headers: { 'content-encoding': 'snappy' } }), 413, 'tenant_bound_write_decoded');
    refused(run(pq, { method: 'POST', path: '/api/v1/write', body: 'not snappy', headers: { 'content-encoding': 'snappy' } }), 400, 'tenant_remote_write_invalid');
    refused(run(pq, { method: 'GET', path: '/api/v1/write' }), 405, 'tenant_method_not_allowed');
  });

  test('Alertmanager: filters appended, silences checked for ownership and rebuilt', () => {
    assert.deepEqual(argsOf(forwarded(run(pq, { path: '/api/v2/alerts', query: 'filter=job%3D%22x%22' }))).url.get('filter'), ['job="x"', 'namespace="a"']);
    const JSONH = { 'content-type': 'application/json' };
    const own = { matchers: [{ name: 'namespace', value: 'a', isRegex: false }], startsAt: 's', endsAt: 'e', createdBy: 'c', comment: 'x' };
    const f = forwarded(run(pq, { method: 'POST', path: '/api/v2/silences', body: JSON.stringify({ ...own, extra: 1 }), headers: JSONH }));
    assert.deepEqual(JSON.parse(f.body!.toString()), own);
    refused(run(pq, { method: 'POST', path: '/api/v2/silences', body: JSON.stringify({ ...own, matchers: [{ name: 'namespace', value: 'a.*', isRegex: true }] }), headers: JSONH }), 403, 'tenant_silence_not_owned');
    refused(run(pq, { method: 'POST', path: '/api/v2/silences', body: JSON.stringify({ ...own, ID: 'x' }), headers: JSONH }), 400, 'tenant_body_unsupported');
    const smuggled = `{"matchers":[{"name":"namespace","value":"a","isRegex":false}],"Matchers":[{"name":"namespace","value":"b","isRegex":false}]}`;
    assert.ok(!forwarded(run(pq, { method: 'POST', path: '/api/v2/silences', body: smuggled, headers: JSONH })).body!.toString().includes('"b"'));
    // Alert posts need the route's Alertmanager config read and safe (test/unit/alertmanager/guard.test.ts).
    alertmanagerGuard.watch(pq, ['am']);
    alertmanagerGuard.record('am', { kind: 'read', config: { route: { receiver: 'r', group_by: ['...'] } } });
    const alerts = forwarded(run(pq, { method: 'POST', path: '/api/v2/alerts', body: '[{"labels":{"namespace":"b","x":"y"}}]', headers: JSONH }));
    assert.deepEqual(JSON.parse(alerts.body!.toString())[0].labels, { namespace: 'a', x: 'y' });
  });
});

describe('enforce: victorialogs', () => {
  const vl = policy({ enforce: 'victorialogs', logs: { account_id: 3, extra_filters: ['a:b'], extra_stream_filters: ['{app="x"}'] } });

  test('tenant headers set, filters set, client copies stripped', () => {
    const f = forwarded(run(vl, { path: '/select/logsql/query', query: 'query=*&extra_filters=*&extra_stream_filters[]={}' }));
    assert.deepEqual(f.setHeaders, [['AccountID', '3'], ['ProjectID', '0']]);
    const { url } = argsOf(f);
    assert.deepEqual(url.get('extra_filters'), ['a:b']);
    assert.deepEqual(url.get('extra_stream_filters'), ['{app="x"}']);
    assert.equal(url.get('extra_stream_filters[]'), undefined);
  });

  test('tenant_ids refused; JWT narrows filters and must agree on the account', () => {
    refused(run(vl, { path: '/select/tenant_ids' }), 403, 'tenant_logs_tenant_ids');
    const f = forwarded(run(vl, { path: '/select/logsql/query', query: 'query=*', access: token({ logs_extra_filters: ['team:a'] }) }));
    assert.deepEqual(argsOf(f).url.get('extra_filters'), ['a:b', 'team:a']);
    refused(run(vl, { path: '/select/logsql/query', query: 'query=*', access: token({ logs_account_id: 4 }) }), 403, 'tenant_claims_conflict');
    const jwtOnly = policy({ enforce: 'victorialogs' });
    refused(run(jwtOnly, { path: '/select/logsql/query', query: 'query=*' }), 403, 'tenant_unscoped');
    assert.deepEqual(forwarded(run(jwtOnly, { path: '/select/logsql/query', query: 'query=*', access: token({ logs_account_id: 9, logs_project_id: 2 }) })).setHeaders, [['AccountID', '9'], ['ProjectID', '2']]);
  });
});

describe('tenant scope is never defaulted: a token without a tenant is refused, not sent to 0:0', () => {
  const metricsOnly = token({ metrics_account_id: 5, metrics_extra_labels: ['namespace=a'] });

  test('enforce: victorialogs, reads and writes, without logs.account_id: a metrics-only token is tenant_unscoped', () => {
    const jwtOnly = policy({ enforce: 'victorialogs' });
    refused(run(jwtOnly, { path: '/select/logsql/query', query: 'query=*', access: metricsOnly }), 403, 'tenant_unscoped');
    refused(run(jwtOnly, { method: 'POST', path: '/insert/jsonline', body: '{"_msg":"x"}', access: metricsOnly }), 403, 'tenant_unscoped');
    refused(run(jwtOnly, { path: '/select/logsql/query', query: 'query=*', access: token({}) }), 403, 'tenant_unscoped');
    // an explicit 0 is a choice the token made, and is honoured
    assert.deepEqual(forwarded(run(jwtOnly, { path: '/select/logsql/query', query: 'query=*', access: token({ logs_account_id: 0 }) })).setHeaders, [['AccountID', '0'], ['ProjectID', '0']]);
  });

  test('enforce: victorialogs with a configured account: a token without logs_project_id keeps the configured project', () => {
    const p = policy({ enforce: 'victorialogs', logs: { account_id: 3, project_id: 7 } });
    assert.deepEqual(forwarded(run(p, { path: '/select/logsql/query', query: 'query=*', access: token({ logs_account_id: 3 }) })).setHeaders, [['AccountID', '3'], ['ProjectID', '7']]);
    refused(run(p, { path: '/select/logsql/query', query: 'query=*', access: token({ logs_account_id: 3, logs_project_id: 0 }) }), 403, 'tenant_claims_conflict');
  });

  test('enforce: victoriametrics and promql without labels: a token without labels is tenant_unscoped', () => {
    for (const enforce of ['victoriametrics', 'promql'] as const) {
      refused(run(policy({ enforce }), { path: '/api/v1/query', query: 'query=up', access: token({ metrics_account_id: 1 }) }), 403, 'tenant_unscoped');
      refused(run(policy({ enforce }), { path: '/api/v1/query', query: 'query=up' }), 403, 'tenant_unscoped');
    }
  });

  test('a cluster path tenant is not granted by a token that names no metrics tenant', () => {
    const p = policy({ enforce: 'victoriametrics', labels: { namespace: 'a' } });
    refused(run(p, { path: '/select/0:0/prometheus/api/v1/query', query: 'query=up', access: token({ metrics_extra_labels: ['namespace=a'] }) }), 403, 'tenant_cluster_path');
    forwarded(run(p, { path: '/select/0:0/prometheus/api/v1/query', query: 'query=up', access: token({ metrics_account_id: 0, metrics_extra_labels: ['namespace=a'] }) }));
  });
});

describe('JWT vm_access narrows the config, never widens it', () => {
  const cfg = policy({ enforce: 'victoriametrics', labels: { namespace: ['a', 'b'] }, mode: 'read_write' });

  test('a token label inside the config values narrows to it', () => {
    const { url } = argsOf(forwarded(run(cfg, { path: '/api/v1/query', query: 'query=up', access: token({ metrics_extra_labels: ['namespace=a'] }) })));
    assert.deepEqual(url.get('extra_label'), ['namespace=a']);
    assert.equal(url.get('extra_filters[]'), undefined);
  });

  test('a token label outside the config values is refused', () => {
    refused(run(cfg, { path: '/api/v1/query', query: 'query=up', access: token({ metrics_extra_labels: ['namespace=c'] }) }), 403, 'tenant_claims_conflict');
    refused(run(cfg, { path: '/api/v1/query', query: 'query=up', access: token({ metrics_extra_labels: ['namespace=a', 'namespace=b'] }) }), 403, 'tenant_claims_conflict');
  });

  test('token labels on other names are added; token filters are ANDed with config filters', () => {
    const p = policy({ labels: { namespace: 'a' }, filters: ['{env="prod"}'] });
    const q = argsOf(forwarded(run(p, { path: '/api/v1/query', query: 'query=up', access: token({ metrics_extra_labels: ['team=t'], metrics_extra_filters: ['{job="x"}'] }) }))).url.get('query');
    assert.deepEqual(q, ['up{namespace="a", team="t", env="prod", job="x"}']);
  });

  test('mode: the token\'s and the config\'s must both allow', () => {
    const ro = policy({ labels: { namespace: 'a' }, mode: 'read' });
    refused(run(ro, { method: 'POST', path: '/api/v1/write', body: 'x', access: token({ extra_labels: { namespace: 'a' }, mode: 0 }) }), 403, 'tenant_mode_forbids_write');
    const rw = policy({ labels: { namespace: 'a' } });
    refused(run(rw, { method: 'POST', path: '/api/v1/write', body: 'x', access: token({ extra_labels: { namespace: 'a' }, mode: 1 }) }), 403, 'tenant_mode_forbids_write');
    refused(run(rw, { path: '/api/v1/query', query: 'query=up', access: token({ mode: 2 }) }), 403, 'tenant_mode_forbids_read');
  });

  test('a config without labels needs them from the token', () => {
    const p = policy({});
    refused(run(p, { path: '/api/v1/query', query: 'query=up' }), 403, 'tenant_unscoped');
    refused(run(p, { path: '/api/v1/query', query: 'query=up', access: token({}) }), 403, 'tenant_unscoped');
    assert.deepEqual(argsOf(forwarded(run(p, { path: '/api/v1/query', query: 'query=up', access: token({ metrics_extra_labels: ['namespace=z'] }) }))).url.get('query'), ['up{namespace="z"}']);
  });
});

describe('allow_paths and refusals', () => {
  test('allow_paths is a whole-match RE2 list on the normalised path', () => {
    const p = policy({ labels: { namespace: 'a' }, allow_paths: ['/api/v1/status/buildinfo', '/api/v1/format_query'] });
    assert.equal(forwarded(run(p, { path: '/api/v1/status/buildinfo', query: 'x=1' })).rawQuery, 'x=1');
    refused(run(p, { path: '/api/v1/status/buildinfo/x' }), 403, 'tenant_path_not_allowed');
    // Allowed paths still obey the mode: a POST counts as a write.
    refused(run(policy({ labels: { namespace: 'a' }, allow_paths: ['/api/v1/status/buildinfo'], mode: 'read' }), { method: 'POST', path: '/api/v1/status/buildinfo' }), 403, 'tenant_mode_forbids_write');
    refused(run(policy({ labels: { namespace: 'a' }, allow_paths: ['/api/v1/status/buildinfo'], mode: 'write' }), { path: '/api/v1/status/buildinfo' }), 403, 'tenant_mode_forbids_read');
  });

  test('admin and unknown paths', () => {
    const p = policy({ labels: { namespace: 'a' } });
    refused(run(p, { path: '/api/v1/admin/tsdb/delete_series', query: 'match[]=up' }), 403, 'tenant_admin_path');
    const r = refused(run(p, { path: '/api/v1/targets' }), 403, 'tenant_path_not_allowed');
    assert.match(r.message, /allow_paths/);
  });
});
