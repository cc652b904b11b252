import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { detectRemoteWriteVersion, enforceRemoteWrite } from '../../../src/enforce/remote-write/index.ts';
import { decodeRequestV2, encodeRequestV2, type SeriesV2 } from './proto-reference-v2.ts';
import { bytes, ld, str, tag, varint } from './raw-proto.ts';
import { LIMITS, catchRemoteWriteError, expectedLabels, snappy, unsnappy } from './helpers.ts';
import type { LabelPair } from './proto-reference.ts';

const V2 = { version: detectRemoteWriteVersion('application/x-protobuf;proto=io.prometheus.write.v2.Request') };
const enforceV2 = (raw: Uint8Array, tenant: readonly LabelPair[]) => enforceRemoteWrite(raw, 'identity', tenant, LIMITS, V2);

const series: SeriesV2[] = [
  {
    labels: [['__name__', 'http_requests_total'], ['job', 'api'], ['tenant', 'B']],
    samples: [{ value: 3, timestamp: 1_700_000_000_000 }],
    exemplars: [{ labels: [['trace_id', 'abc'], ['tenant', 'B']], value: 1, timestamp: 1_700_000_000_000 }],
    metadata: { type: 1, help: 'Requests served.', unit: 'requests' },
    created_timestamp: 1_699_999_000_000,
  },
  { labels: [['__name__', 'latency'], ['zone', 'z']], samples: [], histograms: [{ count_int: 4, sum: 2.5, schema: 2, timestamp: 5 }] },
];

test('v2: tenant labels set through the symbols table; refs in exemplars and metadata stay valid', () => {
  const tenant = [['tenant', 'A'], ['cluster', 'eu']] as const;
  const raw = encodeRequestV2(series);
  const result = enforceRemoteWrite(snappy(raw), 'snappy', tenant, LIMITS, V2);
  assert.deepEqual([result.series, result.samples], [2, 2]);
  const out = decodeRequestV2(unsnappy(result.body));
  const input = decodeRequestV2(raw);
  assert.equal(out.symbols[0], '');
  assert.deepEqual(out.series.map((s) => s.labels), input.series.map((s) => expectedLabels(s.labels, tenant)));
  assert.deepEqual(out.series.map(({ labels: _, ...rest }) => rest), input.series.map(({ labels: _, ...rest }) => rest));
  assert.deepEqual(out.symbols.slice(0, input.symbols.length), input.symbols, 'client symbols keep their indices');
});

test('v2: unpacked labels_refs are read too', () => {
  const raw = bytes(str(4, ''), str(4, '__name__'), str(4, 'up'), str(4, 'tenant'), str(4, 'B'),
    ld(5, tag(1, 0), varint(1), tag(1, 0), varint(2), tag(1, 0), varint(3), tag(1, 0), varint(4)));
  const out = decodeRequestV2(enforceV2(raw, [['tenant', 'A']]).body);
  assert.deepEqual(out.series[0]!.labels, [['__name__', 'up'], ['tenant', 'A']]);
});

test('v2: malformed requests are refused', () => {
  const syms = bytes(str(4, ''), str(4, '__name__'), str(4, 'up'));
  const cases: Array<[string, Uint8Array, string, RegExp]> = [
    ['ref outside the table', bytes(syms, ld(5, ld(1, varint(1), varint(9)))), 'ERR_RW_PROTOBUF', /outside the 3 symbols/],
    ['odd number of refs', bytes(syms, ld(5, ld(1, varint(1), varint(2), varint(1)))), 'ERR_RW_LABELS', /odd number/],
    ['unknown series field', bytes(syms, ld(5, ld(1, varint(1), varint(2)), str(7, 'x'))), 'ERR_RW_PROTOBUF', /field 7/],
    ['reserved request field', bytes(syms, str(1, 'x')), 'ERR_RW_PROTOBUF', /field 1/],
    ['first symbol not empty', bytes(str(4, 'x'), ld(5, ld(1, varint(0), varint(0)))), 'ERR_RW_PROTOBUF', /empty string/],
    ['empty name symbol', bytes(syms, ld(5, ld(1, varint(0), varint(2)))), 'ERR_RW_LABELS', /empty label name/],
    ['duplicate names', bytes(syms, ld(5, ld(1, varint(1), varint(2), varint(1), varint(2)))), 'ERR_RW_LABELS', /duplicate/],
    ['truncated', bytes(syms, [0x2a, 0x05, 0x0a]), 'ERR_RW_PROTOBUF', /runs past/],
  ];
  for (const [name, raw, code, message] of cases) {
    const err = catchRemoteWriteError(() => enforceV2(raw, [['tenant', 'A']]));
    assert.equal(err.code, code, `${name}: ${err.message}`);
    assert.match(err.message, message, name);
  }
});

test('v2 property: only the tenant labels change', () => {
  const names = fc.oneof(fc.constantFrom('tenant', 'cluster'), fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,8}$/));
  const labelsArb = fc.uniqueArray(fc.tuple(names, fc.string({ unit: 'grapheme', maxLength: 8 })), { maxLength: 8, selector: ([n]) => n });
  const seriesArb = fc.record({
    labels: labelsArb.map((l) => l as LabelPair[]),
    samples: fc.array(fc.record({ value: fc.double(), timestamp: fc.maxSafeInteger() }), { maxLength: 3 }),
    exemplars: fc.array(fc.record({ labels: labelsArb.map((l) => l as LabelPair[]), value: fc.double(), timestamp: fc.maxSafeInteger() }), { maxLength: 2 }),
    created_timestamp: fc.maxSafeInteger(),
  });
  const tenantArb = fc.uniqueArray(fc.tuple(fc.constantFrom('tenant', 'cluster', 'zone'), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 6 })), { minLength: 1, maxLength: 3, selector: ([n]) => n });
  fc.assert(fc.property(fc.array(seriesArb, { maxLength: 8 }), tenantArb, (ss, tenant) => {
    const raw = encodeRequestV2(ss);
    const input = decodeRequestV2(raw);
    const out = decodeRequestV2(enforceV2(raw, tenant).body);
    assert.deepEqual(out.series.map((s) => s.labels), input.series.map((s) => expectedLabels(s.labels, tenant)));
    assert.deepEqual(out.series.map(({ labels: _, ...rest }) => rest), input.series.map(({ labels: _, ...rest }) => rest));
  }), { numRuns: 200, seed: 0x2a2a });
});

test('v2 property: a corrupted request is refused or still carries exactly the tenant labels', () => {
  const base = encodeRequestV2(series);
  let accepted = 0;
  fc.assert(fc.property(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.boolean()), { minLength: 1, maxLength: 3 }), (edits) => {
    const b = [...base];
    for (const [at, byte, insert] of edits) {
      if (insert) b.splice(at % (b.length + 1), 0, byte); else b[at % b.length] = byte;
    }
    const raw = Uint8Array.from(b);
    let body: Uint8Array;
    try { body = enforceV2(raw, [['tenant', 'A']]).body; } catch (err) { catchRemoteWriteError(() => { throw err; }); return; }
    accepted++;
    let out: ReturnType<typeof decodeRequestV2>;
    try { out = decodeRequestV2(body); } catch { assert.throws(() => decodeRequestV2(raw)); return; }
    for (const s of out.series) assert.deepEqual(s.labels.filter(([n]) => n === 'tenant'), [['tenant', 'A']]);
  }), { numRuns: 1000, seed: 0x77 });
  assert.ok(accepted > 20, `accepted ${accepted}`);
});
