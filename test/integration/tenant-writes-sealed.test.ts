// Writes never cross the tenant line. team-a writes through tenantgate into one real
// VictoriaMetrics on every write endpoint, each request and body claiming team-b through hostile query args
// (extra_label naming the other tenant, extra_filters, tenant ids) and tenant-selecting headers;
// what VictoriaMetrics stored is then read from it directly: every series carries the writer's
// tenant. With `enforce: promql` in front of VictoriaMetrics (the setup where `?extra_label=`
// used to override the rewritten body), remote write lands in the writer's tenant and every
// import path stays refused. `write_args` lets a named arg through (its twin without it shows the
// arg dropped). Remote write to a real Prometheus and alert/silence posts to a real Alertmanager
// carry the same hostile args; VictoriaLogs inserts are checked on a recording backend.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { basic, startGateway, type Gateway } from '../helpers/gateway.ts';
import { startVictoriaMetrics, type VictoriaMetrics } from '../helpers/victoria-metrics.ts';
import { startEchoBackend, type EchoBackend } from '../helpers/echo-backend.ts';
import { startPrometheusReceiver, type PrometheusReceiver } from '../helpers/prometheus-rw.ts';
import { startAlertmanager, type Alertmanager } from '../helpers/alertmanager.ts';
import { deniedTotal, tenantPost } from '../helpers/tenant-http.ts';
import { parseQuery } from '../../src/lib/go-url.ts';
import { snappyCompress } from '../../src/enforce/remote-write/snappy-encode.ts';
import { encodeWriteRequest } from '../unit/remote-write/proto-reference.ts';

let vm: VictoriaMetrics;
let logs: EchoBackend;
let prom: PrometheusReceiver;
let am: Alertmanager;
let gw: Gateway;
const PROM_A = basic('prom-a', 'pass-prom-a');
const PQ_A = basic('pq-a', 'pass-pq-a');
const VM_A = basic('vm-a', 'pass-vm-a');
const VM_B = basic('vm-b', 'pass-vm-b');
const VL_A = basic('vl-a', 'pass-vl-a');

/** Query args a hostile client adds to every write: each would pick or widen a tenant somewhere. */
const HOSTILE_ARGS = [
  'extra_label=tenant=team-b', 'extra_label=tenant%3Dteam-b', 'extra_labels=tenant=team-b', 'extra_filters[]={tenant="team-b"}',
  'extra_fields=tenant=team-b', 'AccountID=2', 'tenant=team-b',
].join('&');
const HOSTILE_HEADERS = {
  'X-Scope-OrgID': 'team-b', AccountID: '2', ProjectID: '3', 'THANOS-TENANT': 'team-b', 'VL-Extra-Fields': 'tenant=team-b',
};

before(async () => {
  [vm, logs, prom, am] = await Promise.all([
    startVictoriaMetrics(), startEchoBackend('vlogs'), startPrometheusReceiver(),
    startAlertmanager({ route: { receiver: 'none', group_by: ['alertname', 'tenant'] }, receivers: [{ name: 'none' }] }),
  ]);
  gw = await startGateway(`
users:
- username: pq-a
  password: pass-pq-a
  url_prefix: "${vm.url}/"
  tenant: {labels: {tenant: team-a}}
- username: vm-a
  password: pass-vm-a
  url_prefix: "${vm.url}/"
  tenant: {enforce: victoriametrics, labels: {tenant: team-a}, write_args: [format, db]}
- username: vm-b
  password: pass-vm-b
  url_prefix: "${vm.url}/"
  tenant: {enforce: victoriametrics, labels: {tenant: team-b}}
- username: prom-a
  password: pass-prom-a
  tenant: {labels: {tenant: team-a}}
  url_map:
  - {src_paths: ["/api/v2/.*"], url_prefix: "${am.url}/"}
  - {src_paths: ["/api/v1/write"], url_prefix: "${prom.url}/"}
- username: vl-a
  password: pass-vl-a
  url_prefix: "${logs.url}/"
  tenant: {enforce: victorialogs, write_args: [_msg_field], logs: {account_id: 1, extra_fields: {tenant: team-a}}}
`);
});

after(async () => {
  await gw?.stop();
  await Promise.all([vm?.stop(), logs?.close(), prom?.stop(), am?.stop()]);
});

/** Every series VictoriaMetrics holds for a metric-name regex, read from VictoriaMetrics directly. */
async function stored(nameRegex: string): Promise<Array<Record<string, string>>> {
  await vm.flush();
  const r = await fetch(`${vm.url}/api/v1/series?match[]=${encodeURIComponent(`{__name__=~"${nameRegex}"}`)}&start=0`, { signal: AbortSignal.timeout(10_000) });
  return (await r.json() as { data: Array<Record<string, string>> }).data;
}

