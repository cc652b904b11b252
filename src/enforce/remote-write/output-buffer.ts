// A growable byte buffer the walker writes the rewritten request into. One instance is reused
// across calls (the result is always compressed or copied out before `enforceRemoteWrite`
// returns), so steady-state traffic allocates no per-request output buffer.

const RETAIN_LIMIT = 16 * 1024 * 1024;

export class OutputBuffer {
  buf: Uint8Array;
  pos = 0;

  constructor(initial = 64 * 1024) {
    this.buf = new Uint8Array(initial);
  }

  reset(expected: number): void {
    this.pos = 0;
    if (this.buf.length < expected) this.buf = new Uint8Array(expected);
  }

  ensure(extra: number): void {
    const need = this.pos + extra;
    if (need <= this.buf.length) return;
    const next = new Uint8Array(Math.max(need, this.buf.length * 2));
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  /** The bytes written so far, as a view (valid until the next reset). */
  view(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  /** Drops an oversized buffer after a huge request so it is not pinned forever. */
  release(): void {
    if (this.buf.length > RETAIN_LIMIT) this.buf = new Uint8Array(64 * 1024);
  }
}

/** Copies `src[start, end)` to `dst` at `at`; returns the position after it. */
export function copyBytes(dst: Uint8Array, at: number, src: Uint8Array, start: number, end: number): number {
  const n = end - start;
  if (n < 40) {
    for (let i = 0; i < n; i++) dst[at + i] = src[start + i]!;
  } else {
    dst.set(src.subarray(start, end), at);
  }
  return at + n;
}
