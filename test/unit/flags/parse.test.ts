import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlagError, parseFlags } from '../../../src/flags/parse.ts';
import { parseBytes, parseDuration, splitArrayValue } from '../../../src/flags/values.ts';

test('Go flag syntaxes: -a=v, -a v, --a=v, --a v', () => {
  for (const argv of [['-auth.config=x.yml'], ['-auth.config', 'x.yml'], ['--auth.config=x.yml'], ['--auth.config', 'x.yml']]) {
    assert.equal(parseFlags(argv, {}).string('auth.config'), 'x.yml');
  }
});

test('boolean flags: bare, =true, =false, and Go spellings', () => {
  assert.equal(parseFlags(['-dryRun'], {}).bool('dryRun'), true);
  assert.equal(parseFlags(['-dryRun=false'], {}).bool('dryRun'), false);
  assert.equal(parseFlags(['-dryRun=1'], {}).bool('dryRun'), true);
  assert.equal(parseFlags(['-dryRun=F'], {}).bool('dryRun'), false);
  assert.equal(parseFlags([], {}).bool('dryRun'), false);
  assert.throws(() => parseFlags(['-dryRun=maybe'], {}), /invalid value "maybe" for flag -dryRun/);
});

test('array booleans: bare, per-listener lists, single value for all', () => {
  const f = parseFlags(['-tls', '-mtls=true,false', '-httpListenAddr=:1,:2'], {});
  assert.deepEqual(f.bools('tls'), [true]);
  assert.deepEqual(f.bools('mtls'), [true, false]);
  assert.deepEqual(f.bools('httpListenAddr.useProxyProtocol'), [false]);
});

test('a bare boolean does not swallow the next argument', () => {
  assert.throws(() => parseFlags(['-dryRun', 'false'], {}), /unexpected argument "false"/);
});

test('array flags: repeated and comma-separated', () => {
  const f = parseFlags(['-httpAuthHeader=A', '-httpAuthHeader=B,C', '-retryStatusCodes=500,502', '-retryStatusCodes', '503'], {});
  assert.deepEqual(f.strings('httpAuthHeader'), ['A', 'B', 'C']);
  assert.deepEqual(f.ints('retryStatusCodes'), [500, 502, 503]);
});

test('array defaults apply when the flag is absent', () => {
  assert.deepEqual(parseFlags([], {}).strings('httpListenAddr'), [':8427']);
  assert.deepEqual(parseFlags([], {}).ints('retryStatusCodes'), []);
});

test('durations and sizes in Go / VictoriaMetrics syntax', () => {
  assert.equal(parseDuration('10s'), 10_000);
  assert.equal(parseDuration('1m30s'), 90_000);
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration('1h'), 3_600_000);
  assert.equal(parseDuration('0'), 0);
  assert.throws(() => parseDuration('10'), /invalid duration "10"/);
  assert.throws(() => parseDuration('ten seconds'), /invalid duration/);
  assert.equal(parseBytes('16KiB'), 16384);
  assert.equal(parseBytes('1MB'), 1_000_000);
  assert.equal(parseBytes('32768'), 32768);
  assert.equal(parseBytes('1.5GiB'), 1.5 * 1024 ** 3);
  assert.throws(() => parseBytes('12 apples'), /invalid size/);
  const f = parseFlags(['-maxRequestBodySizeToRetry=1MiB', '-failTimeout=1m30s'], {});
  assert.equal(f.bytes('maxRequestBodySizeToRetry'), 1024 * 1024);
  assert.equal(f.duration('failTimeout'), 90_000);
});

test('bad values name the flag and fail with exit code 2', () => {
  let err: unknown;
  try { parseFlags(['-failTimeout=soon'], {}); } catch (e) { err = e; }
  assert.ok(err instanceof FlagError);
  assert.equal(err.exitCode, 2);
  assert.match(err.message, /-failTimeout/);
  assert.throws(() => parseFlags(['-maxConcurrentRequests=lots'], {}), /invalid value "lots" for flag -maxConcurrentRequests/);
});

test('unknown flags are errors, not ignored', () => {
  assert.throws(() => parseFlags(['-auth.cofnig=x'], {}), /flag provided but not defined: -auth.cofnig/);
});

test('vmauth flags not implemented yet fail loudly', () => {
  assert.throws(() => parseFlags(['-pprofAuthKey=x'], {}), /vmauth flag that tenantgate does not support yet/);
});

test('flags whose meaning is Go-runtime-specific are accepted and reported', () => {
  const f = parseFlags(['-memory.allowedPercent=80'], {});
  assert.deepEqual(f.noEffect, ['memory.allowedPercent']);
});

test('missing value for a non-boolean flag', () => {
  assert.throws(() => parseFlags(['-auth.config'], {}), /flag needs an argument: -auth.config/);
});

test('-envflag.enable reads unset flags from the environment, dots as underscores, with prefix', () => {
  const env = { TG_auth_config: 'env.yml', TG_backend_TLSServerName: 'srv', TG_loadBalancingPolicy: 'first_available' };
  const f = parseFlags(['-envflag.enable', '-envflag.prefix=TG_', '-loadBalancingPolicy=least_loaded'], env);
  assert.equal(f.string('auth.config'), 'env.yml');
  assert.equal(f.string('backend.TLSServerName'), 'srv');
  // the command line wins over the environment
  assert.equal(f.string('loadBalancingPolicy'), 'least_loaded');
  // without -envflag.enable the environment is ignored
  assert.equal(parseFlags([], { auth_config: 'x' }).string('auth.config'), '');
});

test('array values keep commas inside quotes and brackets', () => {
  assert.deepEqual(splitArrayValue('a,b'), ['a', 'b']);
  assert.deepEqual(splitArrayValue('"a,b",c'), ['a,b', 'c']);
  assert.deepEqual(splitArrayValue('{x="1,2"},y'), ['{x="1,2"}', 'y']);
});

test('/flags output masks secrets', () => {
  const lines = parseFlags(['-reloadAuthKey=topsecret', '-metricsAuthKey=m', '-auth.config=a.yml'], {}).describe();
  assert.ok(lines.includes('-reloadAuthKey="secret"'));
  assert.ok(lines.includes('-auth.config="a.yml"'));
  assert.ok(!lines.join('\n').includes('topsecret'));
});
