/**
 * Cross-checks with Prometheus' own code (the Debian `promtool` from the
 * backends cache, skipped when absent): its parser must accept every enforced query, and its engine,
 * evaluating enforced queries over series of two tenants, must return only
 * the tenant's data. Expected results are written out by hand.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { compileTenant, enforceQuery } from '../../../src/enforce/promql/index.ts';
import { DASHBOARD_QUERIES } from './corpus.ts';
import { findProgram, programEnv } from '../../../scripts/lib/backends.ts';

const found = findProgram('promtool');
const promtool = found !== null && spawnSync(found, ['--version'], { encoding: 'utf8', env: programEnv() }).status === 0 ? found : null;
const dir = mkdtempSync(join(tmpdir(), 'tg-promql-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const tenant = compileTenant({ matchers: [{ label: 'namespace', values: ['a'] }] });
const multi = compileTenant({ matchers: [{ label: 'namespace', values: ['a', 'c.d'] }], filters: ['{env=~"prod|dev"}'] });

// Attack outputs Prometheus 2.x can parse (no UTF-8 names, limitk, info, …).
const ATTACKS = [
  'x{namespace=~".*"}', '{"namespace"="b"}', 'topk(scalar(count(secret)), x)', 'quantile(scalar(secret), x)',
  'max_over_time(secret[1h:])', 'secret @ end()', 'x - x offset 1d', 'x or on(namespace) secret', 'x * on(pod) group_left(node) secret',
  '{__name__=~".+"}', 'count_values("namespace", secret)', 'sum{a="b"}', 'x{job="\\"} or secret{job=\\""}',
  'rate(x[5m] offset 5m @ start())', '-x offset 5m ^ 2', 'absent(secret{namespace="b"})',
];

function run(args: string[]): { code: number; out: string } {
  try {
    return { code: 0, out: execFileSync(promtool!, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000, env: programEnv() }) };
  } catch (e) {
    const err = e as { status?: number; stdout?: string; stderr?: string };
    return { code: err.status ?? -1, out: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

describe('promtool cross-checks', { skip: promtool === null ? 'promtool not installed' : false }, () => {
  it('Prometheus parses every enforced corpus and attack query', () => {
    const rules: string[] = [];
    let n = 0;
    for (const t of [tenant, multi]) {
      for (const q of [...DASHBOARD_QUERIES, ...ATTACKS]) rules.push(`      - record: r${n++}\n        expr: ${JSON.stringify(enforceQuery(q, t))}`);
    }
    const file = join(dir, 'rules.yml');
    writeFileSync(file, `groups:\n  - name: enforced\n    rules:\n${rules.join('\n')}\n`);
    const r = run(['check', 'rules', file]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, new RegExp(`SUCCESS: ${n} rules found`));
  });

  it('the Prometheus engine returns only the tenant data for enforced queries', () => {
    const cases: { q: string; exp: string }[] = [
      { q: 'sum(x)', exp: '[{labels: "{}", value: 1}]' },
      { q: 'x{namespace=~".*"}', exp: '[{labels: "x{namespace=\\"a\\", pod=\\"p1\\"}", value: 1}]' },
      // User matchers on the tenant label are ANDed: another tenant's value selects nothing.
      { q: '{"namespace"="b"}', exp: '[]' },
      { q: 'x{namespace!="a"}', exp: '[]' },
      { q: 'x{namespace="a"}', exp: '[{labels: "x{namespace=\\"a\\", pod=\\"p1\\"}", value: 1}]' },
      { q: 'count(secret)', exp: '[]' },
      { q: 'x or secret', exp: '[{labels: "x{namespace=\\"a\\", pod=\\"p1\\"}", value: 1}]' },
      { q: 'count(max_over_time(secret[10m:1m]))', exp: '[]' },
      // Aggregation parameters: a leaked count(secret) would be 1 here.
      { q: 'vector(scalar(count(secret) or vector(0)))', exp: '[{labels: "{}", value: 0}]' },
      { q: 'topk(scalar(count(secret) or vector(0)) + 1, x)', exp: '[{labels: "x{namespace=\\"a\\", pod=\\"p1\\"}", value: 1}]' },
      { q: 'count({__name__=~".+"})', exp: '[{labels: "{}", value: 1}]' },
      { q: 'sum(x) - sum(x offset 1m)', exp: '[{labels: "{}", value: 0}]' },
    ];
    const tests = cases
      .map(({ q, exp }) => `      - expr: ${JSON.stringify(enforceQuery(q, tenant))}\n        eval_time: 5m\n        exp_samples: ${exp}`)
      .join('\n');
    const file = join(dir, 'isolation.yml');
    writeFileSync(
      file,
      [
        'rule_files: []',
        'evaluation_interval: 1m',
        'tests:',
        '  - interval: 1m',
        '    input_series:',
        '      - series: \'x{namespace="a", pod="p1"}\'',
        "        values: '1x10'",
        '      - series: \'x{namespace="b", pod="p2"}\'',
        "        values: '100x10'",
        '      - series: \'secret{namespace="b"}\'',
        "        values: '42x10'",
        '      - series: \'x{pod="p3"}\'',
        "        values: '1000x10'",
        '    promql_expr_test:',
        tests,
        '',
      ].join('\n'),
    );
    const r = run(['test', 'rules', file]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /SUCCESS/);
  });
});
