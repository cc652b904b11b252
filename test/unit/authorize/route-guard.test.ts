// The route guard: deny_paths of url_map entries, and the secure defaults of a user whose
// url_prefix pins extra_label / extra_filters (a deny-list: everything else behaves as vmauth).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileDefaultsFromFlags } from '../../../src/gateway/main.ts';
import { parseFlags } from '../../../src/flags/parse.ts';
import { parseConfigText } from '../../../src/config/load.ts';
import { ConfigError } from '../../../src/config/errors.ts';
import { checkRouteGuard, unsafeForTenant } from '../../../src/authorize/route-guard.ts';
import { describeGuards } from '../../../src/authorize/guard-summary.ts';
import type { CompiledConfig, RouteOptions } from '../../../src/config/model.ts';

const secure = compileDefaultsFromFlags(parseFlags([], {}));
const vmauth = compileDefaultsFromFlags(parseFlags(['-tenantDefaults=vmauth'], {}));
const compile = (yaml: string, d = secure): CompiledConfig => parseConfigText(yaml, 'auth.yml', d, {});
const fallback = (c: CompiledConfig, i = 0): RouteOptions => c.users[i]!.fallback!;
const verdict = (r: RouteOptions, path: string) => (r.guard === null ? null : checkRouteGuard(r.guard, path)?.reason ?? null);

const PINNED = 'users:\n- username: a\n  password: p\n  url_prefix: "http://vm:8428/?extra_label=tenant=a"\n';

test('a url_prefix pinning extra_label refuses unscoped and admin endpoints', () => {
  const r = fallback(compile(PINNED));
  for (const p of ['/api/v1/status/top_queries', '/api/v1/status/active_queries', '/api/v1/series/count', '/metrics/find', '/metrics/find/',
    '/tags', '/tags/tenant', '/api/v1/targets', '/config', '/api/v1/status/config', '/api/v1/metadata', '/prometheus/api/v1/status/top_queries',
    '/graphite/metrics/find', '/graphite/tags/tenant', '/select/tenant_ids', '/vmalert/api/v1/rules', '/api/v1/rules']) {
    assert.equal(verdict(r, p), 'tenant_unscoped_endpoint', p);
  }
  for (const p of ['/snapshot/create', '/internal/force_merge', '/internal/resetRollupResultCache', '/debug/pprof/heap', '/api/v1/admin/tsdb/delete_series',
    '/api/v1/admin/tsdb/snapshot', '/tags/delSeries', '/flags', '/-/reload', '/delete/0/prometheus/api/v1/admin/tsdb/delete_series', '/admin/tenants',
    '/prometheus/api/v1/admin/tsdb/delete_series', '/select/0/prometheus/api/v1/admin/tsdb/delete_series', '/api/v1/status/metric_names_stats']) {
    assert.equal(verdict(r, p), 'tenant_admin_endpoint', p);
  }
  assert.equal(verdict(r, '/select/multitenant/prometheus/api/v1/query'), 'tenant_unscoped_endpoint');
});

test('every other path behaves as vmauth: a deny-list, not an allow-list', () => {
  const r = fallback(compile(PINNED));
  for (const p of ['/abc/def', '/', '/api/v1/query', '/api/v1/query_range', '/api/v1/series', '/api/v1/labels', '/api/v1/label/x/values',
    '/api/v1/export', '/federate', '/api/v1/status/tsdb', '/api/v1/import/prometheus', '/api/v1/write', '/render', '/tags/autoComplete/tags',
    '/tags/autoComplete/values', '/tags/findSeries', '/select/logsql/query', '/select/logsql/hits', '/insert/jsonline', '/vmui/', '/metrics',
    '/select/0/prometheus/api/v1/query', '/some/debug/thing', '/api/v1/query_exemplars']) {
    assert.equal(verdict(r, p), null, p);
  }
});

test('the backend path counts: url_prefix path and drop_src_path_prefix_parts', () => {
  const c = compile(`users:
- username: a
  password: p
  url_prefix: "http://vmselect:8481/select/0/prometheus/?extra_label=tenant=a"
- username: b
  password: p
  url_map:
  - src_paths: ["/b/.*"]
    drop_src_path_prefix_parts: 1
    url_prefix: "http://vm:8428/?extra_filters={tenant=\\"b\\"}"
`);
  assert.equal(verdict(fallback(c), '/api/v1/status/top_queries'), 'tenant_unscoped_endpoint');
  assert.equal(verdict(fallback(c), '/api/v1/query'), null);
  const route = c.users[1]!.routes[0]!;
  assert.equal(verdict(route, '/b/api/v1/status/active_queries'), 'tenant_unscoped_endpoint');
  assert.equal(verdict(route, '/b/snapshot/create'), 'tenant_admin_endpoint');
  assert.equal(verdict(route, '/b/api/v1/query'), null);
});

