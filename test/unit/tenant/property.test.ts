// Property-based checks through the policy (fast-check, seeded):
//  - victoriametrics: whatever args a client sends (any encoding of the key names, in the URL or
//    a form body), the backend, parsing with Go's rules, sees exactly the tenant's extra_label and
//    extra_filters[] and no client copy;
//  - promql: the forwarded query parses, every selector carries the tenant matcher, and
//    enforcing the output again changes nothing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { argsOf, forwarded, policy, run } from './helpers.ts';
import { DASHBOARD_QUERIES } from '../promql/corpus.ts';
import { everySelectorHas } from '../promql/helpers.ts';

const SEED = Number(process.env.FC_SEED ?? 20261122);

// Raw key spellings: plain, percent-encoded in various ways, and near-misses.
const keyArb = fc.constantFrom(
  'extra_label', 'extra_filters', 'extra_filters[]', 'extra_filters%5B%5D', 'extra_filters%5b%5d', 'extra%5Flabel', 'extra%5ffilters',
  'Extra_label', 'extra_label;x', 'extra_filters%', 'query', 'match[]', 'start', 'extra+label', '',
);
const valueArb = fc.oneof(
  fc.constantFrom('namespace=b', '{namespace="b"}', '{}', '{__name__=~".+"}', 'up', '%7B%7D', '%', '+', '&', '='),
  fc.string({ maxLength: 6 }),
);
const pairsArb = fc.array(fc.tuple(keyArb, valueArb, fc.boolean()), { maxLength: 8 })
  .map((ps) => ps.map(([k, v, enc]) => `${k}=${enc ? encodeURIComponent(v) : v}`).join('&'));

test('victoriametrics: no client extra_label / extra_filters survives, in URL or body', () => {
  const vm = policy({ enforce: 'victoriametrics', labels: { namespace: 'a' }, filters: ['{env="prod"}'] });
  fc.assert(fc.property(pairsArb, pairsArb, fc.boolean(), (query, body, post) => {
    const d = run(vm, post
      ? { method: 'POST', path: '/api/v1/query', query, body, headers: { 'content-type': 'application/x-www-form-urlencoded' } }
      : { path: '/api/v1/query', query });
    const { url, form } = argsOf(forwarded(d));
    assert.deepEqual(url.get('extra_label'), ['namespace=a']);
    assert.deepEqual(url.get('extra_filters[]'), ['{env="prod"}']);
    assert.equal(url.get('extra_filters'), undefined);
    for (const k of ['extra_label', 'extra_filters', 'extra_filters[]']) assert.equal(form?.get(k), undefined, k);
  }), { seed: SEED, numRuns: 400 });
});

// Selector fragments an attacker may try, spliced into dashboard queries.
const attackArb = fc.constantFrom(
  '{namespace=~".*"}', '{namespace=""}', '{"namespace"="b"}', 'secret{namespace="b"}', '{__name__=~".+"}',
  'x or y{namespace!="a"}', 'topk(scalar(count(s)), up)', 'max_over_time(s[5m:1m])', 'absent(nope)',
);
const queryArb = fc.oneof(fc.constantFrom(...DASHBOARD_QUERIES), attackArb, fc.tuple(fc.constantFrom(...DASHBOARD_QUERIES), attackArb).map(([a, b]) => `(${a}) or ${b}`));

test('promql: enforced queries parse, are scoped in every selector, and are stable', () => {
  const pq = policy({ labels: { namespace: 'a' } });
  fc.assert(fc.property(queryArb, fc.boolean(), (q, inBody) => {
    const d = run(pq, inBody
      ? { method: 'POST', path: '/api/v1/query', body: `query=${encodeURIComponent(q)}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } }
      : { path: '/api/v1/query', query: `query=${encodeURIComponent(q)}` });
    const { url, form } = argsOf(forwarded(d));
    const out = (inBody ? form!.get('query') : url.get('query'))!;
    assert.equal(out.length, 1);
    assert.ok(everySelectorHas(out[0]!, [{ name: 'namespace', op: '=', value: 'a' }]), out[0]);
    const again = argsOf(forwarded(run(pq, { path: '/api/v1/query', query: `query=${encodeURIComponent(out[0]!)}` }))).url.get('query');
    assert.deepEqual(again, out);
  }), { seed: SEED, numRuns: 300 });
});
