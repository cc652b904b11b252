// Placeholders: placement checks at config load, rendering, and refusal of injecting claim values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { authFor, rsa, sign } from './fixtures.ts';
import {
  compileHeaders, compileUrlPrefix, JwtPlaceholderConfigError, JwtPlaceholderValueError, parseVmAccess, rejectPlaceholders, renderHeaders, renderUrlPrefix,
  type VmAccess,
} from '../../../src/identify/jwt/index.ts';

function access(raw: unknown): VmAccess {
  const r = parseVmAccess(raw, 'token');
  if (!r.ok) throw new Error(r.detail);
  return r.access;
}

const full = access({
  metrics_account_id: 1, metrics_project_id: 2, metrics_extra_labels: ['team=dev', 'env=prod'], metrics_extra_filters: ['{env=~"prod|dev"}'],
  logs_account_id: 3, logs_project_id: 4, logs_extra_filters: ['{"ns":"app"}'], logs_extra_stream_filters: ['{app="x"}', '{app="y"}'],
});

// ---- placement (config load) -----------------------------------------------------------

test('tenant placeholders are allowed in the URL path', () => {
  for (const url of [
    'http://vminsert:8480/insert/{{.MetricsTenant}}/prometheus/',
    'http://vminsert:8480/insert/{{.MetricsAccountID}}:{{.MetricsProjectID}}/prometheus/',
    'http://vl:9428/x/{{.LogsAccountID}}/{{.LogsProjectID}}',
  ]) assert.ok(compileUrlPrefix(url).hasPlaceholders, url);
});

test('list placeholders in the URL path are a config error', () => {
  assert.throws(() => compileUrlPrefix('http://vm:8428/{{.MetricsExtraFilters}}/api'), (e: unknown) => e instanceof JwtPlaceholderConfigError && /not allowed in the URL path/.test(e.message));
  assert.throws(() => compileUrlPrefix('http://vm:8428/{{.LogsExtraStreamFilters}}'), JwtPlaceholderConfigError);
});

test('unknown placeholders are a config error everywhere', () => {
  assert.throws(() => compileUrlPrefix('http://vm:8428/{{.Tenant}}/'), /unknown placeholder/);
  assert.throws(() => compileUrlPrefix('http://vm:8428/{{.MetricsTenant/'), /unknown placeholder/);
  assert.throws(() => compileUrlPrefix('http://vm:8428/?a={{.Foo}}'), /unsupported placeholder/);
  assert.throws(() => compileHeaders(['X-Tenant: {{.Foo}}']), /unsupported placeholder/);
});

test('a placeholder must be the whole query value or header value', () => {
  assert.throws(() => compileUrlPrefix('http://vm:8428/?extra_label=team={{.MetricsAccountID}}'), /exactly one of/);
  assert.throws(() => compileHeaders(['AccountID: x-{{.LogsAccountID}}']), /exactly one of/);
});

test('placeholders in host, query name or fragment are config errors', () => {
  assert.throws(() => compileUrlPrefix('http://{{.MetricsAccountID}}.vm:8428/'), /scheme or host/);
  assert.throws(() => compileUrlPrefix('http://vm:8428/?{{.MetricsAccountID}}=1'), /query arg name/);
  assert.throws(() => compileUrlPrefix('http://vm:8428/#{{.MetricsAccountID}}'), /fragment/);
  assert.throws(() => compileUrlPrefix('http://vm:8428/%7B%7B.MetricsTenant%7D%7D/'), /percent-encoded/);
});

test('percent-encoded placeholders in query values are recognised as vmauth does', () => {
  const c = compileUrlPrefix('http://vm:8428/api?extra_filters=%7B%7B.MetricsExtraFilters%7D%7D');
  assert.deepEqual(renderUrlPrefix(c, full).searchParams.getAll('extra_filters'), ['{env=~"prod|dev"}']);
});

test('response headers and non-jwt users reject placeholders', () => {
  assert.throws(() => rejectPlaceholders('{{.MetricsTenant}}', 'users[2].response_headers[0]'), /users\[2\]\.response_headers\[0\]/);
  assert.throws(() => rejectPlaceholders('http://vm/%7b%7b.MetricsTenant%7d%7d', 'users[0].url_prefix'), JwtPlaceholderConfigError);
  rejectPlaceholders('http://vm:8428/', 'users[0].url_prefix');
});

