// Every way a request can be malformed is refused with a precise code, never passed on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { enforceRemoteWrite } from '../../../src/enforce/remote-write/index.ts';
import { bytes, label, ld, sample, series, str, tag, varint } from './raw-proto.ts';
import { LIMITS, catchRemoteWriteError, enforceRaw } from './helpers.ts';

const TENANT = [['tenant', 'A']] as const;
const good = () => series(label('__name__', 'up'), ld(2, sample(1, 1)));

function refused(raw: Uint8Array, code: string, messagePart?: RegExp) {
  const err = catchRemoteWriteError(() => enforceRaw(raw, TENANT));
  assert.equal(err.code, code, err.message);
  assert.equal(err.status, code === 'ERR_RW_TOO_LARGE' || code === 'ERR_RW_DECODED_TOO_LARGE' ? 413 : 400);
  if (messagePart) assert.match(err.message, messagePart);
  return err;
}

test('baseline: the hand-built request is accepted', () => {
  assert.equal(enforceRaw(bytes(good(), good()), TENANT).series, 2);
});

test('truncation anywhere in a valid request is refused', () => {
  const raw = bytes(good(), series(label('__name__', 'x'), label('job', 'y'), ld(2, sample(2, 2))));
  for (let cut = 1; cut < raw.length; cut++) {
    // Cutting exactly between the two series leaves a valid one-series request.
    if (cut === good().length) continue;
    const err = catchRemoteWriteError(() => enforceRaw(raw.subarray(0, cut), TENANT));
    assert.equal(err.code, 'ERR_RW_PROTOBUF', `cut at ${cut}: ${err.message}`);
  }
  assert.equal(enforceRaw(raw.subarray(0, good().length), TENANT).series, 1);
});

test('a truncated varint is refused', () => {
  refused(bytes([0x0a, 0x80]), 'ERR_RW_PROTOBUF', /truncated varint/);
  refused(bytes([0x8a]), 'ERR_RW_PROTOBUF', /truncated varint/);
});

test('a length beyond the buffer is refused, at each level', () => {
  refused(bytes(tag(1, 2), varint(1000), [1, 2, 3]), 'ERR_RW_PROTOBUF', /runs past the end/);
  refused(bytes(ld(1, tag(1, 2), varint(50), str(1, 'x'))), 'ERR_RW_PROTOBUF', /runs past the end/);
  refused(bytes(series(ld(1, tag(1, 2), varint(9), [0x61]))), 'ERR_RW_PROTOBUF', /runs past the end/);
  refused(bytes(tag(1, 2), varint(2 ** 32 - 1)), 'ERR_RW_PROTOBUF');
});

test('over-long varints (padding, more than 32 bits) are refused', () => {
  // 0x0a padded to 6 bytes: legal protobuf, but a parser differential we do not allow.
  refused(bytes([0x8a, 0x80, 0x80, 0x80, 0x80, 0x00], varint(0)), 'ERR_RW_PROTOBUF', /varint longer than 32 bits/);
  refused(bytes(tag(1, 2), [0xff, 0xff, 0xff, 0xff, 0x1f]), 'ERR_RW_PROTOBUF', /varint longer than 32 bits/);
});

test('invalid wire types are refused', () => {
  for (const wt of [3, 4, 6, 7]) refused(bytes(tag(1, wt)), 'ERR_RW_PROTOBUF');
  refused(bytes(series(tag(1, 6))), 'ERR_RW_PROTOBUF', /wire type 6/);
});

