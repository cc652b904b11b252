// Strict snappy block-format decoder (the format remote write uses; not the framed format).
//
// Written here rather than taken from snappyjs because a gateway must be strict where a
// general decoder is lenient: snappyjs does not check that the output exactly fills the
// declared length, nor that a copy stays inside the output, nor that a 1-byte-offset copy
// has its offset byte. Every such case is an error here.
import { RemoteWriteError, tooLarge } from './errors.ts';

function snappyError(message: string, offset: number): RemoteWriteError {
  return new RemoteWriteError('ERR_RW_SNAPPY', 400, `invalid snappy block at byte ${offset}: ${message}`);
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
    throw tooLarge(`snappy body declares ${length} uncompressed bytes, more than the limit of ${maxDecodedBytes}`);
  }
  const dst = scratch !== undefined && scratch.length >= length ? scratch.subarray(0, length) : new Uint8Array(length);
  const n = src.length;
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
      if (len < 16) {
        for (let i = 0; i < len; i++) dst[op + i] = src[pos + i]!;
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
    if (offset >= len && len >= 16) {
      dst.copyWithin(op, op - offset, op - offset + len);
    } else {
      // Overlapping copies (offset < len) repeat a pattern and must go byte by byte.
      for (let i = 0; i < len; i++) dst[op + i] = dst[op - offset + i]!;
    }
    op += len;
  }
  if (op !== length) throw snappyError(`decoded ${op} bytes but the block declares ${length}`, n);
  return dst;
}
