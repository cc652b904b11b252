// The `tenant:` section: strict validation with the offending field in the error, through the
// compiler and through the whole config loader (file:line:col).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileTenantPolicy } from '../../../src/enforce/tenant/compile.ts';
import { parseTenantConfig } from '../../../src/enforce/tenant/config.ts';
import { FieldError, ConfigError } from '../../../src/config/errors.ts';
import { compileDefaultsFromFlags } from '../../../src/gateway/main.ts';
import { parseFlags } from '../../../src/flags/parse.ts';
import { parseConfigText } from '../../../src/config/load.ts';

const BASE = ['users', 0, 'tenant'] as const;

function fieldError(raw: unknown): { path: readonly (string | number)[]; message: string } {
  try {
    compileTenantPolicy(raw, BASE);
  } catch (err) {
    assert.ok(err instanceof FieldError, `expected FieldError, got ${String(err)}`);
    return { path: err.path, message: err.message };
  }
  assert.fail('tenant section was accepted');
}

test('defaults: promql, read_write, no filters', () => {
  const c = parseTenantConfig({ labels: { namespace: 'a' } }, BASE);
  assert.equal(c.enforce, 'promql');
  assert.equal(c.mode, 'read_write');
  assert.deepEqual([...c.labels], [['namespace', ['a']]]);
  assert.deepEqual(c.filters, []);
});

test('label values: string, number or list (de-duplicated, sorted)', () => {
  const c = parseTenantConfig({ labels: { namespace: ['b', 'a', 'b'], team: 42 } }, BASE);
  assert.deepEqual([...c.labels], [['namespace', ['a', 'b']], ['team', ['42']]]);
});

const bad: Array<[string, unknown, readonly (string | number)[], RegExp]> = [
  ['unknown key', { labels: { namespace: 'a' }, lables: {} }, ['lables'], /unknown field "lables"/],
  ['label value of the wrong type', { labels: { namespace: { x: 1 } } }, ['labels', 'namespace'], /label value/],
  ['empty label value', { labels: { namespace: '' } }, ['labels', 'namespace'], /label value/],
  ['empty value list', { labels: { namespace: [] } }, ['labels', 'namespace'], /at least one value/],
  ['invalid label name', { labels: { 'name-space': 'a' } }, ['labels', 'name-space'], /label names must match/],
  ['reserved label name', { labels: { __name__: 'a' } }, ['labels', '__name__'], /reserved/],
  ['bad mode', { labels: { namespace: 'a' }, mode: 'readwrite' }, ['mode'], /read, write or read_write/],
  ['bad enforce', { labels: { namespace: 'a' }, enforce: 'mimir' }, ['enforce'], /promql, victoriametrics or victorialogs/],
  ['filters not a list', { labels: { namespace: 'a' }, filters: '{env="prod"}' }, ['filters'], /list of series selectors/],
  ['filter with a newline', { labels: { namespace: 'a' }, filters: ['{env="a"}\n'] }, ['filters', 0], /control characters/],
  ['promql filters that cannot be merged', { labels: { namespace: 'a' }, filters: ['{env="prod"}', '{team="x"}'] }, ['filters'], /several filters/],
  ['unparsable promql filter', { labels: { namespace: 'a' }, filters: ['{env='] }, ['filters'], /filters\[0\]/],
  ['logs with enforce: promql', { labels: { namespace: 'a' }, logs: { account_id: 1 } }, ['logs'], /only to enforce: victorialogs/],
  ['labels with enforce: victorialogs', { enforce: 'victorialogs', labels: { namespace: 'a' } }, ['labels'], /account_id/],
  ['negative account id', { enforce: 'victorialogs', logs: { account_id: -1 } }, ['logs', 'account_id'], />= 0/],
  ['unknown logs key', { enforce: 'victorialogs', logs: { account: 1 } }, ['logs', 'account'], /unknown field "account"/],
  ['extra field value with a comma', { enforce: 'victorialogs', logs: { account_id: 1, extra_fields: { a: 'x,y' } } }, ['logs', 'extra_fields', 'a'], /","/],
  ['invalid allow_paths regex', { labels: { namespace: 'a' }, allow_paths: ['/api/(v1'] }, ['allow_paths', 0], /invalid RE2 regex/],
  ['cluster_tenant format', { enforce: 'victoriametrics', labels: { namespace: 'a' }, cluster_tenant: 'a:b' }, ['cluster_tenant'], /accountID/],
  ['cluster_tenant outside victoriametrics', { labels: { namespace: 'a' }, cluster_tenant: '1' }, ['cluster_tenant'], /only to enforce: victoriametrics/],
  ['max_body_size not a number', { labels: { namespace: 'a' }, max_body_size: '1MB' }, ['max_body_size'], /number of bytes/],
  ['not a mapping', 'team-a', [], /expected a mapping/],
];
for (const [name, raw, where, message] of bad) {
  test(`refused: ${name}`, () => {
    const e = fieldError(raw);
    assert.deepEqual(e.path, [...BASE, ...where]);
    assert.match(e.message, message);
  });
}

test('through the loader: file, line, column and field path', () => {
  const defaults = compileDefaultsFromFlags(parseFlags([], {}));
  const yaml = 'users:\n- username: a\n  password: b\n  url_prefix: http://127.0.0.1:1/\n  tenant:\n    labels: {namespace: [a, {}]}\n';
  try {
    parseConfigText(yaml, 'auth.yml', defaults, {});
    assert.fail('accepted');
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    assert.match(err.message, /^auth\.yml:\d+:\d+: users\[0\]\.tenant\.labels\.namespace(\[1\])?: /);
  }
});

test('a url_map entry\'s tenant section is validated at its own path', () => {
  const defaults = compileDefaultsFromFlags(parseFlags([], {}));
  const yaml = 'users:\n- username: a\n  password: b\n  url_map:\n  - src_paths: ["/.*"]\n    url_prefix: http://127.0.0.1:1/\n    tenant: {labels: {namespace: a}, mode: all}\n';
  assert.throws(() => parseConfigText(yaml, 'auth.yml', defaults, {}), (err: Error) => /users\[0\]\.url_map\[0\]\.tenant\.mode: expected read, write or read_write/.test(err.message));
});

test('a valid config loads and the route carries a policy', () => {
  const defaults = compileDefaultsFromFlags(parseFlags([], {}));
  const yaml = 'users:\n- username: a\n  password: b\n  url_prefix: http://127.0.0.1:1/\n  tenant: {labels: {namespace: a}, enforce: victoriametrics}\n';
  const cfg = parseConfigText(yaml, 'auth.yml', defaults, {});
  const policy = cfg.users[0]!.fallback?.tenant;
  assert.ok(policy);
  const d = policy.enforce({ method: 'GET', path: '/api/v1/targets', rawQuery: '', headers: {}, body: null, access: null });
  assert.equal(d.kind, 'refuse');
});
