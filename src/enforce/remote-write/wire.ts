// Protobuf wire-format primitives for the hand-written remote-write walker.
//
// Tags and lengths are read as at most 5-byte varints: every tag we accept is a small field
// number and every length must fit inside a buffer we already hold, so a longer varint is
// either garbage or a deliberately padded encoding. Refusing it keeps our parser from
// disagreeing with the receiver's parser about where a field ends.
import { protobufError } from './errors.ts';

export const WIRE_VARINT = 0;
export const WIRE_I64 = 1;
export const WIRE_LEN = 2;
export const WIRE_I32 = 5;

/** Position just after the varint most recently read by `readVarint32`. */
export let varintEnd = 0;

/**
 * Reads an unsigned varint of at most 5 bytes and at most 2^32-1 starting at `pos`, not reading
 * at or past `end`. Sets `varintEnd`. Throws ERR_RW_PROTOBUF on truncation or overflow.
 */
export function readVarint32(buf: Uint8Array, pos: number, end: number): number {
  if (pos >= end) throw protobufError('truncated varint', pos);
  let b = buf[pos]!;
  if (b < 0x80) { varintEnd = pos + 1; return b; }
  let value = b & 0x7f;
  let shift = 7;
  let p = pos + 1;
  for (;;) {
    if (p >= end) throw protobufError('truncated varint', pos);
    b = buf[p++]!;
    if (shift === 28) {
      // Fifth byte: only 4 more bits fit in 32, and no continuation is allowed.
      if (b > 0x0f) throw protobufError('varint longer than 32 bits', pos);
      value += b * 0x10000000;
      break;
    }
    value |= (b & 0x7f) << shift;
    if (b < 0x80) break;
    shift += 7;
  }
  varintEnd = p;
  return value;
}

/** Skips a varint of up to 10 bytes (a full 64-bit value). Returns the position after it. */
export function skipVarint64(buf: Uint8Array, pos: number, end: number): number {
  const limit = Math.min(end, pos + 10);
  for (let p = pos; p < limit; p++) {
    if (buf[p]! < 0x80) {
      if (p - pos === 9 && buf[p]! > 1) throw protobufError('varint longer than 64 bits', pos);
      return p + 1;
    }
  }
  throw protobufError(end - pos < 10 ? 'truncated varint' : 'varint longer than 64 bits', pos);
}

export function varintSize(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

/** Writes `v` (0 ≤ v < 2^32) at `pos`; returns the position after it. */
export function writeVarint32(out: Uint8Array, pos: number, v: number): number {
  while (v >= 0x80) {
    out[pos++] = (v & 0x7f) | 0x80;
    v = Math.floor(v / 128);
  }
  out[pos++] = v;
  return pos;
}

/** Describes a tag the schema does not allow at this place, for error messages. */
export function wireTypeProblem(tag: number, where: string): string {
  const wt = tag & 7;
  const field = tag >>> 3;
  if (wt === 6 || wt === 7) return `invalid wire type ${wt} in ${where}`;
  if (field === 0) return `field number 0 in ${where}`;
  return `unexpected field ${field} (wire type ${wt}) in ${where}`;
}
