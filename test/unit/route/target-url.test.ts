import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseUrlPrefix } from '../../../src/config/compile.ts';
import { cleanPath, dropPrefixParts, parseRequestTarget } from '../../../src/route/request-target.ts';
import { buildDefaultUrlPath, buildTargetPath } from '../../../src/route/target-url.ts';
import { encodeQuery, parseQuery } from '../../../src/lib/go-url.ts';

const prefix = (u: string) => ({ ...parseUrlPrefix(u, []), template: null });
const target = (url: string) => {
  const t = parseRequestTarget(url);
  assert.ok(t !== null);
  return t;
};
const build = (p: string, url: string, drop = 0, merge: string[] = []) => buildTargetPath(prefix(p), target(url), drop, new Set(merge));

test('prefix joining: slashes on either side never double', () => {
  assert.equal(build('http://vm:8428', '/api/v1/query'), '/api/v1/query');
  assert.equal(build('http://vm:8428/', '/api/v1/query'), '/api/v1/query');
  assert.equal(build('http://vm/select/0/prometheus', '/api/v1/query'), '/select/0/prometheus/api/v1/query');
  assert.equal(build('http://vm/select/0/prometheus/', '/api/v1/query'), '/select/0/prometheus/api/v1/query');
  assert.equal(build('http://vm/select/0/prometheus/', '/'), '/select/0/prometheus/');
  assert.equal(build('http://vm', '/'), '/');
});

test('url_prefix query args are sent as written when the client sends none', () => {
  assert.equal(build('http://vm/?extra_label=team=dev', '/api/v1/query'), '/api/v1/query?extra_label=team=dev');
  // A pinned extra_filters also pins extra_filters[] (test/unit/security/query-arg-families.test.ts).
  assert.equal(build('http://vm/?extra_filters={env="prod"}', '/x'), '/x?extra_filters=%7Benv%3D%22prod%22%7D&extra_filters%5B%5D=%7Benv%3D%22prod%22%7D');
});

test('client args merge with prefix args; prefix args win on a clash (sorted, Go encoding)', () => {
  assert.equal(build('http://vm/?extra_label=tenant=a', '/api/v1/query?query=up&extra_label=tenant=b'),
    '/api/v1/query?extra_label=tenant%3Da&query=up');
  assert.equal(build('http://vm/?extra_label=tenant=a', '/api/v1/query?query=sum(rate(x[5m]))'),
    '/api/v1/query?extra_label=tenant%3Da&query=sum%28rate%28x%5B5m%5D%29%29');
});

test('merge_query_args lets listed client args join the prefix args', () => {
  assert.equal(build('http://vl/?extra_filters={env="prod"}', '/select/logsql/query?extra_filters={team="dev"}&query=error', 0, ['extra_filters']),
    '/select/logsql/query?extra_filters=%7Benv%3D%22prod%22%7D&extra_filters=%7Bteam%3D%22dev%22%7D&query=error');
});

test('extra_filters[] from the client passes through when the prefix pins only extra_label (vmauth semantics)', () => {
  assert.equal(build('http://vm/?extra_label=t=a', '/q?extra_filters[]=x'), '/q?extra_filters%5B%5D=x&extra_label=t%3Da');
});

test('drop_src_path_prefix_parts', () => {
  assert.equal(build('http://vmagent:8429/', '/vmagent/api/v1/targets', 1), '/api/v1/targets');
  assert.equal(build('http://b/', '/a/b/c', 2), '/c');
  assert.equal(build('http://b/', '/a/b', 2), '/');
  assert.equal(dropPrefixParts('/a/b/c', 5), '');
});

test('default_url keeps its own path and gets request_path', () => {
  assert.equal(buildDefaultUrlPath(prefix('http://default1:8888/unsupported_url_handler'), target('/non/existing/path')),
    '/unsupported_url_handler?request_path=%2Fnon%2Fexisting%2Fpath');
  assert.equal(buildDefaultUrlPath(prefix('http://d/h?x=1'), target('/p?q=2')), '/h?request_path=%2Fp%3Fq%3D2&x=1');
});

test('path normalisation defeats dot-segment and encoding tricks', () => {
  assert.equal(target('/api/v1/../../admin').path, '/admin');
  assert.equal(target('/%2e%2e/admin').path, '/admin');
  assert.equal(target('/api/v1/%2E%2E/%2e%2e/snapshot/create').path, '/snapshot/create');
  assert.equal(target('//api//v1/query').path, '/api/v1/query');
  assert.equal(target('/api/v1/./query').path, '/api/v1/query');
  assert.equal(target('/api/v1/query/').path, '/api/v1/query/');
  assert.equal(target('/').path, '');
  assert.equal(target('/a%2Fb').path, '/a/b');
  assert.equal(parseRequestTarget('/bad%zz'), null);
  assert.equal(cleanPath('/a/b/..'), '/a');
});

test('absolute-form request targets are reduced to their path', () => {
  assert.deepEqual(parseRequestTarget('http://evil.example/api/v1/query?x=1'), { path: '/api/v1/query', rawQuery: 'x=1' });
});

test('the forwarded path is re-escaped the way Go prints url.URL', () => {
  assert.equal(build('http://vm', '/api/v1/label/a%20b/values'), '/api/v1/label/a%20b/values');
  assert.equal(build('http://vm', '/x/(y)'), '/x/%28y%29');
  assert.equal(build('http://vm', '/x/a:b@c'), '/x/a:b@c');
});

test('Go ParseQuery: plus is space, malformed pairs and semicolons are dropped', () => {
  const q = parseQuery('a=1+2&b=%zz&c;d=3&&e&f=x%3Dy');
  assert.deepEqual([...q.entries()], [['a', ['1 2']], ['e', ['']], ['f', ['x=y']]]);
  assert.equal(encodeQuery(new Map([['b', ['2']], ['a', ['1', 'x y']]])), 'a=1&a=x+y&b=2');
});