test('known fields with the wrong wire type are refused', () => {
  refused(bytes(tag(1, 0), varint(5)), 'ERR_RW_PROTOBUF', /field 1 \(wire type 0\) in WriteRequest/);
  refused(bytes(series(tag(1, 0), varint(1))), 'ERR_RW_PROTOBUF', /field 1 \(wire type 0\) in timeseries #0/);
  refused(bytes(series(tag(2, 1), [0, 0, 0, 0, 0, 0, 0, 0])), 'ERR_RW_PROTOBUF');
  refused(bytes(series(ld(1, tag(1, 0), varint(3)))), 'ERR_RW_PROTOBUF', /a label of timeseries #0/);
});

test('unknown fields are refused at every level (no field can smuggle a label)', () => {
  // WriteRequest: field 2 is Cortex/Mimir `Source`, field 1000 is their `skip_label_name_validation`.
  refused(bytes(good(), tag(2, 0), varint(1)), 'ERR_RW_PROTOBUF', /field 2/);
  refused(bytes(good(), tag(1000, 0), varint(1)), 'ERR_RW_PROTOBUF', /field 1000/);
  refused(bytes(ld(4, label('tenant', 'B'))), 'ERR_RW_PROTOBUF', /field 4/);
  // TimeSeries: a field 5 holding a Label-shaped message.
  refused(bytes(series(label('__name__', 'up'), ld(5, str(1, 'tenant'), str(2, 'B')))), 'ERR_RW_PROTOBUF', /field 5/);
  // Label: a third field.
  refused(bytes(series(ld(1, str(1, 'job'), str(2, 'x'), str(3, 'tenant')))), 'ERR_RW_PROTOBUF', /field 3/);
  // MetricMetadata: an unknown field.
  refused(bytes(ld(3, tag(1, 0), varint(1), str(9, 'x'))), 'ERR_RW_PROTOBUF', /field 9 \(wire type 2\) in metadata/);
  // Field number 0 does not exist.
  refused(bytes([0x02, 0x00]), 'ERR_RW_PROTOBUF', /field number 0/);
});

test('a Label with two names or two values is refused (receivers keep the last one)', () => {
  // `name=job, name=tenant`: we would see "job", a proto3 decoder keeps "tenant".
  refused(bytes(series(ld(1, str(1, 'job'), str(1, 'tenant'), str(2, 'B')))), 'ERR_RW_PROTOBUF', /two name fields/);
  refused(bytes(series(ld(1, str(1, 'job'), str(2, 'a'), str(2, 'b')))), 'ERR_RW_PROTOBUF', /two value fields/);
});

test('label rules: missing, empty, invalid and duplicate names', () => {
  refused(bytes(series(ld(1, str(2, 'v')))), 'ERR_RW_LABELS', /no name/);
  refused(bytes(series(label('', 'v'))), 'ERR_RW_LABELS', /empty label name/);
  refused(bytes(series(label('1abc', 'v'))), 'ERR_RW_LABELS', /does not match/);
  refused(bytes(series(label('a-b', 'v'))), 'ERR_RW_LABELS', /does not match/);
  refused(bytes(series(label('tenänt', 'v'))), 'ERR_RW_LABELS', /does not match/);
  refused(bytes(series(label('job', 'a'), label('job', 'b'))), 'ERR_RW_LABELS', /duplicate label name "job"/);
  // Duplicate hidden by disorder (detected after sorting).
  refused(bytes(series(label('job', 'a'), label('a', 'x'), label('job', 'b'))), 'ERR_RW_LABELS', /duplicate label name "job"/);
  const err = refused(bytes(good(), series(label('ok', 'v'), label('bad name', 'v'))), 'ERR_RW_LABELS');
  assert.match(err.message, /timeseries #1/);
});

test("utf8 label names: accepted when enabled, invalid UTF-8 still refused", () => {
  const raw = bytes(series(label('__name__', 'up'), label('tenänt.région', 'v')));
  assert.equal(enforceRaw(raw, TENANT, LIMITS, 'utf8').series, 1);
  const bad = bytes(series(ld(1, ld(1, [0x61, 0xff, 0x62]), str(2, 'v'))));
  const err = catchRemoteWriteError(() => enforceRaw(bad, TENANT, LIMITS, 'utf8'));
  assert.equal(err.code, 'ERR_RW_LABELS');
  assert.match(err.message, /not valid UTF-8/);
});

test('limits: series count, labels per series, body sizes', () => {
  const raw = bytes(good(), good(), good());
  assert.equal(enforceRaw(raw, TENANT, { ...LIMITS, maxSeries: 3 }).series, 3);
  const tooMany = catchRemoteWriteError(() => enforceRaw(raw, TENANT, { ...LIMITS, maxSeries: 2 }));
  assert.deepEqual([tooMany.code, tooMany.status], ['ERR_RW_TOO_MANY_SERIES', 422]);

  // good() has 1 label; with the tenant's that is 2.
  assert.equal(enforceRaw(raw, TENANT, { ...LIMITS, maxLabelsPerSeries: 2 }).series, 3);
  const labels = catchRemoteWriteError(() => enforceRaw(raw, TENANT, { ...LIMITS, maxLabelsPerSeries: 1 }));
  assert.deepEqual([labels.code, labels.status], ['ERR_RW_TOO_MANY_LABELS', 422]);

  const compressed = catchRemoteWriteError(() => enforceRaw(raw, TENANT, { maxCompressedBytes: raw.length - 1, maxDecodedBytes: 1 << 20 }));
  assert.deepEqual([compressed.code, compressed.status], ['ERR_RW_TOO_LARGE', 413]);
  const decoded = catchRemoteWriteError(() => enforceRaw(raw, TENANT, { maxCompressedBytes: 1 << 20, maxDecodedBytes: raw.length - 1 }));
  assert.deepEqual([decoded.code, decoded.status], ['ERR_RW_DECODED_TOO_LARGE', 413]);
});

test('unsupported encodings are refused with 415', () => {
  const raw = bytes(good());
  const enc = catchRemoteWriteError(() => enforceRemoteWrite(raw, 'gzip' as 'identity', TENANT, LIMITS));
  assert.deepEqual([enc.code, enc.status], ['ERR_RW_ENCODING', 415]);
});

test('errors never escape as anything but RemoteWriteError for arbitrary bytes', () => {
  let seed = 12345;
  const rnd = () => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed >>> 8; };
  for (let i = 0; i < 2000; i++) {
    const raw = Uint8Array.from({ length: rnd() % 64 }, () => rnd() & 0xff);
    try { enforceRaw(raw, TENANT); } catch (err) { catchRemoteWriteError(() => { throw err; }); }
    try { enforceRemoteWrite(raw, 'snappy', TENANT, LIMITS); } catch (err) { catchRemoteWriteError(() => { throw err; }); }
  }
});
