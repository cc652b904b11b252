// The status page and /-/explain, in a real browser: headless Chromium (Debian's package,
// driven by playwright-core) opens the page served by a gateway in front of a real
// VictoriaMetrics, finds every section, sees the broken backend as broken and the latest
// refusal, submits the explain form and reads the enforced query. The page holds no configured
// secret, carries a strict CSP, and is refused without its key. A screenshot is saved.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { basic, startGateway, type Gateway } from '../helpers/gateway.ts';
import { freePort } from '../helpers/processes.ts';
import { chromiumEnv, chromiumPath } from '../helpers/chromium.ts';
import { startVictoriaMetrics, type VictoriaMetrics } from '../helpers/victoria-metrics.ts';

const KEY = 'status-key-0123456789';
const SECRETS = ['team-a-password-42', 'team-b-password-42', 'bearer-token-secret-42', 'limited-password-42', KEY];
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));

let vm: VictoriaMetrics;
let gw: Gateway;
let browser: Browser;

before(async () => {
  vm = await startVictoriaMetrics();
  const dead = await freePort();
  gw = await startGateway(`
users:
- username: team-a
  password: team-a-password-42
  url_prefix: ${vm.url}
  tenant: {labels: {tenant: team-a}}
- username: team-b
  password: team-b-password-42
  url_prefix: ${vm.url}/?extra_label=tenant=team-b
- username: limited
  password: limited-password-42
  url_prefix: ${vm.url}
  limits: {requests_per_second: 0.01, requests_burst: 1}
- name: flaky
  bearer_token: bearer-token-secret-42
  url_prefix: http://127.0.0.1:${dead}
`, { internal: true, flags: [`-statusAuthKey=${KEY}`, '-failTimeout=10m'] });
  // A refusal and a broken backend for the page to show.
  assert.equal((await fetch(`${gw.url}/api/v1/admin/tsdb/delete_series?match[]=up`, { method: 'POST', headers: { authorization: basic('team-a', 'team-a-password-42') } })).status, 403);
  assert.equal((await fetch(`${gw.url}/api/v1/query?query=up`, { headers: { authorization: 'Bearer bearer-token-secret-42' } })).status, 502);
  for (const want of [200, 429]) assert.equal((await fetch(`${gw.url}/api/v1/query?query=up`, { headers: { authorization: basic('limited', 'limited-password-42') } })).status, want);
  browser = await chromium.launch({
    executablePath: chromiumPath(),
    env: chromiumEnv(),
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  await gw?.stop();
  await vm?.stop();
});

describe('status page', () => {
  test('without the key, /status and /-/explain are refused', async () => {
    assert.equal((await fetch(`${gw.internalUrl}/status`)).status, 401);
    assert.equal((await fetch(`${gw.internalUrl}/status?authKey=wrong`)).status, 401);
    assert.equal((await fetch(`${gw.internalUrl}/-/explain?user=team-a&url=/api/v1/query?query=up`)).status, 401);
  });

  test('served with a strict CSP, no script and no configured secret', async () => {
    const res = await fetch(`${gw.internalUrl}/status?authKey=${KEY}`);
    assert.equal(res.status, 200);
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|script-src/);
    const html = await res.text();
    assert.doesNotMatch(html, /<script/i);
    for (const s of SECRETS.slice(0, 4)) assert.ok(!html.includes(s), 'no credential on the page');
  });

  test('in Chromium: every section, the broken backend, the refusal, and the explain form', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const consoleErrors: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    await page.goto(`${gw.internalUrl}/status?authKey=${KEY}`);
    for (const id of ['config', 'backends', 'users', 'refusals', 'explain']) assert.ok(await page.locator(`#${id}`).isVisible(), `section #${id}`);
    const backends = await page.locator('#backends + p').innerText();
    assert.match(backends, /1 broken backend/);
    const brokenItem = await page.locator('#backends ~ ul li').first().innerText();
    assert.match(brokenItem, /flaky/);
    assert.match(brokenItem, /ECONNREFUSED|connect/);
    const refusals = await page.locator('#refusals + table').innerText();
    assert.match(refusals, /team-a/);
    assert.match(refusals, /tenant_admin_path/);
    assert.match(refusals, /delete_series/);
    const users = await page.locator('#users + table').innerText();
    assert.match(users, /tenant=team-a/);
    assert.match(users, /requests 0\.01\/s \(burst 1\); budget user:limited/);
    assert.match(users, /refused: requests 1/);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTIFACTS}status-page.png`, fullPage: true });

    await page.locator('input[name="user"]').fill('team-a');
    await page.locator('input[name="url"]').fill('/api/v1/query?query=sum(rate(http_requests_total[5m]))');
    await page.locator('button[type="submit"]').click();
    await page.waitForSelector('#explanation');
    const explanation = await page.locator('#explanation').innerText();
    assert.equal(await page.locator('#explanation').getAttribute('data-decision'), 'forward');
    assert.match(explanation, /tenant\s+tenant=team-a \(enforce: promql\), classified as read/);
    assert.match(explanation, /http_requests_total%7Btenant%3D%22team-a%22%7D/);
    await page.screenshot({ path: `${ARTIFACTS}status-explain.png`, fullPage: true });
    for (const s of SECRETS.slice(0, 4)) assert.ok(!(await page.content()).includes(s));
    assert.deepEqual(consoleErrors, [], 'no CSP violations or other console errors');
    await page.close();
  });

  test('/-/explain answers JSON that matches what the backend receives', async () => {
    const res = await fetch(`${gw.internalUrl}/-/explain?authKey=${KEY}&user=team-b&method=GET&url=${encodeURIComponent('/api/v1/query?query=up&extra_label=tenant=team-a')}`);
    assert.equal(res.status, 200);
    const e = await res.json() as { decision: string; forward: { requests: { path: string }[] } };
    assert.equal(e.decision, 'forward');
    // url_prefix args win over the client's: the backend sees only team-b.
    assert.equal(e.forward.requests[0]?.path, '/api/v1/query?extra_label=tenant%3Dteam-b&query=up');
  });
});
