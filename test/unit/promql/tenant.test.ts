import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileTenant, enforceQuery, enforceSeriesSelectors, PromqlTenantError } from '../../../src/enforce/promql/index.ts';
import { decodePromqlString, escapeRegex, quotePromqlString } from '../../../src/enforce/promql/strings.ts';
import { RE2JS } from 're2js';

describe('compileTenant: filters', () => {
  it('one filter: its matchers (and a metric name) are ANDed into every selector', () => {
    const t = compileTenant({ matchers: [{ label: 'ns', values: ['a'] }], filters: ['{env="prod", team!="x"}'] });
    assert.equal(enforceQuery('up', t), 'up{ns="a", env="prod", team!="x"}');
    const named = compileTenant({ matchers: [{ label: 'ns', values: ['a'] }], filters: ['up{env="prod"}'] });
    assert.equal(enforceQuery('sum(x)', named), 'sum(x{ns="a", __name__="up", env="prod"})');
  });
  it('several single-label positive filters merge into one exact regex', () => {
    const t = compileTenant({ matchers: [{ label: 'ns', values: ['a'] }], filters: ['{env="prod"}', '{env=~"dev.*"}', '{env="a.b"}'] });
    assert.equal(enforceQuery('up', t), 'up{ns="a", env=~"(?:prod)|(?:dev.*)|(?:a\\\\.b)"}');
    const re = RE2JS.compile('^(?:(?:prod)|(?:dev.*)|(?:a\\.b))$');
    for (const v of ['prod', 'dev', 'dev-1', 'a.b']) assert.ok(re.matches(v), v);
    for (const v of ['production', 'axb', 'xdev', '']) assert.ok(!re.matches(v), v);
  });
  it('several filters of other shapes are refused by default, with a clear message', () => {
    for (const filters of [['{env="prod", team="x"}', '{env="dev"}'], ['{env="prod"}', '{team="x"}'], ['{env="prod"}', '{env!="dev"}']]) {
      assert.throws(
        () => compileTenant({ matchers: [{ label: 'ns', values: ['a'] }], filters }),
        (e: unknown) => e instanceof PromqlTenantError && e.field === 'filters' && /allowSeriesOnlyFilters/.test(e.message),
      );
    }
  });
  it('allowSeriesOnlyFilters gives a tenant for match[] endpoints only', () => {
    const t = compileTenant({ matchers: [{ label: 'ns', values: ['a'] }], filters: ['{env="prod"}', '{team="x"}'] }, { allowSeriesOnlyFilters: true });
    assert.equal(t.queryable, false);
    assert.deepEqual(enforceSeriesSelectors(['up'], t), ['up{ns="a", env="prod"}', 'up{ns="a", team="x"}']);
  });
  it('invalid filters are refused', () => {
    for (const f of ['rate(x[5m])', '{env=~"("}', 'not a selector {', '{}', 'x offset 5m', 42 as unknown as string]) {
      assert.throws(() => compileTenant({ matchers: [{ label: 'ns', values: ['a'] }], filters: [f] }), PromqlTenantError, String(f));
    }
  });
  it('a filter identical to the tenant matcher is not duplicated', () => {
    const t = compileTenant({ matchers: [{ label: 'ns', values: ['a'] }], filters: ['{ns="a"}'] });
    assert.equal(enforceQuery('up', t), 'up{ns="a"}');
  });
  it('normalises values (sorted, de-duplicated) so equal tenants produce equal queries', () => {
    const a = compileTenant({ matchers: [{ label: 'ns', values: ['b', 'a', 'b'] }] });
    const b = compileTenant({ matchers: [{ label: 'ns', values: ['a', 'b'] }] });
    assert.equal(enforceQuery('x', a), enforceQuery('x', b));
    assert.deepEqual(a.matchers, [{ label: 'ns', values: ['a', 'b'] }]);
  });
});

describe('string literals', () => {
  it('decodes Go escapes like the Prometheus lexer', () => {
    assert.equal(decodePromqlString('"a\\nb\\t\\\\\\"\\x41\\101\\u00e9\\U0001F600"'), 'a\nb\t\\"AAé😀');
    assert.equal(decodePromqlString("'it\\'s'"), "it's");
    assert.equal(decodePromqlString('`raw \\n`'), 'raw \\n');
    assert.equal(decodePromqlString('"\\xc3\\xa9"'), 'é');
  });
  it('rejects what Go rejects', () => {
    for (const bad of ['"abc', '"\\q"', '"\\\'"', "'\\\"'", '"\\x4"', '"\\400"', '"\\ud800"', '"\\xff"', '"a\nb"', '"a"b"']) {
      assert.throws(() => decodePromqlString(bad), Error, bad);
    }
  });
  it('quoting round-trips every value', () => {
    for (const v of ['', 'plain', 'a"b', 'a\\b', 'new\nline', '\u0000\u0001\u007f', 'tab\t', 'é😀', '`', "'"]) {
      assert.equal(decodePromqlString(quotePromqlString(v)), v);
    }
  });
  it('regex escaping leaves a literal', () => {
    const v = 'a.b*c+d?e(f)g[h]i{j}k|l^m$n\\o';
    const re = RE2JS.compile(`^(?:${escapeRegex(v)})$`);
    assert.ok(re.matches(v));
    assert.ok(!re.matches('aXb*c+d?e(f)g[h]i{j}k|l^m$n\\o'));
  });
});
