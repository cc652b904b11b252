// Reference codec (protobufjs) for remote-write 2.0 requests, with symbol-table handling.
import protobuf from 'protobufjs';
import type { LabelPair, Sample } from './proto-reference.ts';

const SCHEMA = `
syntax = "proto3";
package io.prometheus.write.v2;
message Request { reserved 1 to 3; repeated string symbols = 4; repeated TimeSeries timeseries = 5; }
message TimeSeries {
  repeated uint32 labels_refs = 1;
  repeated Sample samples = 2;
  repeated Histogram histograms = 3;
  repeated Exemplar exemplars = 4;
  Metadata metadata = 5;
  int64 created_timestamp = 6;
}
message Exemplar { repeated uint32 label_refs = 1; double value = 2; int64 timestamp = 3; }
message Sample { double value = 1; int64 timestamp = 2; }
message Metadata { uint32 type = 1; uint32 help_ref = 3; uint32 unit_ref = 4; }
message Histogram { uint64 count_int = 1; double sum = 3; sint32 schema = 4; int64 timestamp = 15; }
`;
const RequestType = protobuf.parse(SCHEMA, { keepCase: true }).root.lookupType('io.prometheus.write.v2.Request');

export interface SeriesV2 {
  labels: LabelPair[];
  samples: Sample[];
  histograms?: Array<{ count_int: number; sum: number; schema: number; timestamp: number }>;
  exemplars?: Array<{ labels: LabelPair[]; value: number; timestamp: number }>;
  metadata?: { type: number; help: string; unit: string };
  created_timestamp?: number;
}

export function encodeRequestV2(series: SeriesV2[]): Uint8Array {
  const symbols = [''];
  const index = new Map<string, number>([['', 0]]);
  const ref = (s: string) => {
    let i = index.get(s);
    if (i === undefined) { i = symbols.length; symbols.push(s); index.set(s, i); }
    return i;
  };
  const refs = (labels: readonly LabelPair[]) => labels.flatMap(([n, v]) => [ref(n), ref(v)]);
  const timeseries = series.map((s) => ({
    labels_refs: refs(s.labels),
    samples: s.samples,
    histograms: s.histograms ?? [],
    exemplars: (s.exemplars ?? []).map((e) => ({ label_refs: refs(e.labels), value: e.value, timestamp: e.timestamp })),
    ...(s.metadata ? { metadata: { type: s.metadata.type, help_ref: ref(s.metadata.help), unit_ref: ref(s.metadata.unit) } } : {}),
    created_timestamp: s.created_timestamp ?? 0,
  }));
  return RequestType.encode(RequestType.fromObject({ symbols, timeseries })).finish();
}

export function decodeRequestV2(bytes: Uint8Array): { symbols: string[]; series: SeriesV2[] } {
  const msg = RequestType.toObject(RequestType.decode(bytes), { longs: Number, defaults: true, arrays: true }) as {
    symbols: string[];
    timeseries: Array<{ labels_refs: number[]; samples: Sample[]; histograms: SeriesV2['histograms']; exemplars: Array<{ label_refs: number[]; value: number; timestamp: number }>; metadata?: { type: number; help_ref: number; unit_ref: number }; created_timestamp: number }>;
  };
  const sym = (i: number) => {
    const s = msg.symbols[i];
    if (s === undefined) throw new Error(`reference ${i} outside the symbols table`);
    return s;
  };
  const pairs = (refs: number[]) => {
    const out: LabelPair[] = [];
    for (let i = 0; i < refs.length; i += 2) out.push([sym(refs[i]!), sym(refs[i + 1]!)]);
    return out;
  };
  return {
    symbols: msg.symbols,
    series: msg.timeseries.map((t) => ({
      labels: pairs(t.labels_refs),
      samples: t.samples,
      histograms: t.histograms ?? [],
      exemplars: t.exemplars.map((e) => ({ labels: pairs(e.label_refs), value: e.value, timestamp: e.timestamp })),
      ...(t.metadata ? { metadata: { type: t.metadata.type, help: sym(t.metadata.help_ref), unit: sym(t.metadata.unit_ref) } } : {}),
      created_timestamp: t.created_timestamp,
    })),
  };
}
