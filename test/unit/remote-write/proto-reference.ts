// Reference protobuf codec for the tests, built on protobufjs: independent of the
// hand-written walker under test, so a misreading of the wire format on our side shows up as
// a disagreement instead of being shared by encoder and decoder.
import protobuf from 'protobufjs';

const SCHEMA = `
syntax = "proto3";
package prometheus;

message WriteRequest {
  repeated TimeSeries timeseries = 1;
  reserved 2;
  repeated MetricMetadata metadata = 3;
}
message MetricMetadata {
  enum MetricType { UNKNOWN = 0; COUNTER = 1; GAUGE = 2; HISTOGRAM = 3; GAUGEHISTOGRAM = 4; SUMMARY = 5; INFO = 6; STATESET = 7; }
  MetricType type = 1;
  string metric_family_name = 2;
  string help = 4;
  string unit = 5;
}
message Sample { double value = 1; int64 timestamp = 2; }
message Exemplar { repeated Label labels = 1; double value = 2; int64 timestamp = 3; }
message BucketSpan { sint32 offset = 1; uint32 length = 2; }
message Histogram {
  enum ResetHint { UNKNOWN = 0; YES = 1; NO = 2; GAUGE = 3; }
  oneof count { uint64 count_int = 1; double count_float = 2; }
  double sum = 3;
  sint32 schema = 4;
  double zero_threshold = 5;
  oneof zero_count { uint64 zero_count_int = 6; double zero_count_float = 7; }
  repeated BucketSpan negative_spans = 8;
  repeated sint64 negative_deltas = 9;
  repeated double negative_counts = 10;
  repeated BucketSpan positive_spans = 11;
  repeated sint64 positive_deltas = 12;
  repeated double positive_counts = 13;
  ResetHint reset_hint = 14;
  int64 timestamp = 15;
}
message TimeSeries {
  repeated Label labels = 1;
  repeated Sample samples = 2;
  repeated Exemplar exemplars = 3;
  repeated Histogram histograms = 4;
}
message Label { string name = 1; string value = 2; }
`;

const root = protobuf.parse(SCHEMA, { keepCase: true }).root;
const WriteRequestType = root.lookupType('prometheus.WriteRequest');
const TimeSeriesType = root.lookupType('prometheus.TimeSeries');
const SampleType = root.lookupType('prometheus.Sample');
const ExemplarType = root.lookupType('prometheus.Exemplar');
const HistogramType = root.lookupType('prometheus.Histogram');

export type LabelPair = readonly [string, string];
export interface Sample { value: number; timestamp: number }
export interface Exemplar { labels: LabelPair[]; value: number; timestamp: number }
export interface Histogram {
  count_int?: number; count_float?: number; sum: number; schema: number; zero_threshold: number;
  zero_count_int?: number; positive_spans: Array<{ offset: number; length: number }>; positive_deltas: number[];
  negative_counts: number[]; reset_hint: number; timestamp: number;
}
export interface Series { labels: LabelPair[]; samples: Sample[]; exemplars?: Exemplar[]; histograms?: Histogram[] }
export interface Metadata { type: number; metric_family_name: string; help: string; unit: string }
export interface WriteRequest { timeseries: Series[]; metadata?: Metadata[] }

const labelsToObj = (labels: readonly LabelPair[]) => labels.map(([name, value]) => ({ name, value }));

export function encodeWriteRequest(req: WriteRequest): Uint8Array {
  const obj = {
    timeseries: req.timeseries.map((s) => ({
      labels: labelsToObj(s.labels),
      samples: s.samples,
      exemplars: (s.exemplars ?? []).map((e) => ({ ...e, labels: labelsToObj(e.labels) })),
      histograms: s.histograms ?? [],
    })),
    metadata: req.metadata ?? [],
  };
  return WriteRequestType.encode(WriteRequestType.fromObject(obj)).finish();
}

const TO_OBJECT = { longs: Number, enums: Number, defaults: true, arrays: true, oneofs: false } as const;

/** Decodes with protobufjs into plain objects whose labels are [name, value] pairs. */
export function decodeWriteRequest(bytes: Uint8Array): WriteRequest {
  const msg = WriteRequestType.toObject(WriteRequestType.decode(bytes), TO_OBJECT) as {
    timeseries: Array<{ labels: Array<{ name: string; value: string }>; samples: Sample[]; exemplars: Array<Omit<Exemplar, 'labels'> & { labels: Array<{ name: string; value: string }> }>; histograms: Histogram[] }>;
    metadata: Metadata[];
  };
  return {
    timeseries: msg.timeseries.map((s) => ({
      labels: s.labels.map((l) => [l.name, l.value] as const),
      samples: s.samples,
      exemplars: s.exemplars.map((e) => ({ ...e, labels: e.labels.map((l) => [l.name, l.value] as const) })),
      histograms: s.histograms,
    })),
    metadata: msg.metadata,
  };
}

/** Encodes one message of the given prometheus.* type, for byte-level comparisons. */
export function encodePart(kind: 'Sample' | 'Exemplar' | 'Histogram', value: object): Uint8Array {
  const t = kind === 'Sample' ? SampleType : kind === 'Exemplar' ? ExemplarType : HistogramType;
  const v = kind === 'Exemplar' ? { ...value, labels: labelsToObj((value as Exemplar).labels) } : value;
  return t.encode(t.fromObject(v)).finish();
}

export { TimeSeriesType };
