// Remote write is checked in the encoding the backend will decode. Prometheus, Mimir and
// VictoriaMetrics read a body without Content-Encoding as snappy, and none reads `identity` as
// raw protobuf (VictoriaMetrics tries snappy, then zstd). A policy that read such a body as raw
// protobuf would check one message and forward bytes the backend decodes as another.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { snappyCompress } from '../../../src/enforce/remote-write/snappy-encode.ts';
import { snappyDecompress } from '../../../src/enforce/remote-write/snappy-decode.ts';
import { decodeWriteRequest, encodeWriteRequest } from '../remote-write/proto-reference.ts';
import { forwarded, policy, refused, run } from '../tenant/helpers.ts';

const pq = policy({ enforce: 'promql', labels: { namespace: 'a' } });
const raw = encodeWriteRequest({ timeseries: [{ labels: [['__name__', 'x'], ['namespace', 'b']], samples: [{ value: 1, timestamp: 1 }] }] });

describe('remote write encodings', () => {
  test('a body without Content-Encoding is read as snappy, as the backends read it', () => {
    const f = forwarded(run(pq, { method: 'POST', path: '/api/v1/write', body: Buffer.from(snappyCompress(raw)), headers: { 'content-type': 'application/x-protobuf' } }));
    const out = decodeWriteRequest(snappyDecompress(f.body!, 1 << 20));
    assert.deepEqual(out.timeseries[0]!.labels, [['__name__', 'x'], ['namespace', 'a']]);
  });

  test('raw protobuf without Content-Encoding is not forwarded (the backend would snappy-decode it)', () => {
    refused(run(pq, { method: 'POST', path: '/api/v1/write', body: Buffer.from(raw), headers: { 'content-type': 'application/x-protobuf' } }), 400, 'tenant_remote_write_invalid');
  });

  test('Content-Encoding: identity is refused', () => {
    refused(run(pq, { method: 'POST', path: '/api/v1/write', body: Buffer.from(raw), headers: { 'content-encoding': 'identity' } }), 415, 'tenant_remote_write_invalid');
  });
});
