import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Logger } from '../../../src/observe/logger.ts';
import { WindowSummary } from '../../../src/observe/window-summary.ts';

const make = (extra: Partial<ConstructorParameters<typeof Logger>[0]> = {}) => {
  const lines: string[] = [];
  const log = new Logger({ level: 'INFO', format: 'default', output: 'stderr', disableTimestamps: true, sink: (l) => lines.push(l), ...extra });
  return { log, lines };
};

test('text lines: level, caller, message, logfmt fields with Go-style quoting', () => {
  const { log, lines } = make();
  log.info('access_log', { request_uri: '/a?b="c"', status_code: 200 });
  assert.deepEqual(lines, ['info\ttenantgate\taccess_log request_uri="/a?b=\\"c\\"" status_code=200']);
});

test('json lines', () => {
  const { log, lines } = make({ format: 'json' });
  log.warn('x', { a: 1 });
  assert.deepEqual(JSON.parse(lines[0] as string), { level: 'warn', caller: 'tenantgate', msg: 'x', a: 1 });
});

test('-loggerLevel hides lower levels', () => {
  const { log, lines } = make({ level: 'ERROR' });
  log.info('i'); log.warn('w'); log.error('e');
  assert.deepEqual(lines.map((l) => l.split('\t')[0]), ['error']);
});

test('bad logger flags are refused with the flag name', () => {
  assert.throws(() => make({ level: 'LOUD' }), /-loggerLevel="LOUD"/);
  assert.throws(() => make({ format: 'xml' }), /-loggerFormat="xml"/);
});

test('-loggerWarnsPerSecondLimit drops the surplus within a second and counts every message', () => {
  const { log, lines } = make({ warnsPerSecond: 3 });
  for (let i = 0; i < 10; i++) log.warn(`w${i}`);
  assert.equal(lines.length <= 6, true, 'at most the limit per second (a second boundary may split the burst)');
  assert.ok(lines.length >= 3);
  assert.equal(log.counts.warn, 10);
});

test('window summary: quantiles of recent observations, lifetime sum and count', () => {
  const s = new WindowSummary();
  const t0 = 1_000_000;
  for (let i = 1; i <= 100; i++) s.observe(i, t0);
  const [p50, p90, , p99, max] = s.quantiles(t0);
  assert.equal(p50, 50);
  assert.equal(p90, 90);
  assert.equal(p99, 99);
  assert.equal(max, 100);
  assert.equal(s.count, 100);
  assert.equal(s.sum, 5050);
  assert.ok(Number.isNaN(s.quantiles(t0 + 10 * 60_000)[0] as number), 'old observations leave the window');
});
