// The client address IP filters judge when a real-IP header is configured.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_FORWARDED_HOPS, realClientIp, TrustedProxies } from '../../../src/authorize/real-ip.ts';

const lb = new TrustedProxies(['127.0.0.1', '10.0.0.0/24']);
const xff = (v: string | string[]) => ({ 'x-forwarded-for': v });

test('a client-written left-most X-Forwarded-For entry is not the address: the right-most untrusted hop is', () => {
  // the client sent "10.9.9.9"; the trusted proxy appended the address it saw
  assert.equal(realClientIp('127.0.0.1', xff('10.9.9.9, 198.51.100.7'), 'x-forwarded-for', lb), '198.51.100.7');
  assert.equal(realClientIp('127.0.0.1', xff('10.9.9.9, 198.51.100.7, 10.0.0.5'), 'x-forwarded-for', lb), '198.51.100.7', 'trusted hops are skipped');
  assert.equal(realClientIp('127.0.0.1', xff(['10.9.9.9', '198.51.100.7']), 'x-forwarded-for', lb), '198.51.100.7', 'repeated header lines are one list');
});

test('the header is ignored unless the connection comes from a trusted proxy', () => {
  assert.equal(realClientIp('203.0.113.9', xff('10.0.0.7'), 'x-forwarded-for', lb), '203.0.113.9');
  assert.equal(realClientIp('127.0.0.1', xff('10.0.0.7'), 'x-forwarded-for', null), '127.0.0.1', 'no trusted proxies: never believed');
  assert.equal(realClientIp('127.0.0.1', {}, 'x-forwarded-for', lb), '127.0.0.1', 'absent header: the peer');
});

test('every hop trusted: the left-most; a malformed or overlong chain matches nothing', () => {
  assert.equal(realClientIp('127.0.0.1', xff('10.0.0.3, 10.0.0.4'), 'x-forwarded-for', lb), '10.0.0.3');
  assert.equal(realClientIp('127.0.0.1', xff('198.51.100.7, not-an-ip'), 'x-forwarded-for', lb), '');
  assert.equal(realClientIp('127.0.0.1', xff(Array.from({ length: MAX_FORWARDED_HOPS + 1 }, () => '10.0.0.3').join(',')), 'x-forwarded-for', lb), '');
});

test('single-value headers (X-Real-IP) work the same way', () => {
  assert.equal(realClientIp('10.0.0.1', { 'x-real-ip': '198.51.100.7' }, 'x-real-ip', lb), '198.51.100.7');
  assert.equal(realClientIp('::ffff:10.0.0.1', { 'x-real-ip': '198.51.100.7' }, 'x-real-ip', lb), '198.51.100.7', 'IPv4-mapped peers');
});

test('invalid trusted proxy entries are refused with their position', () => {
  assert.throws(() => new TrustedProxies(['10.0.0.0/8', 'nope']), /invalid IP or CIDR "nope"/);
  assert.throws(() => new TrustedProxies(['10.0.0.0/40']), /prefix length/);
});
