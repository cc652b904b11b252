// Property-based tests: for any request, enforcement changes exactly the tenant labels; for
// any corruption of a request, enforcement either refuses it or produces a request in which
// (as decoded by an independent protobuf library) every series carries the tenant's labels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RemoteWriteError, enforceRemoteWrite } from '../../../src/enforce/remote-write/index.ts';
import { decodeWriteRequest, encodeWriteRequest, type LabelPair, type Series, type WriteRequest } from './proto-reference.ts';
import { LIMITS, enforceRaw, snappy, unsnappy } from './helpers.ts';

// Names a tenant may use are also names clients like to send.
const TENANT_NAMES = ['tenant', 'cluster', '__tenant_id__', 'zone'] as const;
const nameArb = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom(...TENANT_NAMES) },
  { weight: 4, arbitrary: fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,10}$/) },
);
const valueArb = fc.string({ unit: 'grapheme', maxLength: 12 });
const tenantArb = fc.uniqueArray(
  fc.tuple(fc.constantFrom(...TENANT_NAMES), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 })),
  { minLength: 1, maxLength: 3, selector: ([n]) => n },
);
const sampleArb = fc.record({ value: fc.double(), timestamp: fc.maxSafeInteger() });
const histogramArb = fc.record({
  count_int: fc.nat(), sum: fc.double({ noNaN: true }), schema: fc.integer({ min: -4, max: 8 }), zero_threshold: fc.double({ min: 0, max: 1, noNaN: true }),
  zero_count_int: fc.nat(), positive_spans: fc.array(fc.record({ offset: fc.integer({ min: -100, max: 100 }), length: fc.nat({ max: 10 }) }), { maxLength: 3 }),
  positive_deltas: fc.array(fc.integer({ min: -1000, max: 1000 }), { maxLength: 5 }), negative_counts: fc.array(fc.double(), { maxLength: 3 }),
  reset_hint: fc.integer({ min: 0, max: 3 }), timestamp: fc.maxSafeInteger(),
});
const seriesArb: fc.Arbitrary<Series> = fc.record({
  labels: fc.uniqueArray(fc.tuple(nameArb, valueArb), { maxLength: 12, selector: ([n]) => n }).map((l) => l as LabelPair[]),
  samples: fc.array(sampleArb, { maxLength: 4 }),
  exemplars: fc.array(fc.record({
    labels: fc.uniqueArray(fc.tuple(nameArb, valueArb), { maxLength: 3, selector: ([n]) => n }).map((l) => l as LabelPair[]),
    value: fc.double(), timestamp: fc.maxSafeInteger(),
  }), { maxLength: 2 }),
  histograms: fc.array(histogramArb, { maxLength: 2 }),
});
const requestArb: fc.Arbitrary<WriteRequest> = fc.record({
  timeseries: fc.array(seriesArb, { maxLength: 12 }),
  metadata: fc.array(fc.record({ type: fc.integer({ min: 0, max: 7 }), metric_family_name: valueArb, help: valueArb, unit: valueArb }), { maxLength: 2 }),
});

const cmp = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

test('property: only the tenant labels change, and every series has each exactly once', () => {
  fc.assert(fc.property(requestArb, tenantArb, fc.boolean(), (req, tenant, viaSnappy) => {
    const raw = encodeWriteRequest(req);
    const result = viaSnappy
      ? enforceRemoteWrite(snappy(raw), 'snappy', tenant, LIMITS)
      : enforceRaw(raw, tenant);
    const input = decodeWriteRequest(raw);
    const output = decodeWriteRequest(viaSnappy ? unsnappy(result.body) : result.body);
    assert.equal(result.series, input.timeseries.length);
    assert.equal(result.samples, input.timeseries.reduce((n, s) => n + s.samples.length + (s.histograms?.length ?? 0), 0));
    assert.equal(output.timeseries.length, input.timeseries.length);
    const tenantNames = new Set<string>(tenant.map(([n]) => n));
    output.timeseries.forEach((out, i) => {
      const inp = input.timeseries[i]!;
      for (const [name, value] of tenant) {
        assert.deepEqual(out.labels.filter(([n]) => n === name), [[name, value]]);
      }
      for (let k = 1; k < out.labels.length; k++) assert.ok(cmp(out.labels[k - 1]![0], out.labels[k]![0]) < 0, 'labels strictly sorted');
      const others = (s: Series) => s.labels.filter(([n]) => !tenantNames.has(n)).sort((a, b) => cmp(a[0], b[0]));
      assert.deepEqual(others(out), others(inp));
      assert.deepEqual(out.samples, inp.samples);
      assert.deepEqual(out.exemplars, inp.exemplars);
      assert.deepEqual(out.histograms, inp.histograms);
    });
    assert.deepEqual(output.metadata, input.metadata);
  }), { numRuns: 300, seed: 0xc0ffee });
});

type Mutation = { kind: 'flip' | 'insert' | 'delete' | 'truncate'; at: number; byte: number };
const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom('flip', 'insert', 'delete', 'truncate'),
  at: fc.nat(),
  byte: fc.integer({ min: 0, max: 255 }),
});

function mutate(raw: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let b = [...raw];
  for (const m of mutations) {
    if (b.length === 0) break;
    const at = m.at % b.length;
    if (m.kind === 'flip') b[at] = m.byte;
    else if (m.kind === 'insert') b.splice(at, 0, m.byte);
    else if (m.kind === 'delete') b.splice(at, 1);
    else b = b.slice(0, at);
  }
  return Uint8Array.from(b);
}

test('property: a corrupted request is refused or still carries exactly the tenant labels', () => {
  let accepted = 0;
  let refused = 0;
  fc.assert(fc.property(requestArb, tenantArb, fc.array(mutationArb, { minLength: 1, maxLength: 4 }), (req, tenant, mutations) => {
    const raw = mutate(encodeWriteRequest(req), mutations);
    let body: Uint8Array;
    try {
      body = enforceRaw(raw, tenant, LIMITS, 'utf8').body;
    } catch (err) {
      assert.ok(err instanceof RemoteWriteError, `unexpected ${String(err)}`);
      refused++;
      return;
    }
    accepted++;
    let out: WriteRequest;
    try {
      out = decodeWriteRequest(body);
    } catch {
      // Only bytes we pass through untouched (samples, histograms, …) can be undecodable,
      // and then the input was undecodable too: the receiver refuses it either way.
      assert.throws(() => decodeWriteRequest(raw));
      return;
    }
    for (const s of out.timeseries) {
      for (const [name, value] of tenant) assert.deepEqual(s.labels.filter(([n]) => n === name), [[name, value]]);
    }
  }), { numRuns: 1500, seed: 0xbadf00d });
  assert.ok(accepted > 50 && refused > 50, `both outcomes exercised (accepted ${accepted}, refused ${refused})`);
});
