// `limits:` in -auth.config: every key, its default, and the exact error for each bad value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileDefaultsFromFlags } from '../../../src/gateway/main.ts';
import { parseFlags } from '../../../src/flags/parse.ts';
import { parseConfigText } from '../../../src/config/load.ts';
import { ConfigError } from '../../../src/config/errors.ts';
import { requestKind } from '../../../src/limit/request-kind.ts';

const defaults = compileDefaultsFromFlags(parseFlags([], {}));
const compile = (yaml: string) => parseConfigText(yaml, 'auth.yml', defaults, {});
const user = (limits: string, extra = '') => `users:\n- username: a\n  password: b\n  url_prefix: http://127.0.0.1:1/\n${extra}  limits:\n${limits}`;

function errorOf(yaml: string): string {
  try { compile(yaml); } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err.message;
  }
  assert.fail('config was accepted');
}

test('every key compiles, with bursts defaulting to one second of the rate', () => {
  const c = compile(user('    requests_per_second: 50\n    queries_per_second: 2.5\n    queries_burst: 10\n    write_samples_per_second: 1000\n    write_bytes_per_second: 1MiB\n    max_concurrent_queries: 4\n', '  tenant: {labels: {team: a}}\n'));
  const l = c.users[0]!.limits!;
  assert.equal(l.key, 'user:a');
  assert.deepEqual([l.requests?.ratePerSecond, l.requests?.burst], [50, 50]);
  assert.deepEqual([l.queries?.ratePerSecond, l.queries?.burst, l.queries?.gcra.intervalMs], [2.5, 10, 400]);
  assert.deepEqual([l.writeSamples?.burst, l.writeBytes?.ratePerSecond, l.writeBytes?.burst], [1000, 1048576, 1048576]);
  assert.equal(l.maxConcurrentQueries, 4);
});

test('no limits: null, and a fractional rate below 1 gets a burst of 1', () => {
  assert.equal(compile('users:\n- username: a\n  password: b\n  url_prefix: http://127.0.0.1:1/\n').users[0]!.limits, null);
  assert.equal(compile(user('    requests_per_second: 0.2\n')).users[0]!.limits!.requests!.burst, 1);
});

test('unknown key: file, line, path', () => {
  assert.equal(errorOf(user('    request_per_second: 5\n')),
    'auth.yml:6:5: users[0].limits.request_per_second: unknown field "request_per_second"; check the spelling against docs/configuration.md');
});

test('bad numbers name the field and what was expected', () => {
  assert.equal(errorOf(user('    requests_per_second: fast\n')), 'auth.yml:6:26: users[0].limits.requests_per_second: expected a number per second, e.g. 50 or 0.5');
  assert.equal(errorOf(user('    requests_per_second: 0\n')), 'auth.yml:6:26: users[0].limits.requests_per_second: must be greater than 0 (leave the key out for no limit)');
  assert.equal(errorOf(user('    requests_per_second: 2000000000\n')), 'auth.yml:6:26: users[0].limits.requests_per_second: must be at most 1000000000');
  assert.equal(errorOf(user('    requests_per_second: 1\n    requests_burst: 1.5\n')), 'auth.yml:7:21: users[0].limits.requests_burst: expected a whole number of requests');
  assert.equal(errorOf(user('    write_bytes_per_second: 4 potatoes\n')), 'auth.yml:6:29: users[0].limits.write_bytes_per_second: expected bytes per second, e.g. 1048576 or 4MiB');
  assert.equal(errorOf(user('    max_concurrent_queries: 0\n')), 'auth.yml:6:29: users[0].limits.max_concurrent_queries: must be at least 1');
});

test('a burst without its rate, and a key without limits, are errors', () => {
  assert.equal(errorOf(user('    queries_burst: 5\n')), 'auth.yml:6:20: users[0].limits.queries_burst: queries_burst needs queries_per_second');
  assert.equal(errorOf(user('    key: team-a\n')), 'auth.yml:6:10: users[0].limits.key: key names a budget, but this section sets no limit');
  assert.equal(errorOf(user('    key: "team a"\n    requests_per_second: 1\n')), 'auth.yml:6:10: users[0].limits.key: expected a budget name of 1-128 characters from [A-Za-z0-9_.:@/-]');
});

test('write_samples_per_second needs a route that decodes writes', () => {
  assert.equal(errorOf(user('    write_samples_per_second: 10\n')),
    'auth.yml:6:31: users[0].limits.write_samples_per_second: samples are counted only where tenantgate decodes remote writes: a route of this user needs a `tenant:` section with enforce: promql (the default) that allows writes; otherwise limit write_bytes_per_second');
  assert.match(errorOf(user('    write_samples_per_second: 10\n', '  tenant: {labels: {team: a}, mode: read}\n')), /samples are counted only where/);
  assert.match(errorOf(user('    write_samples_per_second: 10\n', '  tenant: {labels: {team: a}, enforce: victoriametrics}\n')), /samples are counted only where/);
  const c = compile(`users:\n- username: a\n  password: b\n  url_map:\n  - src_paths: [/api/v1/write]\n    url_prefix: http://127.0.0.1:1/\n    tenant: {labels: {team: a}}\n  limits: {write_samples_per_second: 10}\n`);
  assert.equal(c.users[0]!.limits!.writeSamples!.ratePerSecond, 10);
});

test('users sharing a budget key must set the same limits', () => {
  const two = (a: string, b: string) => `users:\n- username: a\n  password: x\n  url_prefix: http://127.0.0.1:1/\n  limits: {key: team, requests_per_second: ${a}}\n- username: b\n  password: x\n  url_prefix: http://127.0.0.1:1/\n  limits: {key: team, requests_per_second: ${b}}\n`;
  const c = compile(two('5', '5'));
  assert.equal(c.users[0]!.limits!.key, 'team');
  assert.equal(c.users[1]!.limits!.key, 'team');
  assert.equal(errorOf(two('5', '6')), 'auth.yml:9:11: users[1].limits: this user shares the budget "team" with users[0] but sets different limits; set the same limits, or give one of them its own limits.key');
});

test('unauthorized_user may have limits', () => {
  const c = compile('unauthorized_user:\n  url_prefix: http://127.0.0.1:1/\n  limits:\n    requests_per_second: 3\n');
  assert.equal(c.unauthorizedUser!.limits!.key, 'user:unauthorized');
});

test('request kinds: queries and writes of Prometheus, VictoriaMetrics and VictoriaLogs', () => {
  for (const p of ['/api/v1/query', '/api/v1/query_range', '/select/0/prometheus/api/v1/query', '/api/v1/series', '/api/v1/labels', '/api/v1/label/job/values', '/federate', '/select/logsql/query', '/api/v1/export', '/api/v1/query/', '/api/v1/query_range//']) {
    assert.equal(requestKind(p), 'query', p);
  }
  for (const p of ['/api/v1/write', '/api/v1/push', '/insert/0/prometheus/api/v1/write', '/insert/jsonline', '/api/v1/import/prometheus', '/opentelemetry/v1/metrics']) {
    assert.equal(requestKind(p), 'write', p);
  }
  for (const p of ['/', '/api/v1/status/buildinfo', '/api/v1/rules', '/api/v2/alerts', '/api/v1/query/extra']) assert.equal(requestKind(p), 'other', p);
});
