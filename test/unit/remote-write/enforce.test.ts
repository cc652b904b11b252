import { test } from 'node:test';
import assert from 'node:assert/strict';
import { zstdCompressSync, zstdDecompressSync } from 'node:zlib';
import { enforceRemoteWrite } from '../../../src/enforce/remote-write/index.ts';
import { decodeWriteRequest, encodePart, encodeWriteRequest, type Histogram, type WriteRequest } from './proto-reference.ts';
import { LIMITS, enforceRaw, expectedRequest, snappy, unsnappy } from './helpers.ts';

const histogram: Histogram = {
  count_int: 12, sum: 33.5, schema: 3, zero_threshold: 1e-128, zero_count_int: 2,
  positive_spans: [{ offset: -3, length: 2 }, { offset: 4, length: 1 }], positive_deltas: [3, -1, 4],
  negative_counts: [], reset_hint: 2, timestamp: 1_700_000_000_123,
};

const request: WriteRequest = {
  timeseries: [
    {
      labels: [['__name__', 'http_requests_total'], ['code', '200'], ['job', 'api']],
      samples: [{ value: 1, timestamp: 1_700_000_000_000 }, { value: 2.5, timestamp: 1_700_000_015_000 }],
      exemplars: [{ labels: [['trace_id', 'abc123']], value: 0.25, timestamp: 1_700_000_000_001 }],
    },
    {
      labels: [['__name__', 'latency_seconds'], ['job', 'api'], ['zone', 'eu-1']],
      samples: [],
      histograms: [histogram],
    },
    { labels: [['__name__', 'negative_time'], ['a', '']], samples: [{ value: -0, timestamp: -5 }, { value: Number.NaN, timestamp: 0 }] },
  ],
  metadata: [{ type: 1, metric_family_name: 'http_requests_total', help: 'Requests.', unit: '' }],
};

test('enforced request decodes to the original with the tenant label added, in every encoding', () => {
  const raw = encodeWriteRequest(request);
  const tenant = [['tenant', 'A']] as const;
  const expected = expectedRequest(request, tenant);
  const bodies = {
    identity: (b: Uint8Array) => b,
    snappy: unsnappy,
    zstd: (b: Uint8Array) => new Uint8Array(zstdDecompressSync(b)),
  };
  const inputs = { identity: raw, snappy: snappy(raw), zstd: zstdCompressSync(raw) };
  for (const encoding of ['identity', 'snappy', 'zstd'] as const) {
    const result = enforceRemoteWrite(inputs[encoding], encoding, tenant, LIMITS);
    assert.equal(result.series, 3, encoding);
    assert.equal(result.samples, 5, `${encoding}: 4 float samples + 1 histogram`);
    const out = bodies[encoding](result.body);
    assert.deepEqual(decodeWriteRequest(out), decodeWriteRequest(encodeWriteRequest(expected)), encoding);
    // protobufjs writes labels, samples, exemplars, histograms in field order and so do we:
    // the rewritten request must be byte-identical to encoding the expected request.
    assert.deepEqual(Buffer.from(out), Buffer.from(encodeWriteRequest(expected)), encoding);
  }
});

test('samples, exemplars and histograms are copied byte for byte', () => {
  const raw = encodeWriteRequest(request);
  const out = enforceRaw(raw, [['tenant', 'A']]).body;
  const hay = Buffer.from(out);
  for (const part of [
    encodePart('Sample', request.timeseries[0]!.samples[0]!),
    encodePart('Exemplar', request.timeseries[0]!.exemplars![0]!),
    encodePart('Histogram', histogram),
    encodePart('Sample', request.timeseries[2]!.samples[0]!),
  ]) {
    assert.ok(hay.includes(Buffer.from(part)), `output lacks the bytes ${Buffer.from(part).toString('hex')}`);
  }
});

test('a series claiming another tenant is overridden, not duplicated', () => {
  const raw = encodeWriteRequest({
    timeseries: [
      { labels: [['__name__', 'up'], ['tenant', 'B']], samples: [{ value: 1, timestamp: 1 }] },
      // The tenant label twice (a malformed label set) – both copies are replaced by one.
      { labels: [['__name__', 'up'], ['tenant', 'B'], ['tenant', 'C']], samples: [{ value: 1, timestamp: 1 }] },
      // Only a tenant label.
      { labels: [['tenant', 'B']], samples: [{ value: 1, timestamp: 1 }] },
    ],
  });
  const out = decodeWriteRequest(enforceRaw(raw, [['tenant', 'A']]).body);
  assert.deepEqual(out.timeseries.map((s) => s.labels), [
    [['__name__', 'up'], ['tenant', 'A']],
    [['__name__', 'up'], ['tenant', 'A']],
    [['tenant', 'A']],
  ]);
});

