/**
 * Named bypass attempts. Each one must either come out scoped to the tenant
 * (checked on the raw lezer tree of the output, independently of our
 * converter) or be refused with a PromqlEnforceError.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileTenant, enforceQuery, PromqlEnforceError, PromqlTenantError } from '../../../src/enforce/promql/index.ts';
import { rawSelectors } from './helpers.ts';

const single = compileTenant({ matchers: [{ label: 'namespace', values: ['a'] }] });
const multi = compileTenant({ matchers: [{ label: 'namespace', values: ['a', 'b'] }] });

/**
 * Every selector carries the tenant's own `namespace="a"` exactly once; any other matcher on the
 * label is the user's, kept and ANDed (it can only narrow, or select nothing).
 */
function assertScopedSingle(query: string): string {
  const out = enforceQuery(query, single);
  const sels = rawSelectors(out);
  assert.ok(sels.length > 0, `no selector in ${out}`);
  for (const s of sels) {
    const own = s.matchers.filter((m) => m.name === 'namespace' && m.op === '=' && m.value === 'a');
    assert.equal(own.length, 1, `selector not pinned in ${out}`);
  }
  return out;
}

function assertScopedMulti(query: string): string {
  const out = enforceQuery(query, multi);
  for (const s of rawSelectors(out)) {
    assert.ok(s.matchers.some((m) => m.name === 'namespace' && m.op === '=~' && m.value === 'a|b'), `selector not scoped in ${out}`);
  }
  return out;
}

function assertRefused(query: string, codes: readonly string[] = ['ERR_PROMQL_PARSE']): void {
  assert.throws(
    () => enforceQuery(query, single),
    (e: unknown) => e instanceof PromqlEnforceError && codes.includes(e.code),
    `expected refusal of ${JSON.stringify(query).slice(0, 80)}`,
  );
}

describe('attacks on the tenant label matcher', () => {
  const widening = [
    'x{namespace=~".*"}', 'x{namespace=~".+"}', 'x{namespace=""}', 'x{namespace!="a"}', 'x{namespace!~"a"}',
    'x{namespace="b"}', 'x{namespace="a", namespace=~".*"}', 'x{namespace=`b`}', "x{namespace='b'}",
  ];
  for (const q of widening) {
    it(`single value AND-restricts ${q}`, () => {
      const out = assertScopedSingle(q);
      // The user's matcher survives: the answer never contradicts the query.
      assert.ok(rawSelectors(out)[0]!.matchers.filter((m) => m.name === 'namespace').length >= (q.includes('"a"') && !q.includes('!') ? 1 : 2), out);
    });
    it(`several values AND-restrict ${q}`, () => {
      assertScopedMulti(q);
    });
  }
  it('empty selector on the tenant label alone is still scoped, and keeps the user matcher', () => {
    assert.equal(assertScopedSingle('{namespace=""}'), '{namespace="", namespace="a"}');
    assert.equal(assertScopedSingle('{namespace=~".*"}'), '{namespace=~".*", namespace="a"}');
  });
});

describe('attacks with quoted and escaped label names', () => {
  for (const q of [
    '{"namespace"="b"}', 'x{"namespace"=~".*"}', 'x{"name\\x73pace"="b"}', 'x{"name\\u0073pace"="b"}',
    "x{'namespace'=\"b\"}", 'x{`namespace`="b"}', 'x{"namespace"!="a", namespace="b"}',
  ]) {
    it(`recognises the tenant label in ${q}`, () => {
      assertScopedSingle(q);
    });
  }
  it('a look-alike label name is just another label, and the tenant matcher is still added', () => {
    const out = assertScopedSingle('x{"nam\u0435space"="b"}');
    assert.match(out, /namespace="a"/);
  });
});

describe('__name__ tricks', () => {
  for (const q of [
    '{__name__=~".+"}', '{__name__=~".*", job="x"}', '{"__name__"=~".+"}', '{"up"}', '{__name__="namespace"}',
    '{__name__=~"namespace|up"}', 'sum{namespace="b"}', 'offset_total{namespace="b"}',
  ]) {
    it(q, () => {
      assertScopedSingle(q);
    });
  }
  it('a metric name set twice is refused', () => {
    assertRefused('up{__name__="secret"}');
    assertRefused('{"up", "secret"}');
  });
});

describe('set operators and vector matching across selectors', () => {
  for (const q of [
    'x or secret', 'x unless secret', 'x and on() secret', 'vector(1) or secret', 'x or on(namespace) group_left secret',
    'absent(secret{namespace="b"})', 'x + ignoring(namespace) group_right(namespace) secret',
  ]) {
    it(q, () => {
      assertScopedSingle(q);
    });
  }
});

describe('aggregation parameters and function arguments', () => {
  for (const q of [
    'topk(scalar(count(secret)), x)', 'bottomk(scalar(secret), x)', 'quantile(scalar(secret), x)',
    'limitk(scalar(secret), x)', 'limit_ratio(scalar(secret), x)', 'count_values("namespace", secret)',
    'label_replace(secret, "namespace", "a", "", "")', 'clamp(x, scalar(secret), scalar(other))',
    'histogram_quantile(scalar(secret), rate(x_bucket[5m]))', 'round(x, scalar(secret))',
    'info(x, {namespace="b"})', 'sort_by_label(x, "namespace")',
  ]) {
    it(q, () => {
      assertScopedSingle(q);
    });
  }
  it('prom-label-proxy gap: the parameter selector of topk is enforced, not only the vector', () => {
    const out = assertScopedSingle('topk(scalar(count(secret)), x)');
    assert.equal(out, 'topk(scalar(count(secret{namespace="a"})), x{namespace="a"})');
  });
});