test('non-http URLs and bad header names are config errors', () => {
  assert.throws(() => compileUrlPrefix('ftp://vm/'), /http/);
  assert.throws(() => compileUrlPrefix('vm:8428/x'), /http/);
  assert.throws(() => compileHeaders(['Bad Name: {{.LogsAccountID}}']), /header name/);
  assert.throws(() => compileHeaders(['no colon']), /Name: value/);
});

// ---- rendering ---------------------------------------------------------------------------

test('path and scalar query placeholders render the tenant', () => {
  const c = compileUrlPrefix('http://vminsert:8480/insert/{{.MetricsTenant}}/prometheus/?keep=1&acct={{.MetricsAccountID}}');
  assert.equal(renderUrlPrefix(c, full).href, 'http://vminsert:8480/insert/1:2/prometheus/?keep=1&acct=1');
});

test('list placeholders expand into repeated query args, in order, percent-encoded', () => {
  const c = compileUrlPrefix('http://vm:8428/prometheus/?extra_filters={{.MetricsExtraFilters}}&extra_label={{.MetricsExtraLabels}}&x=y');
  const u = renderUrlPrefix(c, full);
  assert.deepEqual(u.searchParams.getAll('extra_label'), ['team=dev', 'env=prod']);
  assert.deepEqual(u.searchParams.getAll('extra_filters'), ['{env=~"prod|dev"}']);
  assert.equal(u.searchParams.get('x'), 'y');
  assert.deepEqual([...u.searchParams.keys()], ['extra_filters', 'extra_label', 'extra_label', 'x']);
});

test('an empty list removes the query arg', () => {
  const c = compileUrlPrefix('http://vm:8428/?extra_filters={{.MetricsExtraFilters}}');
  assert.equal(renderUrlPrefix(c, access({})).href, 'http://vm:8428/');
});

test('URLs without placeholders render unchanged', () => {
  const c = compileUrlPrefix('http://vm:8428/select/0/prometheus/?a=b%20c');
  assert.equal(c.hasPlaceholders, false);
  assert.equal(renderUrlPrefix(c, full).href, 'http://vm:8428/select/0/prometheus/?a=b%20c');
});

test('headers render scalars and comma-joined lists; literal headers pass through', () => {
  const c = compileHeaders(['AccountID: {{.LogsAccountID}}', 'ProjectID: {{.LogsProjectID}}', ['X-Stream', '{{.LogsExtraStreamFilters}}'], 'X-Static: yes']);
  assert.deepEqual(renderHeaders(c, full), [['AccountID', '3'], ['ProjectID', '4'], ['X-Stream', '{app="x"},{app="y"}'], ['X-Static', 'yes']]);
  assert.deepEqual(renderHeaders(compileHeaders([['X-Stream', '{{.LogsExtraStreamFilters}}']]), access({}))[0], ['X-Stream', '']);
});

test('a tenant placeholder for a tenant the token does not name is refused, never rendered as 0', () => {
  const metricsOnly = access({ metrics_account_id: 7, metrics_extra_labels: ['team=a'] });
  for (const h of ['AccountID: {{.LogsAccountID}}', 'ProjectID: {{.LogsProjectID}}']) {
    assert.throws(() => renderHeaders(compileHeaders([h]), metricsOnly), (e: unknown) => e instanceof JwtPlaceholderValueError && e.unscoped && /logs_account_id/.test(e.message), h);
  }
  assert.throws(() => renderUrlPrefix(compileUrlPrefix('http://vmselect:8481/select/{{.MetricsTenant}}/prometheus/'), access({ logs_account_id: 1 })),
    (e: unknown) => e instanceof JwtPlaceholderValueError && e.unscoped);
  assert.deepEqual(renderHeaders(compileHeaders(['AccountID: {{.LogsAccountID}}']), access({ logs_account_id: 0 })), [['AccountID', '0']], 'an explicit 0 is a tenant');
});

