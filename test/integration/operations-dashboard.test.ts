// The vmauth Grafana dashboard reads tenantgate's /metrics: a real VictoriaMetrics scrapes the
// gateway, and queries of the shapes the dashboard uses (per-user request rates, error rates by
// reason, duration quantiles, concurrency, reload status, process and version panels) return data.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { basic, startGateway, type Gateway } from '../helpers/gateway.ts';
import { startEchoBackend, type EchoBackend } from '../helpers/echo-backend.ts';
import { sleep, tempDir } from '../helpers/processes.ts';
import { startVictoriaMetrics, type VictoriaMetrics } from '../helpers/victoria-metrics.ts';

let backend: EchoBackend;
let gw: Gateway;
let vm: VictoriaMetrics;
const dir = tempDir();

before(async () => {
  backend = await startEchoBackend('dash');
  gw = await startGateway(`
users:
- username: grafana
  password: "Dash-Secret-Pass"
  url_prefix: "${backend.url}/"
unauthorized_user:
  url_map:
  - src_paths: ["/public"]
    url_prefix: "${backend.url}/"
`);
  const scrape = join(dir.path, 'scrape.yml');
  writeFileSync(scrape, `global:\n  scrape_interval: 1s\nscrape_configs:\n- job_name: vmauth\n  static_configs:\n  - targets: ["127.0.0.1:${gw.port}"]\n`);
  vm = await startVictoriaMetrics([`-promscrape.config=${scrape}`]);
  // Bounded traffic of every kind the panels show.
  for (let i = 0; i < 20; i++) {
    await (await fetch(`${gw.url}/q`, { headers: { authorization: basic('grafana', 'Dash-Secret-Pass') } })).text();
    await (await fetch(`${gw.url}/public`)).text();
    await (await fetch(`${gw.url}/private`)).text();
    await (await fetch(`${gw.url}/write`, { method: 'POST', headers: { authorization: basic('grafana', 'Dash-Secret-Pass') }, body: 'x'.repeat(100) })).text();
  }
});

after(async () => {
  await vm?.stop();
  await gw?.stop();
  await backend?.close();
  dir.remove();
});

async function query(q: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const r = await fetch(`${vm.url}/api/v1/query?query=${encodeURIComponent(q)}`);
  const body = await r.json() as { status: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
  assert.equal(body.status, 'success', q);
  return body.data.result;
}

test('dashboard-style queries over scraped tenantgate metrics return data', async () => {
  // Wait (bounded) until a few scrapes have happened, so rate() has two points.
  for (let i = 0; i < 100; i++) {
    if (Number((await query('count_over_time(vmauth_user_requests_total[1m])'))[0]?.value[1] ?? 0) >= 3) break;
    await sleep(200);
  }
  const panels: [string, string][] = [
    ['requests per user', 'sum(rate(vmauth_user_requests_total{job="vmauth"}[1m])) by (username)'],
    ['unauthorized user requests', 'sum(rate(vmauth_unauthorized_user_requests_total{job="vmauth"}[1m]))'],
    ['errors by reason', 'sum(vmauth_http_request_errors_total{job="vmauth"}) by (reason)'],
    ['request duration quantiles', 'max(vmauth_user_request_duration_seconds{job="vmauth", quantile=~"(0.99|0.5)"}) by (quantile, username)'],
    ['unauthorized duration quantiles', 'max(vmauth_unauthorized_user_request_duration_seconds{job="vmauth", quantile=~"(0.99|0.5)"}) by (quantile)'],
    ['concurrency capacity', 'count(count by(username) (vmauth_user_concurrent_requests_capacity{job="vmauth"}))'],
    ['concurrency current', 'max(max_over_time(vmauth_user_concurrent_requests_current{job="vmauth"}[1m])) by (username)'],
    ['config reload', 'count(vmauth_config_last_reload_successful{job="vmauth"})'],
    ['version', 'sum by(job, short_version) (vm_app_version{job="vmauth"})'],
    ['restarts', 'vm_app_start_timestamp{job="vmauth"}'],
    ['flags', 'sum(flag{is_set="true", job="vmauth"}) by (name, value)'],
    ['cpu', 'rate(process_cpu_seconds_total{job="vmauth"}[1m]) / process_cpu_cores_available{job="vmauth"}'],
    ['memory', 'process_resident_memory_bytes{job="vmauth"}'],
    ['open fds', 'process_open_fds{job="vmauth"}'],
    ['tcp connections', 'sum(vm_tcplistener_conns{job="vmauth"})'],
    ['tcp accepts', 'sum(rate(vm_tcplistener_accepts_total{job="vmauth"}[1m]))'],
    ['log messages', 'sum(vm_log_messages_total{job="vmauth"}) by (level)'],
    ['body buffering', 'max(vmauth_buffer_request_body_duration_seconds{job="vmauth", quantile="0.99"})'],
  ];
  const empty: string[] = [];
  for (const [name, q] of panels) if ((await query(q)).length === 0) empty.push(`${name}: ${q}`);
  assert.deepEqual(empty, [], 'these panels would be empty');
  const perUser = await query('sum(vmauth_user_requests_total{job="vmauth"}) by (username)');
  assert.deepEqual(perUser.map((r) => [r.metric['username'], r.value[1]]), [['grafana', '40']]);
  const reasons = new Map((await query('sum(vmauth_http_request_errors_total{job="vmauth"}) by (reason)')).map((r) => [r.metric['reason'], r.value[1]]));
  assert.equal(reasons.get('missing_auth'), '20', 'the 20 unauthenticated requests to /private');
});
