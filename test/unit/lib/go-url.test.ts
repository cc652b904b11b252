// The native fast paths of go-url.ts must give exactly what the byte-level Go reimplementation
// gives, for any input: these functions decide what every backend receives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { escapePath, escapePathBytes, queryEscape, queryEscapeBytes, unescape, unescapeBytes } from '../../../src/lib/go-url.ts';

const interesting = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: fc.constantFrom('%', '+', '2', 'F', 'e', 'Z', 'é', '€', '😀', ' ', '!', '*', "'", '(', ')', '/', '?', '#', '[', '$', '&', '=', '@', ':', ';', ','), maxLength: 30 }),
);

test('escapePath equals the byte-level Go path escaper', () => {
  fc.assert(fc.property(interesting, (s) => { assert.equal(escapePath(s), escapePathBytes(s)); }), { numRuns: 3000, seed: 42 });
});

test('queryEscape equals the byte-level Go QueryEscape', () => {
  fc.assert(fc.property(interesting, (s) => { assert.equal(queryEscape(s), queryEscapeBytes(s)); }), { numRuns: 3000, seed: 43 });
});

test('unescape equals the byte-level Go unescape (both modes), including malformed escapes', () => {
  fc.assert(fc.property(interesting, fc.boolean(), (s, plus) => { assert.equal(unescape(s, plus), unescapeBytes(s, plus)); }), { numRuns: 3000, seed: 44 });
});

test('known Go outputs', () => {
  assert.equal(queryEscape('sum(rate(x[5m])) by (job)'), 'sum%28rate%28x%5B5m%5D%29%29+by+%28job%29');
  assert.equal(escapePath("/a b/(c)/d:e@f$g&h=i+j,k;l!m*n'o"), "/a%20b/%28c%29/d:e@f$g&h=i+j,k;l%21m%2An%27o");
  assert.equal(unescape('a+b%20c', true), 'a b c');
  assert.equal(unescape('a+b%20c', false), 'a+b c');
  assert.equal(unescape('%zz', true), null);
  assert.equal(unescape('%', false), null);
  assert.equal(unescape('%ff', false), unescapeBytes('%ff', false));
});
