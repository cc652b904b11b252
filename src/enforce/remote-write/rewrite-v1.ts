// Walks a remote-write 1.0 `prometheus.WriteRequest` on the wire and writes a copy in which
// every TimeSeries carries exactly the tenant's labels. Only `labels` are looked into; samples,
// exemplars and histograms are copied byte for byte. Metadata entries are checked for
// well-formedness and copied.
//
// Strictness is the security property here: anything this walker does not fully understand
// (an unknown field, a wire type that does not match the schema, a repeated scalar inside a
// Label) is refused, because a receiver that reads it differently could otherwise see a
// label set we never checked.
import { labelsError, overLimit, protobufError } from './errors.ts';
import { labelNameProblem, quoteBytes, type LabelNameRule } from './label-names.ts';
import { copyBytes, type OutputBuffer } from './output-buffer.ts';
import { compareBytes, type PreparedTenantLabels } from './tenant-labels.ts';
import { readVarint32, skipVarint64, varintEnd, varintSize, wireTypeProblem, writeVarint32 } from './wire.ts';

export interface RewriteOptions {
  readonly maxSeries: number;
  readonly maxLabelsPerSeries: number;
  readonly labelNames: LabelNameRule;
}

export interface RewriteCounts {
  series: number;
  /** Float samples plus native-histogram samples. */
  samples: number;
}

// Tag bytes (field number << 3 | wire type) of the fields we accept.
const TAG_WR_TIMESERIES = 0x0a; // WriteRequest.timeseries = 1, LEN
const TAG_WR_METADATA = 0x1a; // WriteRequest.metadata = 3, LEN
const TAG_TS_LABELS = 0x0a; // TimeSeries.labels = 1
const TAG_TS_SAMPLES = 0x12; // TimeSeries.samples = 2
const TAG_TS_EXEMPLARS = 0x1a; // TimeSeries.exemplars = 3
const TAG_TS_HISTOGRAMS = 0x22; // TimeSeries.histograms = 4
const TAG_LABEL_NAME = 0x0a;
const TAG_LABEL_VALUE = 0x12;
const TAG_MD_TYPE = 0x08; // MetricMetadata.type = 1, VARINT
const TAG_MD_FAMILY = 0x12; // metric_family_name = 2
const TAG_MD_HELP = 0x22; // help = 4
const TAG_MD_UNIT = 0x2a; // unit = 5

// Per-series scratch, reused across series and calls; grown on demand. Hot loops copy the
// arrays into locals (module-level bindings cost a check on every access).
interface Scratch {
  nameStart: Int32Array;
  nameEnd: Int32Array;
  fieldStart: Int32Array;
  fieldEnd: Int32Array;
  spanStart: Int32Array;
  spanEnd: Int32Array;
  order: Int32Array;
}
const scratch: Scratch = {
  nameStart: new Int32Array(64),
  nameEnd: new Int32Array(64),
  fieldStart: new Int32Array(64),
  fieldEnd: new Int32Array(64),
  spanStart: new Int32Array(16),
  spanEnd: new Int32Array(16),
  order: new Int32Array(64),
};

function grown(a: Int32Array): Int32Array {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}