test('a claim value outside Latin-1 is refused before it reaches a header (HTTP/1.1 cannot carry it)', () => {
  const c = compileHeaders(['X-Filters: {{.LogsExtraFilters}}']);
  for (const v of ['{"app":"caf\u20ac"}', '{"app":"\u{1F600}"}']) {
    assert.throws(() => renderHeaders(c, access({ logs_account_id: 1, logs_extra_filters: [v] })), (e: unknown) => e instanceof JwtPlaceholderValueError && !e.unscoped && /Latin-1/.test(e.message));
  }
  assert.deepEqual(renderHeaders(c, access({ logs_account_id: 1, logs_extra_filters: ['{"app":"caf\u00e9"}'] })), [['X-Filters', '{"app":"caf\u00e9"}']], 'Latin-1 is fine');
});

// ---- injection ---------------------------------------------------------------------------

test('a claim cannot inject a path segment: non-numeric tenant values are refused at vm_access parsing', async () => {
  const a = authFor([{ public_keys: [rsa.pem] }]);
  for (const evil of ['../admin', '1/../../admin', '1%2f..%2fadmin', '1:2/x']) {
    const r = await a.authenticate(await sign({ vm_access: { metrics_account_id: evil } }));
    assert.equal(r.ok ? 'OK' : r.code, 'ERR_JWT_VM_ACCESS', evil);
  }
});

test('a claim cannot inject a path segment: the renderer refuses non-numeric values too', () => {
  // Defence in depth: even a VmAccess built by other code cannot put "/" or ".." in the path.
  const c = compileUrlPrefix('http://vminsert:8480/insert/{{.MetricsAccountID}}/prometheus/');
  for (const evil of ['../admin', '..', '1/..', '%2f', '1%2F..', '1.5', '-1']) {
    const forged = { ...full, metricsAccountId: evil as unknown as number };
    assert.throws(() => renderUrlPrefix(c, forged), (e: unknown) => e instanceof JwtPlaceholderValueError && e.placeholder === '{{.MetricsAccountID}}', evil);
  }
});

test('a claim cannot inject a query arg: "&extra_label=" in a value is refused', async () => {
  const a = authFor([{ public_keys: [rsa.pem] }]);
  const c = compileUrlPrefix('http://vm:8428/api/v1/query?extra_label={{.MetricsExtraLabels}}&extra_filters={{.MetricsExtraFilters}}');
  const evil = [
    { metrics_extra_labels: ['team=dev&extra_label=tenant=admin'] },
    { metrics_extra_filters: ['{a="b"}&extra_filters={}'] },
    { metrics_extra_filters: ['{a="b"}#'] },
  ];
  for (const vm_access of evil) {
    const r = await a.authenticate(await sign({ vm_access }));
    assert.ok(r.ok, 'the token itself is valid');
    assert.throws(() => renderUrlPrefix(c, r.access), JwtPlaceholderValueError, JSON.stringify(vm_access));
  }
});

test('query values that are safe but contain "=", "+", "%", "?" and "/" stay one argument, byte for byte', () => {
  const c = compileUrlPrefix('http://vm:8428/api?extra_filters={{.MetricsExtraFilters}}');
  const value = '{path=~"/a?b=c+d%2f"}';
  const u = renderUrlPrefix(c, access({ metrics_extra_filters: [value] }));
  assert.deepEqual(u.searchParams.getAll('extra_filters'), [value]);
  assert.deepEqual([...u.searchParams.keys()], ['extra_filters']);
  assert.equal(u.pathname, '/api');
});

test('a claim cannot inject a header line: CR/LF/NUL are refused at vm_access parsing', async () => {
  const a = authFor([{ public_keys: [rsa.pem] }]);
  for (const evil of ['{a="b"}\r\nX-Admin: 1', 'x\ny', 'x\u0000y']) {
    const r = await a.authenticate(await sign({ vm_access: { logs_extra_filters: [evil] } }));
    assert.equal(r.ok ? 'OK' : r.code, 'ERR_JWT_VM_ACCESS', JSON.stringify(evil));
  }
});

test('a claim cannot inject a header line: the renderer refuses control characters too', () => {
  const c = compileHeaders(['X-Filters: {{.LogsExtraFilters}}']);
  for (const evil of ['a\r\nX-Admin: 1', 'a\nb', 'a\u0000b']) {
    const forged = { ...full, logsExtraFilters: [evil] };
    assert.throws(() => renderHeaders(c, forged), JwtPlaceholderValueError, JSON.stringify(evil));
  }
});
