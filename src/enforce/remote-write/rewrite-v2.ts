// Remote-write 2.0 (`io.prometheus.write.v2.Request`): labels are pairs of references into a
// request-wide symbols table. The tenant's names and values are appended to that table (so
// every existing reference — in labels, exemplars and metadata — stays valid) and each
// series' `labels_refs` is rewritten: pairs whose name is a tenant label name are dropped and
// the tenant's pairs inserted in name order. Everything else is copied byte for byte.
//
// As in 1.0, anything not in the schema is refused rather than passed on.
import { labelsError, overLimit, protobufError } from './errors.ts';
import { labelNameProblem, quoteBytes } from './label-names.ts';
import { copyBytes, type OutputBuffer } from './output-buffer.ts';
import type { RewriteCounts, RewriteOptions } from './rewrite-v1.ts';
import { compareBytes, type PreparedTenantLabels } from './tenant-labels.ts';
import { readVarint32, skipVarint64, varintEnd, varintSize, wireTypeProblem, writeVarint32 } from './wire.ts';

const TAG_REQ_SYMBOLS = 0x22; // symbols = 4, LEN
const TAG_REQ_TIMESERIES = 0x2a; // timeseries = 5, LEN
const TAG_TS_REFS_PACKED = 0x0a; // labels_refs = 1, packed
const TAG_TS_REFS_SINGLE = 0x08; // labels_refs = 1, one unpacked element
const TAG_TS_SAMPLES = 0x12; // samples = 2
const TAG_TS_HISTOGRAMS = 0x1a; // histograms = 3
const TAG_TS_EXEMPLARS = 0x22; // exemplars = 4
const TAG_TS_METADATA = 0x2a; // metadata = 5
const TAG_TS_CREATED = 0x30; // created_timestamp = 6, VARINT

function grownInt32(a: Int32Array, min: number): Int32Array {
  const b = new Int32Array(Math.max(min, a.length * 2));
  b.set(a);
  return b;
}

export function rewriteRequestV2(buf: Uint8Array, tenant: PreparedTenantLabels, opts: RewriteOptions, out: OutputBuffer): RewriteCounts {
  const n = buf.length;
  // Pass 1: the symbols table (it may come after the series that reference it).
  let symStart: Int32Array = new Int32Array(256);
  let symEnd: Int32Array = new Int32Array(256);
  let symbols = 0;
  let symbolBytes = 0;
  let pos = 0;
  while (pos < n) {
    const tagPos = pos;
    const tag = readVarint32(buf, pos, n);
    pos = varintEnd;
    if (tag !== TAG_REQ_SYMBOLS && tag !== TAG_REQ_TIMESERIES) throw protobufError(wireTypeProblem(tag, 'v2 Request'), tagPos);
    const len = readVarint32(buf, pos, n);
    pos = varintEnd;
    if (len > n - pos) throw protobufError(`field length ${len} runs past the end of the request`, tagPos);
    if (tag === TAG_REQ_SYMBOLS) {
      if (symbols === symStart.length) { symStart = grownInt32(symStart, 0); symEnd = grownInt32(symEnd, 0); }
      symStart[symbols] = pos;
      symEnd[symbols] = pos + len;
      symbols++;
      symbolBytes += pos + len - tagPos;
    }
    pos += len;
  }
  if (symbols > 0 && symEnd[0] !== symStart[0]) throw protobufError('the first symbol must be the empty string', symStart[0]!);

  // Output: the client's symbols, then the tenant's (name, value) pairs at refs base+2t, base+2t+1.
  out.reset(Math.ceil(n * 1.125) + 1024);
  const base = symbols;
  const tenantRefs: number[] = [];
  let tenantSymbolBytes = 0;
  const tenantSymbols: Uint8Array[] = [];
  for (let t = 0; t < tenant.count; t++) {
    const name = tenant.names[t]!;
    const value = Buffer.from(tenant.values[t]!, 'utf8');
    for (const s of [name, value]) {
      const field = new Uint8Array(1 + varintSize(s.length) + s.length);
      field[0] = TAG_REQ_SYMBOLS;
      field.set(s, writeVarint32(field, 1, s.length));
      tenantSymbols.push(field);
      tenantSymbolBytes += field.length;
    }
    tenantRefs.push(base + 2 * t, base + 2 * t + 1);
  }
  out.ensure(symbolBytes + tenantSymbolBytes);
  pos = 0;
  for (let i = 0; i < symbols; i++) {
    // Re-emit each symbol canonically (tag, length, bytes).
    const s = symStart[i]!;
    const e = symEnd[i]!;
    out.buf[out.pos++] = TAG_REQ_SYMBOLS;
    out.pos = writeVarint32(out.buf, out.pos, e - s);
    out.pos = copyBytes(out.buf, out.pos, buf, s, e);
  }
  for (const f of tenantSymbols) out.pos = copyBytes(out.buf, out.pos, f, 0, f.length);

  // Pass 2: the series.
  const counts: RewriteCounts = { series: 0, samples: 0 };
  const ctx: SeriesContext = { buf, symStart, symEnd, symbols, tenant, tenantRefs, opts, out, counts };
  pos = 0;
  while (pos < n) {
    const tag = readVarint32(buf, pos, n);
    pos = varintEnd;
    const len = readVarint32(buf, pos, n);
    pos = varintEnd;
    if (tag === TAG_REQ_TIMESERIES) {
      if (counts.series >= opts.maxSeries) throw overLimit('ERR_RW_TOO_MANY_SERIES', `request has more than ${opts.maxSeries} timeseries`);
      rewriteSeriesV2(ctx, pos, pos + len);
      counts.series++;
    }
    pos += len;
  }
  return counts;
}

