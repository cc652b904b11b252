// vmselect ORs every value of `extra_filters` and `extra_filters[]`. A url_prefix pinning one of
// the two names must decide both: client copies of either name never reach the backend, and the
// backend URL carries both names, so a VictoriaMetrics that prefers URL args over form args
// (>= 1.143) never falls back to an `extra_filters` sent in a POST form body.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseUrlPrefix } from '../../../src/config/compile.ts';
import { parseRequestTarget } from '../../../src/route/request-target.ts';
import { buildTargetPath } from '../../../src/route/target-url.ts';
import { parseQuery } from '../../../src/lib/go-url.ts';

const prefix = (u: string) => ({ ...parseUrlPrefix(u, []), template: null });
function backendArgs(prefixUrl: string, requestUrl: string, merge: string[] = []): Map<string, string[]> {
  const t = parseRequestTarget(requestUrl);
  assert.ok(t !== null);
  const out = buildTargetPath(prefix(prefixUrl), t, 0, new Set(merge));
  const q = out.indexOf('?');
  return parseQuery(q < 0 ? '' : out.slice(q + 1));
}

const PROD = '{env="prod"}';
const WIDEN = encodeURIComponent('{env="secret"}');

for (const pinned of ['extra_filters', 'extra_filters[]']) {
  const p = `http://vm/?${pinned}=${encodeURIComponent(PROD)}`;
  test(`pinned ${pinned}: client copies of either name are dropped`, () => {
    for (const arg of ['extra_filters', 'extra_filters[]', 'extra_filters%5B%5D', 'extra%5Ffilters']) {
      const args = backendArgs(p, `/api/v1/series?match[]=up&${arg}=${WIDEN}`);
      assert.deepEqual(args.get('extra_filters'), [PROD], arg);
      assert.deepEqual(args.get('extra_filters[]'), [PROD], arg);
      assert.deepEqual(args.get('match[]'), ['up']);
    }
  });

  test(`pinned ${pinned}: the backend URL names both, with or without client args (no form fallback)`, () => {
    for (const url of ['/api/v1/series', '/api/v1/series?', '/api/v1/series?match[]=up']) {
      const args = backendArgs(p, url);
      assert.deepEqual(args.get('extra_filters'), [PROD], url);
      assert.deepEqual(args.get('extra_filters[]'), [PROD], url);
    }
  });
}

test('both names pinned: each keeps its own values', () => {
  const args = backendArgs(`http://vm/?extra_filters=a&extra_filters[]=b`, `/q?extra_filters=${WIDEN}`);
  assert.deepEqual(args.get('extra_filters'), ['a']);
  assert.deepEqual(args.get('extra_filters[]'), ['b']);
});

test('merge_query_args naming the family leaves it to the operator (client filters join)', () => {
  const args = backendArgs('http://vl/?extra_filters=a', '/q?extra_filters=b', ['extra_filters']);
  assert.deepEqual(args.get('extra_filters'), ['a', 'b']);
  assert.equal(args.has('extra_filters[]'), false);
});

test('a prefix without extra_filters is untouched (vmauth parity)', () => {
  const t = parseRequestTarget('/api/v1/query');
  assert.ok(t !== null);
  assert.equal(buildTargetPath(prefix('http://vm/?extra_label=team=dev'), t, 0, new Set()), '/api/v1/query?extra_label=team=dev');
});
