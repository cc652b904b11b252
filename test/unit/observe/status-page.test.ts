// The status page escapes everything a client or the config can influence: request paths in the
// refusal list (chosen by any client), user names, backend errors. No script can get in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderStatusPage, STATUS_CSP, escapeHtml, type StatusData } from '../../../src/observe/status-page.ts';

const hostile = `"><script>alert(1)</script><img src=x onerror=alert(2)>`;

function data(over: Partial<StatusData> = {}): StatusData {
  return {
    version: '0.1.0', process: 'pid 1', now: 1_000_000, startedAt: 900_000,
    config: { source: '/etc/auth.yml', sha256: 'ab'.repeat(32), loadedAt: 950_000, lastReload: { at: 990_000, result: 'failed', error: `line 3: ${hostile}` } },
    global: { current: 1, capacity: 10 },
    users: [{ name: hostile, kind: 'basic', requests: 3, errors: 1, backendErrors: 0, inFlight: 0, capacity: 5, limitReached: 0, rateLimits: `requests 1/s (burst 1); budget ${hostile}`, rateLimited: [['requests', 2]], routes: [{ name: 'users[0]', match: 'url_prefix', tenant: `tenant=${hostile}`, policy: 'least_loaded', backends: [{ url: 'http://b:1', healthy: false, inFlight: 0, lastError: hostile, lastErrorAt: 999_000, brokenUntil: 2_000_000 }] }] }],
    refusals: [{ at: 999_500, user: hostile, method: 'GET', path: `/${hostile}`, status: 403, reason: 'tenant_path_not_allowed' }],
    authQuery: 'authKey=k%22%3E', form: { user: hostile, method: 'GET', url: `/x?${hostile}` },
    ...over,
  };
}

test('every client- or config-controlled string is escaped', () => {
  const html = renderStatusPage(data());
  assert.ok(!html.includes('<script'), 'no script element');
  assert.ok(!html.includes('<img'), 'no injected element');
  assert.ok(html.includes(escapeHtml(hostile)));
});

test('the authKey the page was opened with is kept in the form, escaped', () => {
  const html = renderStatusPage(data());
  assert.match(html, /<input type="hidden" name="authKey" value="k&quot;&gt;">/);
});

test('a healthy gateway says so; a broken backend is listed with its error', () => {
  const ok = renderStatusPage(data({ users: [] }));
  assert.match(ok, /All backends healthy/);
  const bad = renderStatusPage(data());
  assert.match(bad, /1 broken backend:/);
});

test('the CSP allows only the page\'s own style, by hash, and forms to itself', () => {
  assert.match(STATUS_CSP, /^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/]+=*'; form-action 'self'/);
  assert.doesNotMatch(STATUS_CSP, /unsafe/);
});
