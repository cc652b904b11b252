// Strict snappy block-format decoder (the format remote write uses; not the framed format).
//
// Written here rather than taken from snappyjs because a gateway must be strict where a
// general decoder is lenient: snappyjs does not check that the output exactly fills the
// declared length, nor that a copy stays inside the output, nor that a 1-byte-offset copy
// has its offset byte. Every such case is an error here.
import { decodedTooLarge, RemoteWriteError } from './errors.ts';

/** `offset` is left out when the decoder that failed does not say where. */
export function snappyError(message: string, offset?: number): RemoteWriteError {
  return new RemoteWriteError('ERR_RW_SNAPPY', 400, `invalid snappy block${offset === undefined ? '' : ` at byte ${offset}`}: ${message}`);
}

export interface SnappyPreamble {
  /** Uncompressed length the block declares. */
  readonly length: number;
  /** Offset of the first tag after the length varint. */
  readonly dataStart: number;
}

/** Reads the uncompressed-length varint (at most 32 bits) that starts every snappy block. */
export function readSnappyPreamble(src: Uint8Array): SnappyPreamble {
  let length = 0;
  for (let i = 0; i < 5; i++) {
    if (i >= src.length) throw snappyError('truncated length preamble', i);
    const b = src[i]!;
    if (i === 4 && b > 0x0f) throw snappyError('length preamble exceeds 32 bits', 0);
    length += (b & 0x7f) * 2 ** (7 * i);
    if (b < 0x80) return { length, dataStart: i + 1 };
  }
  throw snappyError('length preamble exceeds 32 bits', 0);
}

/**
 * Decompresses a snappy block. The declared length is checked against `maxDecodedBytes`
 * before any output is allocated, so a tiny body claiming gigabytes costs nothing.
 * `scratch` (optional) is used as the output when it is large enough; the result may then be
 * a view of it.
 */
export function snappyDecompress(src: Uint8Array, maxDecodedBytes: number, scratch?: Uint8Array): Uint8Array {
  const { length, dataStart } = readSnappyPreamble(src);
  if (length > maxDecodedBytes) {
    throw decodedTooLarge(`snappy body declares ${length} uncompressed bytes, more than the limit of ${maxDecodedBytes}`);
  }
  const dst = scratch !== undefined && scratch.length >= length ? scratch.subarray(0, length) : new Uint8Array(length);
  const n = src.length;
  // 4-byte moves through DataViews beat both byte loops and copyWithin/set (whose call
  // overhead dominates for snappy's copies, which are at most 64 bytes long).
  const sv = new DataView(src.buffer, src.byteOffset, src.byteLength);
  const dv = new DataView(dst.buffer, dst.byteOffset, dst.byteLength);
  let pos = dataStart;
  let op = 0;
  while (pos < n) {
    const tagPos = pos;
    const tag = src[pos++]!;
    const kind = tag & 3;
    if (kind === 0) {
      let len = tag >>> 2;
      if (len >= 60) {
        const extra = len - 59;
        if (pos + extra > n) throw snappyError('truncated literal length', tagPos);
        len = src[pos]!;
        if (extra > 1) len |= src[pos + 1]! << 8;
        if (extra > 2) len |= src[pos + 2]! << 16;
        if (extra > 3) len = (len | (src[pos + 3]! << 24)) >>> 0;
        pos += extra;
      }
      len += 1;
      if (len > n - pos) throw snappyError('literal runs past the end of the input', tagPos);
      if (len > length - op) throw snappyError('literal overflows the declared length', tagPos);
      if (len < 64) {
        let i = 0;
        for (; i + 4 <= len; i += 4) dv.setUint32(op + i, sv.getUint32(pos + i));
        for (; i < len; i++) dst[op + i] = src[pos + i]!;
      } else {
        dst.set(src.subarray(pos, pos + len), op);
      }
      pos += len;
      op += len;
      continue;
    }
    let len: number;
    let offset: number;
    if (kind === 1) {
      if (pos >= n) throw snappyError('truncated copy', tagPos);
      len = ((tag >>> 2) & 7) + 4;
      offset = ((tag >>> 5) << 8) | src[pos]!;
      pos += 1;
    } else if (kind === 2) {
      if (pos + 2 > n) throw snappyError('truncated copy', tagPos);
      len = (tag >>> 2) + 1;
      offset = src[pos]! | (src[pos + 1]! << 8);
      pos += 2;
    } else {
      if (pos + 4 > n) throw snappyError('truncated copy', tagPos);
      len = (tag >>> 2) + 1;
      offset = (src[pos]! | (src[pos + 1]! << 8) | (src[pos + 2]! << 16) | (src[pos + 3]! << 24)) >>> 0;
      pos += 4;
    }
    if (offset === 0 || offset > op) throw snappyError('copy offset outside the output written so far', tagPos);
    if (len > length - op) throw snappyError('copy overflows the declared length', tagPos);
    let i = 0;
    // With offset ≥ 4 every 4-byte source chunk is complete before it is read; shorter
    // offsets repeat a pattern and go byte by byte.
    if (offset >= 4) for (; i + 4 <= len; i += 4) dv.setUint32(op + i, dv.getUint32(op - offset + i));
    for (; i < len; i++) dst[op + i] = dst[op - offset + i]!;
    op += len;
  }
  if (op !== length) throw snappyError(`decoded ${op} bytes but the block declares ${length}`, n);
  return dst;
}
