// End to end against a real Prometheus remote-write receiver: a client of tenant A that
// labels its series tenant="B" ends up with tenant="A" only.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { enforceRemoteWrite } from '../../src/enforce/remote-write/index.ts';
import { startPrometheusReceiver, type PrometheusReceiver } from '../helpers/prometheus-rw.ts';
import { snappyCompress } from '../../src/enforce/remote-write/snappy-encode.ts';
import { encodeWriteRequest } from '../unit/remote-write/proto-reference.ts';

const LIMITS = { maxCompressedBytes: 1 << 20, maxDecodedBytes: 8 << 20, maxSeries: 1000, maxLabelsPerSeries: 64 };
let prom: PrometheusReceiver;

before(async () => { prom = await startPrometheusReceiver(); });
after(async () => { await prom?.stop(); });

test('Prometheus stores the enforced series under tenant A only', async () => {
  const now = Date.now();
  const request = encodeWriteRequest({
    timeseries: [
      { labels: [['__name__', 'tg_rw_requests_total'], ['job', 'api'], ['tenant', 'B']], samples: [{ value: 41, timestamp: now - 1000 }, { value: 42, timestamp: now }] },
      { labels: [['__name__', 'tg_rw_requests_total'], ['job', 'web']], samples: [{ value: 7, timestamp: now }] },
      // Unsorted labels and a second tenant-named label.
      { labels: [['zone', 'z1'], ['tenant', 'B'], ['__name__', 'tg_rw_temperature'], ['tenant', 'C']], samples: [{ value: 21.5, timestamp: now }] },
    ],
  });
  const enforced = enforceRemoteWrite(snappyCompress(request), 'snappy', [['tenant', 'A']], LIMITS);
  assert.deepEqual([enforced.series, enforced.samples], [3, 4]);

  const res = await prom.write(enforced.body);
  assert.equal(res.status, 204, res.text);

  const all = await prom.series('{__name__=~"tg_rw_.*"}');
  assert.equal(all.length, 3, JSON.stringify(all));
  for (const s of all) assert.equal(s.tenant, 'A', JSON.stringify(s));
  assert.deepEqual(await prom.series('{__name__=~"tg_rw_.*", tenant!="A"}'), []);
  assert.deepEqual(await prom.series('{tenant="B"}'), []);
  assert.deepEqual(await prom.series('{tenant="C"}'), []);

  const api = await prom.query('tg_rw_requests_total{job="api"}', now);
  assert.deepEqual(api.map((r) => [r.metric, r.value[1]]), [[{ __name__: 'tg_rw_requests_total', job: 'api', tenant: 'A' }, '42']]);
  const temp = await prom.query('tg_rw_temperature', now);
  assert.deepEqual(temp.map((r) => [r.metric, r.value[1]]), [[{ __name__: 'tg_rw_temperature', tenant: 'A', zone: 'z1' }, '21.5']]);
});

test('control: without enforcement the same receiver would store tenant="B"', async () => {
  // Proves the assertions above can fail: Prometheus keeps whatever tenant label it is sent.
  const now = Date.now();
  const raw = encodeWriteRequest({ timeseries: [{ labels: [['__name__', 'tg_control'], ['tenant', 'B']], samples: [{ value: 1, timestamp: now }] }] });
  const res = await prom.write(snappyCompress(raw));
  assert.equal(res.status, 204, res.text);
  assert.deepEqual(await prom.series('{__name__="tg_control", tenant="B"}'), [{ __name__: 'tg_control', tenant: 'B' }]);
});

test('Prometheus accepts a large enforced batch intact', async () => {
  const now = Date.now();
  const timeseries = Array.from({ length: 500 }, (_, i) => ({
    labels: [['__name__', 'tg_rw_batch'], ['idx', String(i)], ['tenant', i % 2 ? 'B' : 'A'], ['pod', `pod-${i % 37}`]] as Array<[string, string]>,
    samples: [{ value: i, timestamp: now }],
  }));
  const enforced = enforceRemoteWrite(snappyCompress(encodeWriteRequest({ timeseries })), 'snappy', [['tenant', 'A']], LIMITS);
  const res = await prom.write(enforced.body);
  assert.equal(res.status, 204, res.text);
  const sum = await prom.query('count(tg_rw_batch{tenant="A"}) and sum(tg_rw_batch) == 124750', now);
  assert.equal(sum.length, 1, 'all 500 series under tenant A with their values intact');
  assert.equal(sum[0]!.value[1], '500');
  assert.deepEqual(await prom.series('{__name__="tg_rw_batch", tenant!="A"}'), []);
});