test('users that pin nothing, tenant: users and -tenantDefaults=vmauth get no refusals', () => {
  assert.equal(fallback(compile('users:\n- username: a\n  password: p\n  url_prefix: "http://vm:8428/"\n')).guard, null);
  assert.equal(fallback(compile('users:\n- username: a\n  password: p\n  url_prefix: "http://vm:8428/"\n  tenant: {enforce: victoriametrics, labels: {tenant: a}}\n')).guard, null);
  assert.equal(fallback(compile(PINNED, vmauth)).guard, null);
});

test('client AccountID/ProjectID are dropped where url_prefix fixes the tenant (not with -tenantDefaults=vmauth)', () => {
  // The consumed credential header is always dropped (forward_credentials); only the tenant headers vary here.
  const drops = (r: RouteOptions) => r.requestHeaders.filter((h) => h.value === '' && h.lower !== 'authorization').map((h) => h.lower).sort();
  assert.deepEqual(drops(fallback(compile(PINNED))), ['accountid', 'projectid']);
  assert.deepEqual(drops(fallback(compile('users:\n- username: a\n  password: p\n  url_prefix: "http://vmselect:8481/select/3/prometheus"\n'))), ['accountid', 'projectid']);
  assert.deepEqual(drops(fallback(compile('users:\n- username: a\n  password: p\n  url_prefix: "http://vm:8428/"\n'))), []);
  assert.deepEqual(drops(fallback(compile(PINNED, vmauth))), []);
  // A route that sets the header itself keeps its own value.
  const own = fallback(compile('users:\n- username: a\n  password: p\n  url_prefix: "http://vl:9428/?extra_filters=x"\n  headers: ["AccountID: 7"]\n'));
  assert.deepEqual(own.requestHeaders.filter((h) => h.lower !== 'authorization').map((h) => `${h.name}:${h.value}`), ['AccountID:7', 'ProjectID:']);
});

test('deny_paths: refused after src_paths matched, with and without trailing slash; needs no pinning', () => {
  const c = compile(`users:
- username: a
  password: p
  url_map:
  - src_paths: ["/select/.*"]
    deny_paths: ["/select/[^/]+/prometheus/api/v1/status/active_queries"]
    url_prefix: "http://vmselect:8481/"
  - src_paths: ["/.*"]
    url_prefix: "http://other:8481/"
`, vmauth);
  const route = c.users[0]!.routes[0]!;
  assert.equal(verdict(route, '/select/0/prometheus/api/v1/status/active_queries'), 'path_denied');
  assert.equal(verdict(route, '/select/0/prometheus/api/v1/status/active_queries/'), 'path_denied');
  assert.equal(verdict(route, '/select/0/prometheus/api/v1/query'), null);
  assert.equal(c.users[0]!.routes[1]!.guard, null);
});

test('deny_paths is a url_map field only, with RE2 syntax checked at load', () => {
  assert.throws(() => compile('users:\n- username: a\n  password: p\n  url_prefix: http://x\n  deny_paths: ["/a"]\n'), ConfigError);
  assert.throws(() => compile('users:\n- username: a\n  password: p\n  url_map:\n  - src_paths: ["/.*"]\n    deny_paths: ["(a"]\n    url_prefix: http://x\n'),
    (e: Error) => e instanceof ConfigError && /deny_paths\[0\]/.test(e.message));
});

test('unsafeForTenant looks through /select/<t>, /prometheus and /graphite prefixes only', () => {
  assert.equal(unsafeForTenant('/select/1/graphite/metrics/find')?.reason, 'tenant_unscoped_endpoint');
  assert.equal(unsafeForTenant('/insert/1/prometheus/api/v1/write'), null);
  assert.equal(unsafeForTenant('/abc/api/v1/status/top_queries'), null);
});

test('start-up summary names each tenant-scoped user and what it is refused', () => {
  const lines = describeGuards(compile(PINNED), 'secure');
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /^user a \(url_prefix\) is tenant-scoped by extra_label=tenant=a: refused \(403\)/);
  assert.match(describeGuards(compile(PINNED, vmauth), 'vmauth').join('\n'), /-tenantDefaults=vmauth: .* NOT protected/);
});

test('-tenantDefaults accepts secure or vmauth only', () => {
  assert.throws(() => compileDefaultsFromFlags(parseFlags(['-tenantDefaults=open'], {})), /-tenantDefaults: must be secure or vmauth/);
});
