// XXH64 (seed 0) against the reference vectors, for vmauth's token-user label.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { xxhash64 } from '../../../src/observe/xxhash64.ts';

const hex = (s: string) => xxhash64(new TextEncoder().encode(s)).toString(16).toUpperCase().padStart(16, '0');

test('reference vectors of every length class (empty, <4, <8, <32, >=32 bytes)', () => {
  assert.equal(hex(''), 'EF46DB3751D8E999');
  assert.equal(hex('a'), 'D24EC4F1A98C6E5B');
  assert.equal(hex('abc'), '44BC2CF5AD770999');
  assert.equal(hex('Nobody inspects the spammish repetition'), 'FBCEA83C8A378BF1');
});
