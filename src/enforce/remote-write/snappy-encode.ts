// Snappy block-format compressor for the rewritten request.
//
// The usual greedy LZ77 of the snappy format: independent 64 KiB blocks, a hash table of
// 4-byte sequences, literals and copies. It exists (instead of snappyjs.compress) because the
// re-compression is the largest cost of remote-write enforcement and this version is measured
// faster (bench/micro/remote-write.ts): 32-bit loads go through a DataView, match extension
// compares 4 bytes at a time, and the hash table is reused across calls.

const BLOCK_SIZE = 1 << 16;
const HASH_BITS = 14;
const HASH_SHIFT = 32 - HASH_BITS;
const INPUT_MARGIN = 15; // the tail of a block is always emitted as a literal
const MIN_NON_LITERAL_BLOCK = 17;

const table = new Uint16Array(1 << HASH_BITS);
// Compression happens into this reusable buffer; only the used part is copied out.
const RETAIN_LIMIT = 16 * 1024 * 1024;
let scratch = new Uint8Array(256 * 1024);

export function maxCompressedLength(n: number): number {
  return 32 + n + Math.ceil(n / 6);
}

/** Compresses `src` into a new Uint8Array in snappy block format. */
export function snappyCompress(src: Uint8Array): Uint8Array {
  const need = maxCompressedLength(src.length);
  if (scratch.length < need) scratch = new Uint8Array(need);
  const dst = scratch;
  let op = 0;
  let len = src.length;
  while (len >= 0x80) { dst[op++] = (len & 0x7f) | 0x80; len = Math.floor(len / 128); }
  dst[op++] = len;
  const view = new DataView(src.buffer, src.byteOffset, src.byteLength);
  for (let bs = 0; bs < src.length; bs += BLOCK_SIZE) {
    const be = Math.min(bs + BLOCK_SIZE, src.length);
    op = compressBlock(src, view, bs, be, dst, op);
  }
  const result = dst.slice(0, op);
  if (scratch.length > RETAIN_LIMIT) scratch = new Uint8Array(256 * 1024);
  return result;
}

function compressBlock(src: Uint8Array, view: DataView, bs: number, be: number, dst: Uint8Array, op: number): number {
  if (be - bs < MIN_NON_LITERAL_BLOCK) return emitLiteral(src, bs, be, dst, op);
  table.fill(0);
  const ipLimit = be - INPUT_MARGIN;
  let nextEmit = bs;
  let ip = bs + 1;
  let nextHash = Math.imul(view.getUint32(ip, true), 0x1e35a7bd) >>> HASH_SHIFT;
  for (;;) {
    // Look for a 4-byte match, probing less often the longer nothing has matched.
    let skip = 32;
    let nextIp = ip;
    let candidate: number;
    do {
      ip = nextIp;
      const h = nextHash;
      nextIp = ip + (skip >>> 5);
      skip++;
      if (nextIp > ipLimit) return emitLiteral(src, nextEmit, be, dst, op);
      nextHash = Math.imul(view.getUint32(nextIp, true), 0x1e35a7bd) >>> HASH_SHIFT;
      candidate = bs + table[h]!;
      table[h] = ip - bs;
    } while (view.getUint32(ip, true) !== view.getUint32(candidate, true));

    op = emitLiteral(src, nextEmit, ip, dst, op);
    // Emit copies for as long as the position right after a copy matches again.
    let cur: number;
    do {
      const base = ip;
      let m = ip + 4;
      let c = candidate + 4;
      while (m + 4 <= be && view.getUint32(m, true) === view.getUint32(c, true)) { m += 4; c += 4; }
      while (m < be && src[m] === src[c]) { m++; c++; }
      op = emitCopy(base - candidate, m - base, dst, op);
      ip = m;
      nextEmit = ip;
      if (ip >= ipLimit) return emitLiteral(src, nextEmit, be, dst, op);
      table[Math.imul(view.getUint32(ip - 1, true), 0x1e35a7bd) >>> HASH_SHIFT] = ip - 1 - bs;
      cur = view.getUint32(ip, true);
      const h = Math.imul(cur, 0x1e35a7bd) >>> HASH_SHIFT;
      candidate = bs + table[h]!;
      table[h] = ip - bs;
    } while (cur === view.getUint32(candidate, true));
    ip++;
    nextHash = Math.imul(view.getUint32(ip, true), 0x1e35a7bd) >>> HASH_SHIFT;
  }
}

function emitLiteral(src: Uint8Array, start: number, end: number, dst: Uint8Array, op: number): number {
  const len = end - start;
  if (len === 0) return op;
  const n = len - 1;
  if (n < 60) {
    dst[op++] = n << 2;
  } else if (n < 0x100) {
    dst[op++] = 60 << 2; dst[op++] = n;
  } else if (n < 0x10000) {
    dst[op++] = 61 << 2; dst[op++] = n & 0xff; dst[op++] = n >>> 8;
  } else if (n < 0x1000000) {
    dst[op++] = 62 << 2; dst[op++] = n & 0xff; dst[op++] = (n >>> 8) & 0xff; dst[op++] = n >>> 16;
  } else {
    dst[op++] = 63 << 2; dst[op++] = n & 0xff; dst[op++] = (n >>> 8) & 0xff; dst[op++] = (n >>> 16) & 0xff; dst[op++] = n >>> 24;
  }
  if (len < 32) {
    for (let i = 0; i < len; i++) dst[op + i] = src[start + i]!;
  } else {
    dst.set(src.subarray(start, end), op);
  }
  return op + len;
}

// Offsets are always below 64 KiB (copies never leave their block), so 2-byte copies suffice.
function emitCopy(offset: number, len: number, dst: Uint8Array, op: number): number {
  while (len >= 68) {
    dst[op++] = 2 | (63 << 2); dst[op++] = offset & 0xff; dst[op++] = offset >>> 8;
    len -= 64;
  }
  if (len > 64) {
    dst[op++] = 2 | (59 << 2); dst[op++] = offset & 0xff; dst[op++] = offset >>> 8;
    len -= 60;
  }
  if (len < 12 && offset < 2048) {
    dst[op++] = 1 | ((len - 4) << 2) | ((offset >>> 8) << 5);
    dst[op++] = offset & 0xff;
  } else {
    dst[op++] = 2 | ((len - 1) << 2); dst[op++] = offset & 0xff; dst[op++] = offset >>> 8;
  }
  return op;
}