interface SeriesContext {
  readonly buf: Uint8Array;
  readonly symStart: Int32Array;
  readonly symEnd: Int32Array;
  readonly symbols: number;
  readonly tenant: PreparedTenantLabels;
  readonly tenantRefs: readonly number[];
  readonly opts: RewriteOptions;
  readonly out: OutputBuffer;
  readonly counts: RewriteCounts;
}

function rewriteSeriesV2(ctx: SeriesContext, start: number, end: number): void {
  const { buf, symStart, symEnd, symbols, tenant, opts, counts } = ctx;
  const seriesIndex = counts.series;
  const refs: number[] = [];
  const spans: number[] = [];
  let pos = start;
  const addRef = (ref: number, at: number) => {
    if (ref >= symbols) throw protobufError(`label reference ${ref} in timeseries #${seriesIndex} is outside the ${symbols} symbols`, at);
    refs.push(ref);
  };
  while (pos < end) {
    const tagPos = pos;
    const tag = readVarint32(buf, pos, end);
    pos = varintEnd;
    if (tag === TAG_TS_REFS_SINGLE) {
      addRef(readVarint32(buf, pos, end), pos);
      pos = varintEnd;
      continue;
    }
    if (tag === TAG_TS_CREATED) {
      pos = skipVarint64(buf, pos, end);
      pushSpan(spans, tagPos, pos);
      continue;
    }
    if (tag !== TAG_TS_REFS_PACKED && tag !== TAG_TS_SAMPLES && tag !== TAG_TS_HISTOGRAMS && tag !== TAG_TS_EXEMPLARS && tag !== TAG_TS_METADATA) {
      throw protobufError(wireTypeProblem(tag, `v2 timeseries #${seriesIndex}`), tagPos);
    }
    const len = readVarint32(buf, pos, end);
    pos = varintEnd;
    if (len > end - pos) throw protobufError(`field length ${len} runs past the end of timeseries #${seriesIndex}`, tagPos);
    const stop = pos + len;
    if (tag === TAG_TS_REFS_PACKED) {
      let q = pos;
      while (q < stop) {
        const ref = readVarint32(buf, q, stop);
        addRef(ref, q);
        q = varintEnd;
      }
    } else {
      if (tag === TAG_TS_SAMPLES || tag === TAG_TS_HISTOGRAMS) counts.samples++;
      pushSpan(spans, tagPos, stop);
    }
    pos = stop;
  }
  if (refs.length % 2 !== 0) throw labelsError(`labels_refs has an odd number (${refs.length}) of entries`, seriesIndex);

  // Keep (name, value) pairs whose name is not the tenant's; check names, order, duplicates.
  const kept: number[] = [];
  let unsorted = false;
  for (let i = 0; i < refs.length; i += 2) {
    const nameRef = refs[i]!;
    const ns = symStart[nameRef]!;
    const ne = symEnd[nameRef]!;
    const problem = labelNameProblem(buf, ns, ne, opts.labelNames);
    if (problem !== undefined) throw labelsError(problem, seriesIndex);
    if (isTenantName(buf, ns, ne, tenant)) continue;
    if (kept.length > 0 && !unsorted) {
      const prev = kept[kept.length - 2]!;
      const c = compareBytes(buf, symStart[prev]!, symEnd[prev]!, buf, ns, ne);
      if (c === 0) throw labelsError(`duplicate label name ${quoteBytes(buf, ns, ne)}`, seriesIndex);
      if (c > 0) unsorted = true;
    }
    kept.push(nameRef, refs[i + 1]!);
  }
  if (kept.length / 2 + tenant.count > opts.maxLabelsPerSeries) {
    throw overLimit('ERR_RW_TOO_MANY_LABELS', `timeseries #${seriesIndex}: ${kept.length / 2 + tenant.count} labels (including the tenant's) exceed the limit of ${opts.maxLabelsPerSeries}`);
  }
  const pairs: Array<[name: number, value: number, tenantIndex: number]> = [];
  for (let i = 0; i < kept.length; i += 2) pairs.push([kept[i]!, kept[i + 1]!, -1]);
  if (unsorted) {
    pairs.sort((a, b) => compareBytes(buf, symStart[a[0]]!, symEnd[a[0]]!, buf, symStart[b[0]]!, symEnd[b[0]]!));
    for (let i = 1; i < pairs.length; i++) {
      const a = pairs[i - 1]![0];
      const b = pairs[i]![0];
      if (compareBytes(buf, symStart[a]!, symEnd[a]!, buf, symStart[b]!, symEnd[b]!) === 0) {
        throw labelsError(`duplicate label name ${quoteBytes(buf, symStart[b]!, symEnd[b]!)}`, seriesIndex);
      }
    }
  }
  // Merge in the tenant's pairs (names already sorted, never equal to a kept name).
  const merged: number[] = [];
  let t = 0;
  for (const [nameRef, valueRef] of pairs) {
    while (t < tenant.count) {
      const tn = tenant.names[t]!;
      if (compareBytes(tn, 0, tn.length, buf, symStart[nameRef]!, symEnd[nameRef]!) > 0) break;
      merged.push(ctx.tenantRefs[2 * t]!, ctx.tenantRefs[2 * t + 1]!);
      t++;
    }
    merged.push(nameRef, valueRef);
  }
  for (; t < tenant.count; t++) merged.push(ctx.tenantRefs[2 * t]!, ctx.tenantRefs[2 * t + 1]!);

  let refsLen = 0;
  for (const r of merged) refsLen += varintSize(r);
  let bodyLen = 1 + varintSize(refsLen) + refsLen;
  for (let i = 0; i < spans.length; i += 2) bodyLen += spans[i + 1]! - spans[i]!;
  const out = ctx.out;
  out.ensure(1 + varintSize(bodyLen) + bodyLen);
  const dst = out.buf;
  let op = out.pos;
  dst[op++] = TAG_REQ_TIMESERIES;
  op = writeVarint32(dst, op, bodyLen);
  dst[op++] = TAG_TS_REFS_PACKED;
  op = writeVarint32(dst, op, refsLen);
  for (const r of merged) op = writeVarint32(dst, op, r);
  for (let i = 0; i < spans.length; i += 2) op = copyBytes(dst, op, buf, spans[i]!, spans[i + 1]!);
  out.pos = op;
}

function pushSpan(spans: number[], start: number, end: number): void {
  if (spans.length > 0 && spans[spans.length - 1] === start) spans[spans.length - 1] = end;
  else spans.push(start, end);
}

function isTenantName(buf: Uint8Array, start: number, end: number, tenant: PreparedTenantLabels): boolean {
  for (const tn of tenant.names) {
    if (compareBytes(tn, 0, tn.length, buf, start, end) === 0) return true;
  }
  return false;
}