test('tenant labels land in sorted position; unsorted client labels are sorted', () => {
  const tenant = [['zz_tenant', 'A'], ['cluster', 'eu'], ['__tenant_id__', 't1']] as const;
  const raw = encodeWriteRequest({
    timeseries: [
      { labels: [['__name__', 'up'], ['instance', 'x:1'], ['job', 'j'], ['zz_tenant', 'evil']], samples: [{ value: 1, timestamp: 1 }] },
      { labels: [['job', 'j'], ['__name__', 'up'], ['cluster', 'us'], ['a', '1']], samples: [{ value: 1, timestamp: 1 }] },
    ],
  });
  const out = decodeWriteRequest(enforceRaw(raw, tenant).body);
  assert.deepEqual(out.timeseries[0]!.labels, [['__name__', 'up'], ['__tenant_id__', 't1'], ['cluster', 'eu'], ['instance', 'x:1'], ['job', 'j'], ['zz_tenant', 'A']]);
  assert.deepEqual(out.timeseries[1]!.labels, [['__name__', 'up'], ['__tenant_id__', 't1'], ['a', '1'], ['cluster', 'eu'], ['job', 'j'], ['zz_tenant', 'A']]);
});

test('sorting is bytewise on UTF-8, like Prometheus (uppercase before lowercase)', () => {
  const raw = encodeWriteRequest({ timeseries: [{ labels: [['b', '1'], ['B', '2'], ['_', '3']], samples: [] }] });
  const out = decodeWriteRequest(enforceRaw(raw, [['a', 'x']]).body);
  assert.deepEqual(out.timeseries[0]!.labels.map(([n]) => n), ['B', '_', 'a', 'b']);
});

test('exemplar labels are left alone (they are not series labels)', () => {
  const raw = encodeWriteRequest({
    timeseries: [{
      labels: [['__name__', 'x']], samples: [{ value: 1, timestamp: 1 }],
      exemplars: [{ labels: [['tenant', 'B'], ['trace_id', 't']], value: 1, timestamp: 1 }],
    }],
  });
  const out = decodeWriteRequest(enforceRaw(raw, [['tenant', 'A']]).body);
  assert.deepEqual(out.timeseries[0]!.labels, [['__name__', 'x'], ['tenant', 'A']]);
  assert.deepEqual(out.timeseries[0]!.exemplars![0]!.labels, [['tenant', 'B'], ['trace_id', 't']]);
});

test('metadata entries and an empty request pass through', () => {
  const onlyMetadata = encodeWriteRequest({ timeseries: [], metadata: request.metadata! });
  const out = enforceRaw(onlyMetadata, [['tenant', 'A']]);
  assert.equal(out.series, 0);
  assert.deepEqual(Buffer.from(out.body), Buffer.from(onlyMetadata));
  const empty = enforceRemoteWrite(snappy(new Uint8Array(0)), 'snappy', [['tenant', 'A']], LIMITS);
  assert.equal(empty.series, 0);
  assert.equal(unsnappy(empty.body).length, 0);
});

test('fields may arrive in any order and labels need not be contiguous', () => {
  // Hand-built: sample, label, exemplar-less, label again, sample; metadata before series.
  const lbl = (n: string, v: string) => encodeLabelField(n, v);
  const smp = encodePart('Sample', { value: 7, timestamp: 9 });
  const seriesBody = Buffer.concat([field(2, smp), lbl('job', 'j'), field(2, smp), lbl('__name__', 'm')]);
  const md = encodeWriteRequest({ timeseries: [], metadata: request.metadata! });
  const raw = Buffer.concat([md, field(1, seriesBody)]);
  const out = decodeWriteRequest(enforceRaw(raw, [['tenant', 'A']]).body);
  assert.deepEqual(out.timeseries[0]!.labels, [['__name__', 'm'], ['job', 'j'], ['tenant', 'A']]);
  assert.equal(out.timeseries[0]!.samples.length, 2);
  assert.deepEqual(out.metadata, request.metadata);
});

test('the result body is a fresh buffer, not a view of reused internal memory', () => {
  const raw = encodeWriteRequest(request);
  const first = enforceRaw(raw, [['tenant', 'A']]).body;
  const copy = Buffer.from(first);
  enforceRaw(encodeWriteRequest({ timeseries: [{ labels: [['x', 'y'.repeat(5000)]], samples: [] }] }), [['tenant', 'B']]);
  enforceRemoteWrite(snappy(raw), 'snappy', [['tenant', 'C']], LIMITS);
  assert.deepEqual(Buffer.from(first), copy);
  assert.equal(first.byteOffset, 0);
  assert.equal(first.buffer.byteLength, first.length);
});

function field(n: number, body: Uint8Array): Buffer {
  const len: number[] = [];
  let v = body.length;
  while (v >= 0x80) { len.push((v & 0x7f) | 0x80); v >>>= 7; }
  len.push(v);
  return Buffer.concat([Buffer.from([n * 8 + 2, ...len]), body]);
}

function encodeLabelField(name: string, value: string): Buffer {
  return field(1, Buffer.concat([field(1, Buffer.from(name)), field(2, Buffer.from(value))]));
}