export function rewriteWriteRequestV1(buf: Uint8Array, tenant: PreparedTenantLabels, opts: RewriteOptions, out: OutputBuffer): RewriteCounts {
  const counts: RewriteCounts = { series: 0, samples: 0 };
  // Every series grows by at most the tenant labels plus a longer length prefix.
  out.reset(Math.ceil(buf.length * 1.0625) + 1024);
  const n = buf.length;
  let pos = 0;
  while (pos < n) {
    const tagPos = pos;
    let tag = buf[pos]!;
    if (tag < 0x80) pos++; else { tag = readVarint32(buf, pos, n); pos = varintEnd; }
    if (tag !== TAG_WR_TIMESERIES && tag !== TAG_WR_METADATA) throw protobufError(wireTypeProblem(tag, 'WriteRequest'), tagPos);
    let len = pos < n ? buf[pos]! : 0x80;
    if (len < 0x80) pos++; else { len = readVarint32(buf, pos, n); pos = varintEnd; }
    if (len > n - pos) throw protobufError(`${tag === TAG_WR_TIMESERIES ? 'timeseries' : 'metadata'} length ${len} runs past the end of the request`, tagPos);
    const end = pos + len;
    if (tag === TAG_WR_TIMESERIES) {
      if (counts.series >= opts.maxSeries) throw overLimit('ERR_RW_TOO_MANY_SERIES', `request has more than ${opts.maxSeries} timeseries`);
      rewriteSeries(buf, pos, end, counts, tenant, opts, out);
      counts.series++;
    } else {
      checkMetadata(buf, pos, end);
      out.ensure(end - tagPos);
      out.pos = copyBytes(out.buf, out.pos, buf, tagPos, end);
    }
    pos = end;
  }
  return counts;
}

