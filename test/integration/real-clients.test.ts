// Real clients through `tenant:` sections, as each of two tenants, with isolation asserted on the
// backends themselves: vmagent remote write, Prometheus remote_write with basic auth, vmalert with
// all four URLs (datasource, remoteWrite, remoteRead, notifier) pointed at the gateway, promtool
// queries and amtool. Every client claims the other tenant's label where it can; the backends
// must hold each tenant's data under its own label only. The gateway must also never count a
// request a client completed as cancelled (499 client_canceled).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { programEnv, programPath } from '../../scripts/lib/backends.ts';
import { startAlertmanager, type Alertmanager } from '../helpers/alertmanager.ts';
import { startGateway, type Gateway } from '../helpers/gateway.ts';
import { freePort, sleep, startProcess, tempDir, waitForHttp, type RunningProcess } from '../helpers/processes.ts';
import { startPrometheus, type Prometheus } from '../helpers/prometheus.ts';
import { startTenantExporter, type TenantExporter } from '../helpers/tenant-exporter.ts';
import { startVictoriaMetrics, type VictoriaMetrics } from '../helpers/victoria-metrics.ts';

const TENANTS = ['team-a', 'team-b'] as const;
type Tenant = typeof TENANTS[number];
const PASS: Record<Tenant, string> = { 'team-a': 'rc-pass-team-a', 'team-b': 'rc-pass-team-b' };
const other = (t: Tenant): Tenant => (t === 'team-a' ? 'team-b' : 'team-a');
const id = (t: Tenant) => t.replace('-', '_');

let vm: VictoriaMetrics;
let am: Alertmanager;
let exporter: TenantExporter;
let gw: Gateway;
let prom: Prometheus;
const dir = tempDir('tenantgate-clients-');
const procs: RunningProcess[] = [];

/** The gateway URL with a tenant's credentials in it (promtool and amtool take basic auth this way). */
const authUrl = (t: Tenant) => gw.url.replace('http://', `http://${t}:${PASS[t]}@`);

