import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  compileTenant, enforceQuery, enforceSeriesSelectors, PromqlEnforceError, printExpr, parsePromql,
} from '../../../src/enforce/promql/index.ts';
import { DASHBOARD_QUERIES } from './corpus.ts';
import { everySelectorHas, rawSelectors } from './helpers.ts';

const single = compileTenant({ matchers: [{ label: 'namespace', values: ['team-a'] }] });
const multi = compileTenant({ matchers: [{ label: 'namespace', values: ['team-b', 'team-a'] }] });

describe('enforceQuery: single tenant value', () => {
  const cases: [string, string][] = [
    ['up', 'up{namespace="team-a"}'],
    ['up{job="x"}', 'up{job="x", namespace="team-a"}'],
    // A user matcher on the tenant label is kept and ANDed: a conflict selects nothing.
    ['up{namespace="team-b"}', 'up{namespace="team-b", namespace="team-a"}'],
    ['up{namespace!="team-a"}', 'up{namespace!="team-a", namespace="team-a"}'],
    ['up{namespace="team-a"}', 'up{namespace="team-a"}'],
    ['rate(x[5m])', 'rate(x{namespace="team-a"}[5m])'],
    ['x[5m:1m]', 'x{namespace="team-a"}[5m:1m]'],
    ['x offset 5m @ end()', 'x{namespace="team-a"} offset 5m @ end()'],
    ['sum by (pod) (x) / on(pod) group_left(node) y', 'sum by (pod) (x{namespace="team-a"}) / on(pod) group_left(node) y{namespace="team-a"}'],
    ['sum(x) by (pod)', 'sum by (pod) (x{namespace="team-a"})'],
    ['topk(scalar(count(x)), y)', 'topk(scalar(count(x{namespace="team-a"})), y{namespace="team-a"})'],
    ['quantile(scalar(x), y)', 'quantile(scalar(x{namespace="team-a"}), y{namespace="team-a"})'],
    ['count_values("v", x)', 'count_values("v", x{namespace="team-a"})'],
    ['x > bool 1', 'x{namespace="team-a"} > bool 1'],
    ['a or b unless c', 'a{namespace="team-a"} or b{namespace="team-a"} unless c{namespace="team-a"}'],
    ['-x ^ 2', '-x{namespace="team-a"} ^ 2'],
    ['"just a string"', '"just a string"'],
    ['1 + 2', '1 + 2'],
    ['{__name__="up"}', '{__name__="up", namespace="team-a"}'],
    ['{"my.metric", "namespace"="b"}', '{__name__="my.metric", namespace="b", namespace="team-a"}'],
    ['sum{a="b"}', '{__name__="sum", a="b", namespace="team-a"}'],
    ['x # comment\n+ y', 'x{namespace="team-a"} + y{namespace="team-a"}'],
  ];
  for (const [input, expected] of cases) {
    it(`${JSON.stringify(input)}`, () => {
      assert.equal(enforceQuery(input, single), expected);
    });
  }
});

describe('enforceQuery: several tenant values', () => {
  it('ANDs a regex of the escaped values and keeps user matchers on the label', () => {
    assert.equal(
      enforceQuery('up{namespace="team-b", job="x"}', multi),
      'up{namespace="team-b", job="x", namespace=~"team-a|team-b"}',
    );
  });
  it('regex-escapes values so they stay literal', () => {
    const t = compileTenant({ matchers: [{ label: 'ns', values: ['a.b', 'c|d', 'e(f)*'] }] });
    assert.equal(enforceQuery('x', t), 'x{ns=~"a\\\\.b|c\\\\|d|e\\\\(f\\\\)\\\\*"}');
    const sel = rawSelectors(enforceQuery('x', t))[0]!;
    assert.deepEqual(sel.matchers, [{ name: 'ns', op: '=~', value: 'a\\.b|c\\|d|e\\(f\\)\\*' }]);
  });
  it('duplicated values collapse; one distinct value becomes an equality matcher', () => {
    const t = compileTenant({ matchers: [{ label: 'ns', values: ['a', 'a'] }] });
    assert.equal(enforceQuery('x{ns=~".*"}', t), 'x{ns=~".*", ns="a"}');
  });
});