function rewriteSeries(buf: Uint8Array, start: number, end: number, counts: RewriteCounts, tenant: PreparedTenantLabels, opts: RewriteOptions, out: OutputBuffer): void {
  const seriesIndex = counts.series;
  let { nameStart, nameEnd, fieldStart, fieldEnd, spanStart, spanEnd } = scratch;
  const startsName = tenant.startsName;
  let kept = 0;
  let unsorted = false;
  let spans = 0;
  let pos = start;
  while (pos < end) {
    const tagPos = pos;
    let tag = buf[pos]!;
    if (tag < 0x80) pos++; else { tag = readVarint32(buf, pos, end); pos = varintEnd; }
    if (tag !== TAG_TS_LABELS && tag !== TAG_TS_SAMPLES && tag !== TAG_TS_EXEMPLARS && tag !== TAG_TS_HISTOGRAMS) {
      throw protobufError(wireTypeProblem(tag, `timeseries #${seriesIndex}`), tagPos);
    }
    let len = pos < end ? buf[pos]! : 0x80;
    if (len < 0x80) pos++; else { len = readVarint32(buf, pos, end); pos = varintEnd; }
    if (len > end - pos) throw protobufError(`field length ${len} runs past the end of timeseries #${seriesIndex}`, tagPos);
    const fieldStop = pos + len;
    if (tag === TAG_TS_LABELS) {
      let ns = -1;
      let ne = -1;
      // The encoding every sender uses: the name, then the value, each with a one-byte length.
      // Anything else takes the general parse below, which accepts the same messages and more.
      if (len >= 2 && buf[pos] === TAG_LABEL_NAME && buf[pos + 1]! < 0x80) {
        const s0 = pos + 2;
        const e0 = s0 + buf[pos + 1]!;
        if (e0 === fieldStop || (e0 + 2 <= fieldStop && buf[e0] === TAG_LABEL_VALUE && buf[e0 + 1]! < 0x80 && e0 + 2 + buf[e0 + 1]! === fieldStop)) {
          ns = s0;
          ne = e0;
        }
      }
      if (ns < 0) {
        // Parse the Label message: exactly one name, at most one value, nothing else.
        let sawValue = false;
        let q = pos;
        while (q < fieldStop) {
          const ltagPos = q;
          let ltag = buf[q]!;
          if (ltag < 0x80) q++; else { ltag = readVarint32(buf, q, fieldStop); q = varintEnd; }
          if (ltag !== TAG_LABEL_NAME && ltag !== TAG_LABEL_VALUE) throw protobufError(wireTypeProblem(ltag, `a label of timeseries #${seriesIndex}`), ltagPos);
          let slen = q < fieldStop ? buf[q]! : 0x80;
          if (slen < 0x80) q++; else { slen = readVarint32(buf, q, fieldStop); q = varintEnd; }
          if (slen > fieldStop - q) throw protobufError(`label string length ${slen} runs past the end of the label`, ltagPos);
          if (ltag === TAG_LABEL_NAME) {
            if (ns >= 0) throw protobufError(`label of timeseries #${seriesIndex} has two name fields`, ltagPos);
            ns = q;
            ne = q + slen;
          } else {
            if (sawValue) throw protobufError(`label of timeseries #${seriesIndex} has two value fields`, ltagPos);
            sawValue = true;
          }
          q += slen;
        }
      }
      if (ns < 0) throw labelsError('a label has no name', seriesIndex);
      const problem = labelNameProblem(buf, ns, ne, opts.labelNames);
      if (problem !== undefined) throw labelsError(problem, seriesIndex);
      if (startsName[buf[ns]!] === 0 || !isTenantName(buf, ns, ne, tenant)) {
        if (kept === nameStart.length) {
          nameStart = scratch.nameStart = grown(nameStart);
          nameEnd = scratch.nameEnd = grown(nameEnd);
          fieldStart = scratch.fieldStart = grown(fieldStart);
          fieldEnd = scratch.fieldEnd = grown(fieldEnd);
        }
        if (kept > 0 && !unsorted) {
          // Names nearly always differ in their first byte.
          const d = buf[nameStart[kept - 1]!]! - buf[ns]!;
          const c = d !== 0 ? d : compareBytes(buf, nameStart[kept - 1]!, nameEnd[kept - 1]!, buf, ns, ne);
          if (c === 0) throw labelsError(`duplicate label name ${quoteBytes(buf, ns, ne)}`, seriesIndex);
          if (c > 0) unsorted = true;
        }
        nameStart[kept] = ns;
        nameEnd[kept] = ne;
        fieldStart[kept] = tagPos;
        fieldEnd[kept] = fieldStop;
        kept++;
      }
    } else {
      if (tag === TAG_TS_SAMPLES || tag === TAG_TS_HISTOGRAMS) counts.samples++;
      // Consecutive non-label fields are copied as one span.
      if (spans > 0 && spanEnd[spans - 1] === tagPos) {
        spanEnd[spans - 1] = fieldStop;
      } else {
        if (spans === spanStart.length) {
          spanStart = scratch.spanStart = grown(spanStart);
          spanEnd = scratch.spanEnd = grown(spanEnd);
        }
        spanStart[spans] = tagPos;
        spanEnd[spans] = fieldStop;
        spans++;
      }
    }
    pos = fieldStop;
  }

  if (kept + tenant.count > opts.maxLabelsPerSeries) {
    throw overLimit('ERR_RW_TOO_MANY_LABELS', `timeseries #${seriesIndex}: ${kept + tenant.count} labels (including the tenant's) exceed the limit of ${opts.maxLabelsPerSeries}`);
  }

  // Output order of the kept labels; only materialised when the client's were unsorted.
  let order: Int32Array | undefined;
  if (unsorted) {
    // The spec requires sorted labels; senders that get it wrong are sorted here rather than
    // refused, since the receiver would otherwise index a label set in the wrong order.
    if (scratch.order.length < kept) scratch.order = new Int32Array(nameStart.length);
    order = scratch.order.subarray(0, kept);
    for (let i = 0; i < kept; i++) order[i] = i;
    const ns = nameStart;
    const ne = nameEnd;
    order.sort((a, b) => compareBytes(buf, ns[a]!, ne[a]!, buf, ns[b]!, ne[b]!));
    for (let i = 1; i < kept; i++) {
      const a = order[i - 1]!;
      const b = order[i]!;
      if (compareBytes(buf, nameStart[a]!, nameEnd[a]!, buf, nameStart[b]!, nameEnd[b]!) === 0) {
        throw labelsError(`duplicate label name ${quoteBytes(buf, nameStart[b]!, nameEnd[b]!)}`, seriesIndex);
      }
    }
  }

  let bodyLen = tenant.fieldBytes;
  for (let i = 0; i < kept; i++) bodyLen += fieldEnd[i]! - fieldStart[i]!;
  for (let i = 0; i < spans; i++) bodyLen += spanEnd[i]! - spanStart[i]!;

  out.ensure(1 + varintSize(bodyLen) + bodyLen);
  const dst = out.buf;
  let op = out.pos;
  dst[op++] = TAG_WR_TIMESERIES;
  op = writeVarint32(dst, op, bodyLen);
  // Merge the client's remaining labels with the tenant's, both sorted; names never tie
  // because every client label with a tenant name was dropped above. Input ranges that end
  // where the next one starts are copied as one piece: a typical series becomes two copies
  // (labels before the tenant's, the rest) instead of one per label.
  const tNames = tenant.names;
  const tFields = tenant.fields;
  const tCount = tenant.count;
  let t = 0;
  // The next tenant name and its first byte, read again only when t moves.
  let tn = tNames[0]!;
  let tn0 = tn[0]!;
  let pieceStart = 0;
  let pieceEnd = 0;
  for (let k = 0; k < kept; k++) {
    const i = order === undefined ? k : order[k]!;
    const ns = nameStart[i]!;
    const ne = nameEnd[i]!;
    while (t < tCount) {
      const d = tn0 - buf[ns]!;
      if (d > 0 || (d === 0 && compareBytes(tn, 0, tn.length, buf, ns, ne) > 0)) break;
      op = copyBytes(dst, op, buf, pieceStart, pieceEnd);
      pieceStart = pieceEnd = 0;
      const f = tFields[t]!;
      op = copyBytes(dst, op, f, 0, f.length);
      t++;
      if (t < tCount) { tn = tNames[t]!; tn0 = tn[0]!; }
    }
    const fs = fieldStart[i]!;
    if (fs !== pieceEnd) {
      op = copyBytes(dst, op, buf, pieceStart, pieceEnd);
      pieceStart = fs;
    }
    pieceEnd = fieldEnd[i]!;
  }
  if (t < tCount) {
    op = copyBytes(dst, op, buf, pieceStart, pieceEnd);
    pieceStart = pieceEnd = 0;
    for (; t < tCount; t++) {
      const f = tFields[t]!;
      op = copyBytes(dst, op, f, 0, f.length);
    }
  }
  for (let i = 0; i < spans; i++) {
    const ss = spanStart[i]!;
    if (ss !== pieceEnd) {
      op = copyBytes(dst, op, buf, pieceStart, pieceEnd);
      pieceStart = ss;
    }
    pieceEnd = spanEnd[i]!;
  }
  out.pos = copyBytes(dst, op, buf, pieceStart, pieceEnd);
}

function isTenantName(buf: Uint8Array, start: number, end: number, tenant: PreparedTenantLabels): boolean {
  const len = end - start;
  const names = tenant.names;
  for (let t = 0; t < names.length; t++) {
    const tn = names[t]!;
    if (tn.length !== len) continue;
    let i = 0;
    while (i < len && tn[i] === buf[start + i]) i++;
    if (i === len) return true;
  }
  return false;
}

/** MetricMetadata carries no labels; it is only checked to be well-formed before being copied. */
function checkMetadata(buf: Uint8Array, start: number, end: number): void {
  let pos = start;
  while (pos < end) {
    const tagPos = pos;
    const tag = readVarint32(buf, pos, end);
    pos = varintEnd;
    if (tag === TAG_MD_TYPE) {
      pos = skipVarint64(buf, pos, end);
    } else if (tag === TAG_MD_FAMILY || tag === TAG_MD_HELP || tag === TAG_MD_UNIT) {
      const len = readVarint32(buf, pos, end);
      pos = varintEnd;
      if (len > end - pos) throw protobufError(`metadata string length ${len} runs past the end of the entry`, tagPos);
      pos += len;
    } else {
      throw protobufError(wireTypeProblem(tag, 'metadata'), tagPos);
    }
  }
}
