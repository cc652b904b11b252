// Operations, end to end: exact per-user counters at /metrics after known traffic, token
// rotation by hot reload while requests flow, and a broken config that keeps the old one.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { basic, startGateway, type Gateway } from '../helpers/gateway.ts';
import { startEchoBackend, type EchoBackend } from '../helpers/echo-backend.ts';
import { sleep } from '../helpers/processes.ts';

let backend: EchoBackend;

before(async () => { backend = await startEchoBackend('ops'); });
after(async () => { await backend?.close(); });

function metricValue(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('metrics', () => {
  let gw: Gateway;
  before(async () => {
    gw = await startGateway(`
users:
- username: alice
  password: alice-Secret-1
  metric_labels: {team: red}
  url_map:
  - src_paths: ["/ok/.*"]
    url_prefix: "${backend.url}"
- username: bob
  name: robert
  password: b
  url_prefix: "http://127.0.0.1:1/"
unauthorized_user:
  url_map:
  - src_paths: ["/public"]
    url_prefix: "${backend.url}"
`);
  });
  after(async () => { await gw?.stop(); });

  test('per-user counters count exactly the traffic sent', async () => {
    for (let i = 0; i < 5; i++) await (await fetch(`${gw.url}/ok/${i}`, { headers: { authorization: basic('alice', 'alice-Secret-1') } })).text();
    for (let i = 0; i < 2; i++) await (await fetch(`${gw.url}/missing`, { headers: { authorization: basic('alice', 'alice-Secret-1') } })).text();
    for (let i = 0; i < 3; i++) await (await fetch(`${gw.url}/x`, { headers: { authorization: basic('bob', 'b') } })).text();
    for (let i = 0; i < 4; i++) await (await fetch(`${gw.url}/public`)).text();
    await (await fetch(`${gw.url}/x`, { headers: { authorization: basic('alice', 'wrong') } })).text();
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    assert.equal(metricValue(text, 'vmauth_user_requests_total{team="red",username="alice"}'), 7);
    assert.equal(metricValue(text, 'vmauth_user_request_errors_total{team="red",username="alice"}'), 2);
    assert.equal(metricValue(text, 'vmauth_user_request_backend_requests_total{team="red",username="alice"}'), 5);
    assert.equal(metricValue(text, 'vmauth_user_requests_total{username="robert"}'), 3, '`name` replaces the username label');
    assert.equal(metricValue(text, 'vmauth_user_request_errors_total{username="robert"}'), 3);
    assert.equal(metricValue(text, 'vmauth_user_request_backend_errors_total{username="robert"}'), 3);
    assert.equal(metricValue(text, 'vmauth_unauthorized_user_requests_total'), 5, 'four public requests and one wrong password');
    assert.equal(metricValue(text, 'vmauth_http_request_errors_total{reason="missing_route"}'), 2);
    assert.equal(metricValue(text, 'vmauth_user_request_duration_seconds_count{team="red",username="alice"}'), 7);
    assert.match(text, /vmauth_user_request_duration_seconds\{team="red",username="alice",quantile="0\.99"\} [0-9.e-]+/);
    assert.equal(metricValue(text, 'vmauth_user_concurrent_requests_capacity{username="robert"}'), 100);
    assert.equal(metricValue(text, 'vmauth_concurrent_requests_capacity'), 1000);
    assert.match(text, /vm_app_version\{version="tenantgate-v[^"]+",short_version="v[^"]+"\} 1/);
    assert.match(text, /process_resident_memory_bytes \d+/);
    assert.ok(!text.includes('alice-Secret-1'), 'no secret in /metrics');
    assert.match(text, /flag\{name="httpAuth.password",value="",is_set="false"\} 0/);
  });
});

describe('hot reload', () => {
  const config = (tokens: string[]) => `users:\n${tokens.map((t, i) => `- bearer_token: "${t}"\n  name: client-${i}\n  url_prefix: "${backend.url}/"\n`).join('')}`;

  test('token rotation under load: no failed request, old token refused after the swap, new accepted', async () => {
    const gw = await startGateway(config(['old-token']));
    try {
      let stop = false;
      let failures = 0;
      let sent = 0;
      // A bounded client loop using whichever token is current, like a fleet that rotates.
      let token = 'old-token';
      const worker = async () => {
        for (let i = 0; i < 2000 && !stop; i++) {
          const res = await fetch(`${gw.url}/q`, { headers: { authorization: `Bearer ${token}` } });
          await res.arrayBuffer();
          sent++;
          if (res.status !== 200) failures++;
        }
      };
      const load = Promise.all([worker(), worker(), worker(), worker()]);
      await sleep(300);
      gw.writeConfig(config(['old-token', 'new-token']));      // step 1: add the new token
      assert.equal((await fetch(`${gw.url}/-/reload`)).status, 200);
      token = 'new-token';                                     // clients switch
      await sleep(300);
      gw.writeConfig(config(['new-token']));                   // step 2: retire the old token
      process.kill(gw.proc.pid, 'SIGHUP');
      await sleep(500);
      stop = true;
      await load;
      assert.ok(sent > 50, `only ${sent} requests were sent`);
      assert.equal(failures, 0, `${failures} of ${sent} requests failed during rotation`);
      assert.equal((await fetch(`${gw.url}/q`, { headers: { authorization: 'Bearer old-token' } })).status, 401);
      assert.equal((await fetch(`${gw.url}/q`, { headers: { authorization: 'Bearer new-token' } })).status, 200);
      const m = await (await fetch(`${gw.url}/metrics`)).text();
      assert.equal(metricValue(m, 'vmauth_config_last_reload_successful'), 1);
    } finally {
      await gw.stop();
    }
  });

  test('a broken config keeps the old one serving and flips the reload metric', async () => {
    const gw = await startGateway(config(['t1']));
    try {
      gw.writeConfig('users:\n- bearer_token: t2\n  url_prefix: "ftp://nope"\n');
      const r = await fetch(`${gw.url}/-/reload`);
      assert.equal(r.status, 400);
      assert.equal((await fetch(`${gw.url}/q`, { headers: { authorization: 'Bearer t1' } })).status, 200, 'old config still serves');
      assert.equal((await fetch(`${gw.url}/q`, { headers: { authorization: 'Bearer t2' } })).status, 401);
      const m = await (await fetch(`${gw.url}/metrics`)).text();
      assert.equal(metricValue(m, 'vmauth_config_last_reload_successful'), 0);
      assert.equal(metricValue(m, 'vmauth_config_last_reload_errors_total'), 1);
      assert.match(gw.proc.output(), /auth\.yml:3:15: users\[0\]\.url_prefix: unsupported scheme "ftp"/);
      // Fixing the file recovers.
      gw.writeConfig(config(['t2']));
      process.kill(gw.proc.pid, 'SIGHUP');
      for (let i = 0; i < 50; i++) {
        if ((await fetch(`${gw.url}/q`, { headers: { authorization: 'Bearer t2' } })).status === 200) break;
        await sleep(100);
      }
      assert.equal((await fetch(`${gw.url}/q`, { headers: { authorization: 'Bearer t2' } })).status, 200);
      assert.equal(metricValue(await (await fetch(`${gw.url}/metrics`)).text(), 'vmauth_config_last_reload_successful'), 1);
    } finally {
      await gw.stop();
    }
  });

  test('-configCheckInterval picks up a changed file', async () => {
    const gw = await startGateway(config(['a1']), { flags: ['-configCheckInterval=200ms'] });
    try {
      gw.writeConfig(config(['a2']));
      let status = 0;
      for (let i = 0; i < 50 && status !== 200; i++) {
        await sleep(100);
        status = (await fetch(`${gw.url}/q`, { headers: { authorization: 'Bearer a2' } })).status;
      }
      assert.equal(status, 200);
    } finally {
      await gw.stop();
    }
  });
});

describe('internal endpoints', () => {
  test('auth keys protect /metrics, /-/reload and /flags; wrong keys are refused', async () => {
    const gw = await startGateway(config0(), { flags: ['-metricsAuthKey=mk', '-reloadAuthKey=rk', '-flagsAuthKey=fk'] });
    try {
      assert.equal((await fetch(`${gw.url}/metrics`)).status, 401);
      assert.equal((await fetch(`${gw.url}/metrics?authKey=wrong`)).status, 401);
      assert.equal((await fetch(`${gw.url}/metrics?authKey=mk`)).status, 200);
      assert.equal((await fetch(`${gw.url}/-/reload?authKey=mk`)).status, 401);
      assert.equal((await fetch(`${gw.url}/-/reload?authKey=rk`)).status, 200);
      const flags = await (await fetch(`${gw.url}/flags?authKey=fk`)).text();
      assert.match(flags, /-reloadAuthKey="secret"/);
      assert.ok(!flags.includes('rk"') && !flags.includes('"mk"'), 'auth keys never shown');
    } finally {
      await gw.stop();
    }
  });

  test('-httpAuth.username/password protect endpoints without an auth key', async () => {
    const gw = await startGateway(config0(), { flags: ['-httpAuth.username=ops', '-httpAuth.password=Ops-Secret-Pass'] });
    try {
      assert.equal((await fetch(`${gw.url}/metrics`)).status, 401);
      assert.equal((await fetch(`${gw.url}/metrics`, { headers: { authorization: basic('ops', 'wrong-pass') } })).status, 401);
      assert.equal((await fetch(`${gw.url}/metrics`, { headers: { authorization: basic('ops', 'Ops-Secret-Pass') } })).status, 200);
      assert.equal((await fetch(`${gw.url}/health`)).status, 200, 'health stays open for probes');
    } finally {
      await gw.stop();
    }
  });

  test('-httpInternalListenAddr moves internal endpoints off the proxy listener', async () => {
    const { freePort } = await import('../helpers/processes.ts');
    const port = await freePort();
    const gw = await startGateway(`unauthorized_user:\n  url_prefix: "${backend.url}/"\n`, { flags: [`-httpInternalListenAddr=127.0.0.1:${port}`], readyPath: '/anything' });
    try {
      assert.equal(await (await fetch(`http://127.0.0.1:${port}/health`)).text(), 'OK');
      await (await fetch(`${gw.url}/metrics`)).text();
      assert.equal(backend.received[backend.received.length - 1]?.url, '/metrics', '/metrics on the proxy listener is proxied');
      assert.equal((await fetch(`http://127.0.0.1:${port}/api/v1/query`)).status, 400, 'the internal listener proxies nothing (400 as vmauth)');
    } finally {
      await gw.stop();
    }
  });
});

describe('connection lifetime', () => {
  test('-http.connTimeout closes a keep-alive connection after its first response past the limit', async () => {
    const { request, Agent } = await import('node:http');
    const gw = await startGateway(config0(), { flags: ['-http.connTimeout=300ms'] });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const get = () => new Promise<string | undefined>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: gw.port, path: '/x', agent, headers: { authorization: basic('u', 'p') } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.headers.connection));
      });
      req.on('error', reject);
      req.end();
    });
    try {
      assert.equal(await get(), 'keep-alive');
      await sleep(400);
      assert.equal(await get(), 'close');
    } finally {
      agent.destroy();
      await gw.stop();
    }
  });
});

function config0(): string {
  return `users:\n- username: u\n  password: p\n  url_prefix: "${backend.url}/"\n`;
}