/** Waits (bounded) until VictoriaMetrics shows `n` series for the regex. */
async function waitStored(nameRegex: string, n: number): Promise<Array<Record<string, string>>> {
  let last: Array<Record<string, string>> = [];
  for (let i = 0; i < 50; i++) {
    last = await stored(nameRegex);
    if (last.length >= n) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  return last;
}

// --- bodies for each write protocol, each claiming team-b in its own labels ---------------------

function remoteWrite(name: string): Uint8Array {
  return snappyCompress(encodeWriteRequest({ timeseries: [{ labels: [['__name__', name], ['tenant', 'team-b']], samples: [{ value: 1, timestamp: Date.now() }] }] }));
}

/** Minimal protobuf writer for an OTLP ExportMetricsServiceRequest with one gauge point. */
function otlpGauge(name: string): Uint8Array {
  const varint = (n: number) => { const out: number[] = []; while (n > 127) { out.push((n & 127) | 128); n >>>= 7; } out.push(n); return out; };
  const len = (field: number, bytes: number[]) => [...varint((field << 3) | 2), ...varint(bytes.length), ...bytes];
  const str = (field: number, s: string) => len(field, [...Buffer.from(s, 'utf8')]);
  const fixed64 = (field: number, buf: Buffer) => [(field << 3) | 1, ...buf];
  const ts = Buffer.alloc(8); ts.writeBigUInt64LE(BigInt(Date.now()) * 1_000_000n);
  const value = Buffer.alloc(8); value.writeDoubleLE(1);
  const kv = (k: string, v: string) => [...str(1, k), ...len(2, str(1, v))];
  const point = [...len(7, kv('tenant', 'team-b')), ...fixed64(3, ts), ...fixed64(4, value)];
  const metric = [...str(1, name), ...len(5, len(1, point))];
  const resourceMetrics = [...len(1, len(1, kv('service.name', 'svc'))), ...len(2, len(2, metric))];
  return Uint8Array.from(len(1, resourceMetrics));
}

interface WriteCase {
  readonly path: string;
  readonly metric: string;
  readonly body: () => string | Uint8Array;
  readonly headers?: Record<string, string>;
  readonly extraQuery?: string;
}

const now = () => Date.now();
const WRITES: WriteCase[] = [
  { path: '/api/v1/write', metric: 'w_rw', body: () => remoteWrite('w_rw'), headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' } },
  { path: '/prometheus/api/v1/write', metric: 'w_rw_prefixed', body: () => remoteWrite('w_rw_prefixed'), headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' } },
  { path: '/api/v1/import', metric: 'w_json', body: () => `{"metric":{"__name__":"w_json","tenant":"team-b"},"values":[1],"timestamps":[${now()}]}\n` },
  { path: '/api/v1/import/prometheus', metric: 'w_prom', body: () => `w_prom{tenant="team-b"} 1 ${now()}\n` },
  { path: '/api/v1/import/csv', metric: 'w_csv', extraQuery: 'format=1:label:tenant,2:metric:w_csv', body: () => 'team-b,1\n' },
  { path: '/influx/write', metric: 'w_influx1_value', body: () => `w_influx1,tenant=team-b value=1 ${now()}000000\n` },
  { path: '/influx/api/v2/write', metric: 'w_influx2_value', body: () => `w_influx2,tenant=team-b value=1 ${now()}000000\n` },
  { path: '/write', metric: 'w_influx3_value', body: () => `w_influx3,tenant=team-b value=1 ${now()}000000\n` },
  { path: '/api/v2/write', metric: 'w_influx4_value', body: () => `w_influx4,tenant=team-b value=1 ${now()}000000\n` },
  { path: '/datadog/api/v1/series', metric: 'w_dd1', headers: { 'content-type': 'application/json' }, body: () => JSON.stringify({ series: [{ metric: 'w_dd1', points: [[Math.floor(now() / 1000), 1]], tags: ['tenant:team-b'] }] }) },
  { path: '/datadog/api/v2/series', metric: 'w_dd2', headers: { 'content-type': 'application/json' }, body: () => JSON.stringify({ series: [{ metric: 'w_dd2', points: [{ timestamp: Math.floor(now() / 1000), value: 1 }], tags: ['tenant:team-b'] }] }) },
  { path: '/opentelemetry/v1/metrics', metric: 'w_otlp', headers: { 'content-type': 'application/x-protobuf' }, body: () => otlpGauge('w_otlp') },
  { path: '/newrelic/infra/v2/metrics/events/bulk', metric: 'w_nr_cpu_percent', headers: { 'content-type': 'application/json' },
    body: () => JSON.stringify([{ Events: [{ eventType: 'w_nr', timestamp: Math.floor(now() / 1000), cpuPercent: 1, tenant: 'team-b' }] }]) },
];

describe('enforce: victoriametrics — every write endpoint, hostile args and headers', () => {
  for (const w of WRITES) {
    test(`${w.path} lands only in the writer's tenant`, async (t) => {
      const query = `${HOSTILE_ARGS}${w.extraQuery === undefined ? '' : `&${w.extraQuery}`}`;
      const r = await tenantPost(gw.url, `${w.path}?${query}`, VM_A, w.body(), { ...HOSTILE_HEADERS, ...(w.headers ?? {}) });
      const unsupported = /unsupported path requested/.exec(r.body);
      if (r.status === 400 && unsupported !== null) {
        // This VictoriaMetrics release predates the endpoint; its error echoes the URI it got,
        // which must hold the tenant's own arg and nothing of the client's.
        const uri = /requestURI: (\S+);/.exec(r.body)?.[1] ?? '';
        const expected = w.extraQuery === undefined ? 'extra_label=tenant%3Dteam-a' : '';
        if (expected !== '') assert.equal(uri, `${w.path}?${expected}`, r.body);
        t.diagnostic(`${w.path}: not served by this VictoriaMetrics; forwarded as ${uri}`);
        return;
      }
      assert.ok(r.status >= 200 && r.status < 300, `${w.path}: ${r.status} ${r.body}`);
      const series = await waitStored(w.metric, 1);
      assert.ok(series.length > 0, `${w.path}: nothing stored for ${w.metric}`);
      for (const s of series) assert.equal(s['tenant'], 'team-a', `${w.path} stored ${JSON.stringify(s)}`);
    });
  }

  test('/api/v1/import/native: an export of team-b series is re-labelled on import', async () => {
    // Seed a team-b series on VictoriaMetrics directly and export it natively.
    const seed = await fetch(`${vm.url}/api/v1/import/prometheus`, { method: 'POST', body: `w_native{tenant="team-b"} 1 ${now()}\n` });
    assert.equal(seed.status, 204);
    assert.deepEqual((await waitStored('w_native', 1)).map((s) => s['tenant']), ['team-b']);
    // The export holds the samples once they are searchable (bounded wait); an empty one is a 16-byte header.
    let native = Buffer.alloc(0);
    for (let i = 0; i < 50 && native.length <= 16; i++) {
      await vm.flush();
      native = Buffer.from(await (await fetch(`${vm.url}/api/v1/export/native?match[]=w_native&start=0`)).arrayBuffer());
      if (native.length <= 16) await new Promise((res) => setTimeout(res, 200));
    }
    assert.ok(native.length > 16, 'the seed was exported');
    const r = await tenantPost(gw.url, `/api/v1/import/native?${HOSTILE_ARGS}`, VM_A, native, HOSTILE_HEADERS);
    assert.equal(r.status, 204, r.body);
    // The one new series is team-a's; team-b still has only the seed.
    const series = await waitStored('w_native', 2);
    assert.deepEqual(series.map((s) => s['tenant']).sort(), ['team-a', 'team-b']);
  });

  test('write_args lets a named arg through; without it the arg is dropped (twins)', async () => {
    // csv needs `format`: allowed for vm-a, dropped for vm-b (VictoriaMetrics then refuses the body).
    const csv = await tenantPost(gw.url, '/api/v1/import/csv?format=1:label:job,2:metric:w_twin_csv', VM_A, 'x,1\n');
    assert.equal(csv.status, 204, csv.body);
    const csvB = await tenantPost(gw.url, '/api/v1/import/csv?format=1:label:job,2:metric:w_twin_csv_b', VM_B, 'x,1\n');
    assert.equal(csvB.status, 400, csvB.body);
    assert.match(csvB.body, /format/);
    // Influx `db` becomes a label when allowed.
    for (const [auth, name] of [[VM_A, 'w_twin_db_a'], [VM_B, 'w_twin_db_b']] as const) {
      const r = await tenantPost(gw.url, '/influx/write?db=mydb', auth, `${name} value=1\n`);
      assert.equal(r.status, 204, r.body);
    }
    const [a] = await waitStored('w_twin_db_a_value', 1);
    const [b] = await waitStored('w_twin_db_b_value', 1);
    assert.equal(a!['db'], 'mydb');
    assert.equal(a!['tenant'], 'team-a');
    assert.equal(b!['db'], undefined);
    assert.equal(b!['tenant'], 'team-b');
  });
});

describe('enforce: promql in front of VictoriaMetrics', () => {
  test('remote write with ?extra_label=tenant=team-b lands in the writer\'s tenant', async () => {
    const r = await tenantPost(gw.url, `/api/v1/write?${HOSTILE_ARGS}`, PQ_A, remoteWrite('p_rw'),
      { ...HOSTILE_HEADERS, 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' });
    assert.equal(r.status, 204, r.body);
    const series = await waitStored('p_rw', 1);
    assert.deepEqual(series.map((s) => s['tenant']), ['team-a']);
  });

  test('every import path stays refused (their bodies cannot be enforced as PromQL tenancy)', async () => {
    const before = await stored('p_.*');
    for (const w of WRITES.filter((x) => !x.path.endsWith('/api/v1/write'))) {
      const r = await tenantPost(gw.url, `${w.path}?extra_label=tenant=team-a`, PQ_A, w.body(), w.headers ?? {});
      assert.equal(r.status, 403, `${w.path}: ${r.status} ${r.body}`);
    }
    for (const path of ['/api/v1/import/native', '/api/v1/import/prometheus/metrics/job/x', '/api/v1/push', '/api/put', '/opentsdb/api/put', '/datadog/api/beta/sketches']) {
      const r = await tenantPost(gw.url, path, PQ_A, 'x');
      assert.equal(r.status, 403, `${path}: ${r.status} ${r.body}`);
    }
    assert.deepEqual(await stored('p_.*'), before);
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    assert.ok(deniedTotal(text, 'tenant_path_not_allowed') >= WRITES.length - 2);
  });
});

describe('enforce: promql on Prometheus and Alertmanager', () => {
  test('remote write with hostile args and headers: Prometheus stores the writer\'s tenant', async () => {
    const r = await tenantPost(gw.url, `/api/v1/write?${HOSTILE_ARGS}`, PROM_A, remoteWrite('p_prom_rw'),
      { ...HOSTILE_HEADERS, 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' });
    assert.equal(r.status, 204, r.body);
    assert.deepEqual((await prom.series('p_prom_rw')).map((s) => s['tenant']), ['team-a']);
  });
  test('alerts and silences posted with hostile args and headers land in the poster\'s tenant on Alertmanager', async () => {
    const a = await tenantPost(gw.url, `/api/v2/alerts?${HOSTILE_ARGS}`, PROM_A, JSON.stringify([{ labels: { alertname: 'Hostile', tenant: 'team-b' } }]),
      { ...HOSTILE_HEADERS, 'content-type': 'application/json' });
    assert.equal(a.status, 200, a.body);
    const alerts = await (await fetch(`${am.url}/api/v2/alerts?filter=alertname%3D%22Hostile%22`)).json() as { labels: Record<string, string> }[];
    assert.deepEqual(alerts.map((x) => x.labels['tenant']), ['team-a']);
    const silence = { matchers: [{ name: 'tenant', value: 'team-a', isRegex: false }], startsAt: new Date().toISOString(), endsAt: new Date(Date.now() + 3_600_000).toISOString(), createdBy: 'a', comment: 'a' };
    const s = await tenantPost(gw.url, `/api/v2/silences?${HOSTILE_ARGS}`, PROM_A, JSON.stringify(silence), { ...HOSTILE_HEADERS, 'content-type': 'application/json' });
    assert.equal(s.status, 200, s.body);
    const stored = await (await fetch(`${am.url}/api/v2/silence/${(JSON.parse(s.body) as { silenceID: string }).silenceID}`)).json() as { matchers: { name: string; value: string }[] };
    assert.deepEqual(stored.matchers.map((m) => `${m.name}=${m.value}`), ['tenant=team-a']);
  });
});

describe('enforce: victorialogs inserts (recording backend)', () => {
  test('only allowed args and their VL-* headers reach VictoriaLogs; the tenant is the gateway\'s', async () => {
    const r = await tenantPost(gw.url, `/insert/jsonline?_msg_field=msg&_stream_fields=tenant&ignore_fields=tenant&${HOSTILE_ARGS}`, VL_A, '{"msg":"x","tenant":"team-b"}\n', {
      ...HOSTILE_HEADERS, 'VL-Msg-Field': 'msg', 'VL-Stream-Fields': 'tenant', 'VL-Ignore-Fields': 'tenant', 'VL-Time-Field': 'ts',
    });
    assert.equal(r.status, 200, r.body);
    const got = logs.received.at(-1)!;
    const args = parseQuery(got.url.slice(got.url.indexOf('?') + 1));
    assert.deepEqual([...args.keys()].sort(), ['_msg_field', 'extra_fields']);
    assert.deepEqual(args.get('extra_fields'), ['tenant=team-a']);
    assert.equal(got.headers['accountid'], '1');
    assert.equal(got.headers['projectid'], '0');
    assert.equal(got.headers['vl-msg-field'], 'msg');
    for (const h of ['vl-extra-fields', 'vl-stream-fields', 'vl-ignore-fields', 'vl-time-field', 'x-scope-orgid', 'thanos-tenant']) {
      assert.equal(got.headers[h], undefined, `${h} reached VictoriaLogs`);
    }
  });
});