describe('enforceQuery: several tenant labels and a filter', () => {
  const t = compileTenant({
    matchers: [{ label: 'cluster', values: ['eu'] }, { label: 'namespace', values: ['a'] }],
    filters: ['{env=~"prod|dev"}'],
  });
  it('injects all of them into every selector', () => {
    assert.equal(
      enforceQuery('sum(rate(x{cluster="us"}[5m])) / sum(y)', t),
      'sum(rate(x{cluster="us", cluster="eu", namespace="a", env=~"prod|dev"}[5m])) / sum(y{cluster="eu", namespace="a", env=~"prod|dev"})',
    );
  });
  it('keeps a user matcher on the filter label (AND narrows)', () => {
    assert.equal(enforceQuery('x{env="dev"}', t), 'x{env="dev", cluster="eu", namespace="a", env=~"prod|dev"}');
  });
});

describe('enforceQuery: idempotent and canonical', () => {
  for (const t of [single, multi]) {
    it(`corpus enforced twice equals once (${t.matchers[0]!.values.join(',')})`, () => {
      for (const q of DASHBOARD_QUERIES) {
        const once = enforceQuery(q, t);
        assert.equal(enforceQuery(once, t), once, q);
      }
    });
  }
  it('every selector of every corpus query carries the tenant matcher', () => {
    for (const q of DASHBOARD_QUERIES) {
      const out = enforceQuery(q, single);
      assert.ok(everySelectorHas(out, [{ name: 'namespace', op: '=', value: 'team-a' }]), out);
      assert.equal(rawSelectors(out).length, rawSelectors(q).length, `selector count changed: ${q}`);
    }
  });
  it('printing a parsed tree and parsing it again gives the same tree', () => {
    for (const q of DASHBOARD_QUERIES) {
      const tree = parsePromql(q);
      assert.deepEqual(parsePromql(printExpr(tree)), tree, q);
    }
  });
  it('the memo returns the same answer as a cold tenant', () => {
    const cold = compileTenant({ matchers: [{ label: 'namespace', values: ['team-a'] }] }, { cacheSize: 0 });
    for (const q of DASHBOARD_QUERIES) {
      assert.equal(enforceQuery(q, single), enforceQuery(q, cold));
      assert.equal(enforceQuery(q, single), enforceQuery(q, cold));
    }
    assert.equal(cold.cache.size, 0);
  });
  it('the memo is bounded', () => {
    const small = compileTenant({ matchers: [{ label: 'namespace', values: ['a'] }] }, { cacheSize: 3 });
    for (let i = 0; i < 10; i++) enforceQuery(`m${i}`, small);
    assert.equal(small.cache.size, 3);
    assert.deepEqual([...small.cache.keys()], ['m7', 'm8', 'm9']);
  });
});

describe('parse: Prometheus binding of postfix modifiers', () => {
  it('offset/@/subquery after a binary operator bind to the right operand, as in Prometheus', () => {
    const tree = parsePromql('x - x offset 1d @ end()');
    assert.equal(tree.kind, 'binary');
    assert.ok(tree.kind === 'binary' && tree.lhs.kind === 'vector' && tree.rhs.kind === 'at' && tree.rhs.expr.kind === 'offset');
    const sub = parsePromql('a * -b[5m:]');
    assert.ok(sub.kind === 'binary' && sub.rhs.kind === 'unary' && sub.rhs.expr.kind === 'subquery');
    assert.equal(enforceQuery('x - x offset 1d', single), 'x{namespace="team-a"} - x{namespace="team-a"} offset 1d');
  });
});