async function vmQuery(expr: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const r = await fetch(`${vm.url}/api/v1/query?query=${encodeURIComponent(expr)}`, { signal: AbortSignal.timeout(10_000) });
  const j = await r.json() as { status: string; data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
  assert.equal(j.status, 'success');
  return j.data.result;
}

/** Polls VictoriaMetrics (directly, not through the gateway) until `accept` holds; bounded. */
async function waitVm(expr: string, accept: (r: Awaited<ReturnType<typeof vmQuery>>) => boolean, what: string, timeoutMs = 40_000) {
  const deadline = Date.now() + timeoutMs;
  let last: Awaited<ReturnType<typeof vmQuery>> = [];
  while (Date.now() < deadline) {
    await vm.flush();
    last = await vmQuery(expr);
    if (accept(last)) return last;
    await sleep(500);
  }
  assert.fail(`${what}: ${expr} never satisfied; last ${JSON.stringify(last)}\n${procs.map((p) => p.output().slice(-1500)).join('\n---\n')}`);
}

function writeFile(name: string, content: object | string): string {
  const p = join(dir.path, name);
  writeFileSync(p, typeof content === 'string' ? content : stringify(content));
  return p;
}

async function startClient(program: 'vmagent' | 'vmalert', args: string[]): Promise<RunningProcess> {
  const port = await freePort();
  const p = startProcess(programPath(program), [`-httpListenAddr=127.0.0.1:${port}`, '-loggerLevel=WARN', ...args], { env: programEnv() });
  procs.push(p);
  await waitForHttp(`http://127.0.0.1:${port}/health`, p);
  return p;
}

function metricValue(text: string, line: string): number {
  const l = text.split('\n').find((x) => x.startsWith(line));
  return l === undefined ? 0 : Number(l.slice(l.lastIndexOf(' ') + 1));
}

before(async () => {
  exporter = await startTenantExporter();
  vm = await startVictoriaMetrics();
  am = await startAlertmanager({ route: { receiver: 'none', group_wait: '0s', group_by: ['alertname', 'namespace'] }, receivers: [{ name: 'none' }] });
  const users = TENANTS.map((t) => `
- username: ${t}
  password: ${PASS[t]}
  access_log: {}
  url_map:
  - src_paths: ["/api/v2/.*"]
    url_prefix: "${am.url}/"
    tenant: {labels: {namespace: ${t}}}
  - src_paths: ["/api/v1/.*"]
    url_prefix: "${vm.url}/"
    tenant: {enforce: victoriametrics, labels: {namespace: ${t}}}`).join('');
  gw = await startGateway(`users:${users}\n`);

  // Prometheus scrapes each tenant's page under the *other* tenant's namespace label and remote
  // writes each job with that tenant's basic auth.
  prom = await startPrometheus({
    global: { scrape_interval: '1s' },
    scrape_configs: TENANTS.map((t) => ({
      job_name: `prom-${t}`, metrics_path: `/${t}`,
      static_configs: [{ targets: [exporter.host], labels: { namespace: other(t) } }],
    })),
    remote_write: TENANTS.map((t) => ({
      url: `${gw.url}/api/v1/write`,
      basic_auth: { username: t, password: PASS[t] },
      write_relabel_configs: [{ source_labels: ['job'], regex: `prom-${t}`, action: 'keep' }],
      queue_config: { batch_send_deadline: '1s' },
    })),
  });

  for (const t of TENANTS) {
    // vmagent: same spoofing, its own job name.
    const scrape = writeFile(`vmagent-${t}.yml`, {
      global: { scrape_interval: '1s' },
      scrape_configs: [{ job_name: `vmagent-${t}`, metrics_path: `/${t}`, static_configs: [{ targets: [exporter.host], labels: { namespace: other(t) } }] }],
    });
    await startClient('vmagent', [
      `-promscrape.config=${scrape}`, `-remoteWrite.url=${gw.url}/api/v1/write`,
      `-remoteWrite.basicAuth.username=${t}`, `-remoteWrite.basicAuth.password=${PASS[t]}`,
      `-remoteWrite.tmpDataPath=${join(dir.path, `vmagent-${t}`)}`, '-remoteWrite.flushInterval=1s',
    ]);
  }
  // Every tenant's series arrived (through vmagent and Prometheus) before vmalert starts.
  await waitVm('count(app_requests_total) by (namespace, job)', (r) => r.length === 4, 'scraped series');

  for (const t of TENANTS) {
    const rules = writeFile(`rules-${t}.yml`, {
      groups: [{
        name: `g-${t}`, interval: '1s',
        rules: [
          // What the tenant's queries see: its own series only, whatever namespace they name.
          { record: 'tenant:visible_series:count', expr: 'count({__name__=~"app_requests_total|secret_.*"})' },
          { record: 'tenant:foreign_series:count', expr: `count({namespace="${other(t)}"}) or vector(0)` },
          { alert: `Requests_${id(t)}`, expr: 'app_requests_total > 0', labels: { namespace: other(t) } },
        ],
      }],
    });
    const auth = (k: string) => [`-${k}.basicAuth.username=${t}`, `-${k}.basicAuth.password=${PASS[t]}`];
    await startClient('vmalert', [
      `-rule=${rules}`, '-evaluationInterval=1s',
      `-datasource.url=${gw.url}`, ...auth('datasource'),
      `-remoteWrite.url=${gw.url}`, ...auth('remoteWrite'), '-remoteWrite.flushInterval=1s',
      `-remoteRead.url=${gw.url}`, ...auth('remoteRead'),
      `-notifier.url=${gw.url}`, ...auth('notifier'),
    ]);
  }
});

after(async () => {
  for (const p of procs) await p.stop();
  await prom?.stop();
  await gw?.stop();
  await am?.stop();
  await vm?.stop();
  await exporter?.close();
  dir.remove();
});

describe('remote write clients', () => {
  test('vmagent and Prometheus remote_write: each tenant\'s series are stored under its own namespace only', async () => {
    const r = await vmQuery('count(app_requests_total) by (namespace, job)');
    const got = r.map((x) => `${x.metric['job']} ${x.metric['namespace']}`).sort();
    assert.deepEqual(got, ['prom-team-a team-a', 'prom-team-b team-b', 'vmagent-team-a team-a', 'vmagent-team-b team-b']);
    for (const t of TENANTS) {
      // The tenant-only metric never lands in the other namespace.
      assert.deepEqual(await vmQuery(`secret_${id(t)}{namespace="${other(t)}"}`), []);
      assert.equal((await vmQuery(`secret_${id(t)}{namespace="${t}"}`)).length, 2);
    }
  });
});

describe('vmalert with datasource, remoteWrite, remoteRead and notifier through the gateway', () => {
  test('recording rules see and write only the tenant\'s series', async () => {
    // Per tenant: app_requests_total and secret_<t> from two scrapers = 4 visible series.
    const visible = await waitVm('tenant:visible_series:count', (r) => r.length === 2, 'recording rule results');
    assert.deepEqual(visible.map((x) => [x.metric['namespace'], x.value[1]]).sort(), [['team-a', '4'], ['team-b', '4']]);
    const foreign = await waitVm('tenant:foreign_series:count', (r) => r.length === 2, 'foreign counts');
    assert.deepEqual(foreign.map((x) => [x.metric['namespace'], x.value[1]]).sort(), [['team-a', '0'], ['team-b', '0']]);
  });

  test('alerts reach Alertmanager under the tenant\'s namespace, and ALERTS series are the tenant\'s', async () => {
    const deadline = Date.now() + 30_000;
    let alerts: Array<{ labels: Record<string, string> }> = [];
    while (Date.now() < deadline) {
      const r = await fetch(`${am.url}/api/v2/alerts`, { signal: AbortSignal.timeout(5000) });
      alerts = await r.json() as typeof alerts;
      if (TENANTS.every((t) => alerts.some((a) => a.labels['alertname'] === `Requests_${id(t)}`))) break;
      await sleep(500);
    }
    for (const t of TENANTS) {
      const mine = alerts.filter((a) => a.labels['alertname'] === `Requests_${id(t)}`);
      assert.ok(mine.length > 0, `no alert of ${t} in ${JSON.stringify(alerts)}`);
      for (const a of mine) assert.equal(a.labels['namespace'], t, JSON.stringify(a.labels));
    }
    const stored = await waitVm('count(ALERTS) by (alertname, namespace)', (r) => r.length >= 2, 'ALERTS series');
    for (const s of stored) assert.equal(s.metric['alertname'], `Requests_${id(s.metric['namespace'] as Tenant)}`, JSON.stringify(s.metric));
  });
});

describe('query and Alertmanager tools as each tenant', () => {
  const run = (program: 'promtool' | 'amtool', args: string[]) => {
    const r = spawnSync(programPath(program), args, { encoding: 'utf8', timeout: 30_000, env: programEnv() });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };

  test('promtool query instant / series / labels see only the tenant', () => {
    for (const t of TENANTS) {
      const q = run('promtool', ['query', 'instant', '-o', 'json', authUrl(t), 'count by (namespace) ({__name__=~".+"})']);
      assert.equal(q.code, 0, q.err);
      const rows = JSON.parse(q.out) as Array<{ metric: Record<string, string> }>;
      assert.deepEqual(rows.map((x) => x.metric['namespace']), [t]);
      const stolen = run('promtool', ['query', 'instant', '-o', 'json', authUrl(t), `secret_${id(other(t))}`]);
      assert.equal(stolen.code, 0, stolen.err);
      assert.deepEqual(JSON.parse(stolen.out), []);
      const series = run('promtool', ['query', 'series', authUrl(t), '--match', 'app_requests_total']);
      assert.equal(series.code, 0, series.err);
      assert.ok(series.out.includes(`namespace="${t}"`) && !series.out.includes(other(t)), series.out);
      const values = run('promtool', ['query', 'labels', authUrl(t), 'namespace']);
      assert.equal(values.code, 0, values.err);
      assert.deepEqual(values.out.trim().split('\n'), [t]);
    }
  });

  test('amtool: alerts and silences are each tenant\'s own', () => {
    for (const t of TENANTS) {
      const url = `--alertmanager.url=${authUrl(t)}/`;
      const q = run('amtool', [url, 'alert', 'query', '-o', 'json']);
      assert.equal(q.code, 0, q.err);
      const alerts = JSON.parse(q.out) as Array<{ labels: Record<string, string> }>;
      assert.ok(alerts.length > 0);
      for (const a of alerts) assert.equal(a.labels['namespace'], t);
      const add = run('amtool', [url, 'silence', 'add', `namespace=${t}`, `alertname=Requests_${id(t)}`, '--comment=maintenance', '--duration=1h', '--author=amtool']);
      assert.equal(add.code, 0, add.err);
      const foreign = run('amtool', [url, 'silence', 'add', `namespace=${other(t)}`, '--comment=not mine', '--duration=1h', '--author=amtool']);
      assert.notEqual(foreign.code, 0, 'a silence for the other namespace must be refused');
    }
    for (const t of TENANTS) {
      const s = run('amtool', [`--alertmanager.url=${authUrl(t)}/`, 'silence', 'query', '-o', 'json']);
      assert.equal(s.code, 0, s.err);
      const list = JSON.parse(s.out) as Array<{ matchers: Array<{ name: string; value: string }> }>;
      assert.equal(list.length, 1, s.out);
      assert.ok(list[0]!.matchers.some((m) => m.name === 'namespace' && m.value === t));
    }
  });
});

test('no request a client completed is counted or logged as cancelled', async () => {
  const text = await (await fetch(`${gw.url}/metrics`)).text();
  const total = TENANTS.reduce((n, t) => n + metricValue(text, `vmauth_user_requests_total{username="${t}"}`), 0);
  assert.ok(total > 50, `expected the clients to have made requests, saw ${total}`);
  assert.equal(metricValue(text, 'vmauth_http_request_errors_total{reason="client_canceled"}'), 0, text.split('\n').filter((l) => l.includes('client_canceled')).join('\n'));
  const lines = gw.proc.output().split('\n').filter((l) => l.includes('access_log'));
  assert.ok(lines.length > 50);
  assert.deepEqual(lines.filter((l) => /status_code[=:" ]+499/.test(l)), []);
});
