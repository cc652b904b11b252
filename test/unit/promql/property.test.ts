/**
 * Property-based checks with generated PromQL: the enforced output parses
 * without error nodes, every selector carries the tenant matchers, the
 * selector count is unchanged, and enforcing twice equals enforcing once.
 * Seeded so runs are reproducible (override with FC_SEED).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { compileTenant, enforceQuery, PromqlEnforceError } from '../../../src/enforce/promql/index.ts';
import { rawSelectors } from './helpers.ts';

const SEED = Number(process.env.FC_SEED ?? 20260101);
const RUNS = 500;

function quoteWith(q: '"' | "'" | '`', v: string): string | null {
  if (q === '`') return v.includes('`') || v.includes('\r') ? null : `\`${v}\``;
  let out = q;
  for (const ch of v) {
    if (ch === '\\') out += '\\\\';
    else if (ch === q) out += `\\${q}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else out += ch;
  }
  return out + q;
}

const valueArb = fc.oneof(
  fc.constantFrom('a', 'b', 'team-a', '', '.*', '.+', 'a|b', 'prod'),
  fc.string({ maxLength: 8 }),
  fc.array(fc.constantFrom('"', "'", '\\', '\n', '`', '}', '{', ',', ' ', 'x', 'é', '😀'), { maxLength: 6 }).map((a) => a.join('')),
);
const quoteArb = fc.constantFrom<'"' | "'" | '`'>('"', '"', "'", '`');
const stringLit = fc.tuple(quoteArb, valueArb).map(([q, v]) => quoteWith(q, v) ?? quoteWith('"', v)!);

const plainLabelArb = fc.oneof(
  fc.constantFrom('job', 'namespace', 'pod', 'instance', 'le', 'mode'),
  fc.constantFrom('"namespace"', "'namespace'", '"name\\x73pace"', '"ns.with.dots"', '"job"'),
);
const opArb = fc.constantFrom('=', '!=', '=~', '!~');
// Matchers for selectors that already name their metric: a __name__ matcher there is refused (set twice).
const matcherArb = fc.tuple(plainLabelArb, opArb, stringLit).map(([l, o, v]) => `${l}${o}${v}`);
const anyMatcherArb = fc.oneof(matcherArb, fc.tuple(opArb, stringLit).map(([o, v]) => `__name__${o}${v}`));
const metricArb = fc.constantFrom('up', 'http_requests_total', 'node:cpu:rate5m', 'x', 'sum', 'rate', 'by_total');
const durArb = fc.constantFrom('5m', '1h', '30s', '1d', '1h30m', '2w');

const selectorArb = fc.oneof(
  fc.tuple(metricArb, fc.array(matcherArb, { maxLength: 3 })).map(([m, ms]) => (ms.length === 0 ? m : `${m}{${ms.join(', ')}}`)),
  fc.array(anyMatcherArb, { minLength: 1, maxLength: 3 }).map((ms) => `{${ms.join(',')}}`),
  fc.tuple(fc.constantFrom('"quoted.metric"', '"up"'), fc.array(matcherArb, { maxLength: 2 })).map(([m, ms]) => `{${[m, ...ms].join(', ')}}`),
);
const modifierArb = fc.constantFrom('', '', ' offset 5m', ' offset -1h', ' @ end()', ' @ start()', ' @ 1700000000', ' offset 1m @ end()');
const matrixArb = fc.tuple(selectorArb, durArb, modifierArb).map(([s, d, m]) => `${s}[${d}]${m}`);

const aggOps = ['sum', 'avg', 'min', 'max', 'count', 'group', 'stddev', 'stdvar'] as const;
const binOps = ['+', '-', '*', '/', '%', '^', '==', '!=', '>', '<', '>=', '<=', 'and', 'or', 'unless', 'atan2'] as const;

const { expr } = fc.letrec<{ expr: string; scalar: string }>((tie) => ({
  expr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.tuple(selectorArb, modifierArb).map(([s, m]) => s + m),
    fc.constantFrom('1', '-2.5', '0x1f', 'Inf', 'NaN', '1e3'),
    tie('expr').map((e) => `(${e})`),
    fc.tuple(fc.constantFrom('abs', 'ceil', 'sort', 'sort_desc', 'exp', 'timestamp', 'absent'), tie('expr')).map(([f, e]) => `${f}(${e})`),
    fc.tuple(fc.constantFrom('rate', 'irate', 'increase', 'delta', 'max_over_time', 'count_over_time', 'absent_over_time'), matrixArb).map(([f, m]) => `${f}(${m})`),
    fc.tuple(fc.constantFrom(...aggOps), fc.constantFrom('', ' by (pod)', ' without (instance, "ns.x")', ' by ()'), tie('expr'), fc.boolean()).map(
      ([op, mod, e, after]) => (after ? `${op}(${e})${mod}` : `${op}${mod}(${e})`),
    ),
    fc.tuple(fc.constantFrom('topk', 'bottomk', 'limitk', 'quantile', 'limit_ratio'), tie('scalar'), tie('expr')).map(([op, p, e]) => `${op}(${p}, ${e})`),
    fc.tuple(stringLit, tie('expr')).map(([s, e]) => `count_values(${s}, ${e})`),
    tie('expr').map((e) => `label_replace(${e}, "dst", "$1", "namespace", "(.*)")`),
    fc.tuple(
      tie('expr'),
      fc.constantFrom(...binOps),
      fc.constantFrom('', ' on(pod)', ' ignoring(namespace)', ' on(pod) group_left', ' on(pod) group_left(node)', ' ignoring(a) group_right()'),
      tie('expr'),
    ).map(([l, op, mod, r]) => {
      const bool = ['==', '!=', '>', '<', '>=', '<='].includes(op) && r.length % 2 === 0 ? ' bool' : '';
      let matching = op === 'and' || op === 'or' || op === 'unless' ? mod.replace(/ group_(left|right)(\([^)]*\))?/, '') : mod;
      // A bare group_left followed by "(" reads the operand as its label list (in Prometheus too).
      if (matching.endsWith('group_left') && r.startsWith('(')) matching += '()';
      return `${l} ${op}${bool}${matching} ${r}`;
    }),
    fc.tuple(tie('expr'), durArb, fc.constantFrom('', '1m'), modifierArb.filter((m) => !m.includes('start'))).map(
      ([e, d, s, m]) => `max_over_time((${e})[${d}:${s}]${m})`,
    ),
    tie('expr').map((e) => `-${e}`),
  ),
  scalar: fc.oneof(
    fc.constantFrom('5', '0.9'),
    tie('expr').map((e) => `scalar(${e})`),
    tie('expr').map((e) => `scalar(count(${e}))`),
  ),
}));

function tenantMatchersOk(query: string, check: (ms: { name: string; op: string; value: string }[]) => boolean): void {
  for (const s of rawSelectors(query)) assert.ok(check(s.matchers), `selector without tenant matchers in: ${query}`);
}

describe('property: generated PromQL', () => {
  const single = compileTenant({ matchers: [{ label: 'namespace', values: ['a'] }] }, { cacheSize: 0 });
  const multi = compileTenant(
    { matchers: [{ label: 'namespace', values: ['a', 'b"c'] }], filters: ['{env=~"prod|dev"}'] },
    { cacheSize: 0 },
  );

  it('single value: output parses, every selector pinned, count unchanged, idempotent', () => {
    fc.assert(
      fc.property(expr, (q) => {
        let out: string;
        try {
          out = enforceQuery(q, single);
        } catch (e) {
          // The generator can nest past the depth limit; nothing else may fail.
          if (e instanceof PromqlEnforceError && e.code === 'ERR_PROMQL_TOO_DEEP') return;
          throw e;
        }
        tenantMatchersOk(out, (ms) => {
          // The tenant's matcher exactly once; user matchers on the label may stay beside it (ANDed).
          const own = ms.filter((m) => m.name === 'namespace' && m.op === '=' && m.value === 'a');
          return own.length === 1;
        });
        assert.equal(rawSelectors(out).length, rawSelectors(q).length);
        assert.equal(enforceQuery(out, single), out);
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });

  it('several values and a filter: every selector ANDed with both, idempotent', () => {
    fc.assert(
      fc.property(expr, (q) => {
        let out: string;
        try {
          out = enforceQuery(q, multi);
        } catch (e) {
          if (e instanceof PromqlEnforceError && e.code === 'ERR_PROMQL_TOO_DEEP') return;
          throw e;
        }
        tenantMatchersOk(
          out,
          (ms) =>
            ms.some((m) => m.name === 'namespace' && m.op === '=~' && m.value === 'a|b"c') &&
            ms.some((m) => m.name === 'env' && m.op === '=~' && m.value === 'prod|dev'),
        );
        assert.equal(enforceQuery(out, multi), out);
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });

  it('arbitrary text: either refused with PromqlEnforceError or scoped', () => {
    const pieces = fc.constantFrom(
      'x', 'sum', '(', ')', '{', '}', '[5m]', '[5m:]', ' offset 1m', ' @ end()', 'namespace', '=', '=~', '"b"', '".*"', ',', ' or ', ' by (a) ',
      'rate', 'topk', '1', ' + ', '#', '\n', "'", '`', '\\', '"', 'on(a)', ' bool ', '-',
    );
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 14 }).map((a) => a.join('')), (q) => {
        let out: string;
        try {
          out = enforceQuery(q, single);
        } catch (e) {
          assert.ok(e instanceof PromqlEnforceError, `unexpected ${String(e)} for ${JSON.stringify(q)}`);
          return;
        }
        tenantMatchersOk(out, (ms) => ms.filter((m) => m.name === 'namespace').length === 1 && ms.some((m) => m.name === 'namespace' && m.value === 'a' && m.op === '='));
        assert.equal(enforceQuery(out, single), out);
      }),
      { numRuns: RUNS * 2, seed: SEED },
    );
  });
});