describe('subqueries, offset and @', () => {
  for (const q of [
    'max_over_time(secret[1h:])', 'rate(sum(secret)[5m:1m])', 'max_over_time(rate(secret[5m])[1h:5m] offset 1d)',
    'secret @ end()', 'secret @ start()', 'secret @ 0', 'secret[5m] @ end() offset -1h', 'secret offset 5m @ end()',
    'min_over_time((secret or other)[1h:] @ end())', 'secret OFFSET 5m',
  ]) {
    it(q, () => {
      assertScopedSingle(q);
    });
  }
});

describe('string-literal injection', () => {
  const hostile = ['a", namespace=~".*', 'a\\', 'a\\"} or secret{x="', 'line\nbreak', 'tab\tand\u0000nul', '`back`tick', "it's", 'é😀'];
  for (const v of hostile) {
    it(`tenant value ${JSON.stringify(v)} stays one literal`, () => {
      const t = compileTenant({ matchers: [{ label: 'namespace', values: [v] }] });
      const out = enforceQuery('x', t);
      const sels = rawSelectors(out);
      assert.equal(sels.length, 1, out);
      assert.deepEqual(sels[0]!.matchers, [{ name: 'namespace', op: '=', value: v }], out);
      assert.equal(enforceQuery(out, t), out);
    });
    it(`tenant value ${JSON.stringify(v)} among several stays literal in the regex`, () => {
      const t = compileTenant({ matchers: [{ label: 'namespace', values: [v, 'z'] }] });
      const sels = rawSelectors(enforceQuery('x', t));
      assert.equal(sels.length, 1);
      assert.equal(sels[0]!.matchers.length, 1);
    });
  }
  it('a user string value that looks like PromQL stays a string', () => {
    const out = enforceQuery('x{job="\\"} or secret{job=\\""}', single);
    assert.equal(rawSelectors(out).length, 1, out);
  });
  it('a comment cannot hide a selector or smuggle text into the output', () => {
    const out = enforceQuery('x # } or secret{namespace="b"}\n', single);
    assert.equal(out, 'x{namespace="a"}');
  });
  for (const q of ['x{a="\\z"}', 'x{a="\\u00"}', 'x{a="\\ud800"}', 'x{a="\\xff"}', "x{a='\\\"'}", 'x{a="b\\\nc"}']) {
    it(`refuses an invalid escape: ${JSON.stringify(q)}`, () => {
      assertRefused(q);
    });
  }
});

describe('invalid tenant definitions', () => {
  for (const label of ['name space', '1abc', '__name__', '__tenant', '', 'a-b', 'namespace"', 'ns\n']) {
    it(`label ${JSON.stringify(label)} is refused`, () => {
      assert.throws(() => compileTenant({ matchers: [{ label, values: ['a'] }] }), PromqlTenantError);
    });
  }
  it('empty values are refused (they would match series without the label)', () => {
    assert.throws(() => compileTenant({ matchers: [{ label: 'ns', values: [''] }] }), PromqlTenantError);
    assert.throws(() => compileTenant({ matchers: [{ label: 'ns', values: ['a', ''] }] }), PromqlTenantError);
    assert.throws(() => compileTenant({ matchers: [{ label: 'ns', values: [] }] }), PromqlTenantError);
    assert.throws(() => compileTenant({ matchers: [] }), PromqlTenantError);
  });
  it('lone surrogates and non-strings are refused', () => {
    assert.throws(() => compileTenant({ matchers: [{ label: 'ns', values: ['\ud800'] }] }), PromqlTenantError);
    assert.throws(() => compileTenant({ matchers: [{ label: 'ns', values: [1 as unknown as string] }] }), PromqlTenantError);
  });
  it('the same label twice is refused', () => {
    assert.throws(() => compileTenant({ matchers: [{ label: 'ns', values: ['a'] }, { label: 'ns', values: ['b'] }] }), PromqlTenantError);
  });
});

describe('unparsable input', () => {
  for (const q of [
    'x{namespace="a"}) or (secret', '}{', 'x{', 'x}', 'sum(x) by', 'x[5m', 'x{a="b"} y', 'rate(x[5m]', '\u0000',
    'x{a=~"b"', 'x[5m:1m:1m]', '1 +', '(', 'secret{namespace="a"} or ', 'x @', 'x offset', 'topk(, x)', 'rate(x[5m]) @ end()',
  ]) {
    it(JSON.stringify(q), () => {
      assertRefused(q);
    });
  }
});

describe('resource exhaustion', () => {
  it('very deep parentheses are refused with a clear error, not a stack overflow', () => {
    const q = `${'('.repeat(10_000)}x${')'.repeat(10_000)}`;
    assertRefused(q, ['ERR_PROMQL_TOO_DEEP', 'ERR_PROMQL_PARSE']);
  });
  it('nesting just past the depth limit is ERR_PROMQL_TOO_DEEP', () => {
    assertRefused(`${'sum('.repeat(200)}x${')'.repeat(200)}`, ['ERR_PROMQL_TOO_DEEP']);
    assertRefused(`${'-'.repeat(300)}x`, ['ERR_PROMQL_TOO_DEEP']);
  });
  it('long operator chains are bounded too', () => {
    assertRefused(Array.from({ length: 5000 }, () => 'x').join(' + '), ['ERR_PROMQL_TOO_DEEP', 'ERR_PROMQL_PARSE']);
  });
  it('oversized input is refused before parsing', () => {
    assertRefused(`x{a="${'b'.repeat(70_000)}"}`, ['ERR_PROMQL_TOO_LONG']);
  });
  it('reasonable nesting is accepted', () => {
    assertScopedSingle(`${'abs('.repeat(40)}x${')'.repeat(40)}`);
  });
});