describe('enforceQuery: refuses what it does not fully understand', () => {
  const bad: [string, string][] = [
    ['', 'ERR_PROMQL_PARSE'],
    ['sum(', 'ERR_PROMQL_PARSE'],
    ['unknown_function(x)', 'ERR_PROMQL_PARSE'],
    ['x{a="b"', 'ERR_PROMQL_PARSE'],
    ['x{a="b}', 'ERR_PROMQL_PARSE'],
    ['sum(x)[5m]', 'ERR_PROMQL_PARSE'],
    ['x offset 5m offset 1m', 'ERR_PROMQL_PARSE'],
    ['sum(x) offset 5m', 'ERR_PROMQL_PARSE'],
    ['x{a="\\q"}', 'ERR_PROMQL_PARSE'],
    ['foo{__name__="bar"}', 'ERR_PROMQL_PARSE'],
    ['{}', 'ERR_PROMQL_PARSE'],
  ];
  for (const [q, code] of bad) {
    it(`${JSON.stringify(q)} → ${code}`, () => {
      assert.throws(() => enforceQuery(q, single), (e: unknown) => e instanceof PromqlEnforceError && e.code === code);
    });
  }
  it('reports the position of a syntax error', () => {
    assert.throws(
      () => enforceQuery('sum(rate(x[5m]) +', single),
      (e: unknown) => e instanceof PromqlEnforceError && e.position === 17 && /line 1, column 18/.test(e.message),
    );
  });
  it('rejects a tenant object that did not come from compileTenant', () => {
    const forged = { ...single } as unknown as typeof single;
    assert.throws(() => enforceQuery('x', forged), TypeError);
    const Ctor = single.constructor as new (...args: unknown[]) => unknown;
    assert.throws(() => new Ctor(Symbol('CompiledTenant'), [], [], [[]], true, 0), TypeError);
  });
});

describe('enforceSeriesSelectors', () => {
  it('scopes every match[] selector', () => {
    assert.deepEqual(enforceSeriesSelectors(['up', '{job=~".+", namespace="b"}'], single), [
      'up{namespace="team-a"}',
      '{job=~".+", namespace="b", namespace="team-a"}',
    ]);
  });
  it('returns the tenant selector for an empty match[]', () => {
    assert.deepEqual(enforceSeriesSelectors([], single), ['{namespace="team-a"}']);
    assert.deepEqual(enforceSeriesSelectors([], multi), ['{namespace=~"team-a|team-b"}']);
  });
  it('crosses match[] with several filters (match[] is ORed)', () => {
    const t = compileTenant(
      { matchers: [{ label: 'ns', values: ['a'] }], filters: ['{env="prod", team="x"}', '{env="dev"}'] },
      { allowSeriesOnlyFilters: true },
    );
    assert.deepEqual(enforceSeriesSelectors(['up', 'node_load1'], t), [
      'up{ns="a", env="prod", team="x"}',
      'up{ns="a", env="dev"}',
      'node_load1{ns="a", env="prod", team="x"}',
      'node_load1{ns="a", env="dev"}',
    ]);
    assert.deepEqual(enforceSeriesSelectors([], t), ['{ns="a", env="prod", team="x"}', '{ns="a", env="dev"}']);
    // A user matcher equal to one filter's matcher must not be dropped from the other variant.
    assert.deepEqual(enforceSeriesSelectors(['up{env="dev"}'], t), [
      'up{env="dev", ns="a", env="prod", team="x"}',
      'up{ns="a", env="dev"}',
    ]);
    assert.throws(() => enforceQuery('up', t), (e: unknown) => e instanceof PromqlEnforceError && e.code === 'ERR_PROMQL_FILTERS_UNSUPPORTED');
  });
  it('refuses expressions that are not plain selectors', () => {
    for (const m of ['rate(x[5m])', 'x[5m]', 'x offset 1m', 'a or b', '1']) {
      assert.throws(() => enforceSeriesSelectors([m], single), (e: unknown) => e instanceof PromqlEnforceError && e.code === 'ERR_PROMQL_NOT_SELECTOR', m);
    }
  });
});
