// The snappy block codec of the `snappy` package (Rust's `snap` crate through napi-rs), used
// when its prebuilt binary loads on this platform. On a 2,000-series remote-write batch it
// decodes about 3× and encodes about 2× faster than snappy-decode.ts / snappy-encode.ts
// (bench/micro/remote-write.ts), and snappy is most of what enforcing a write costs. The
// JavaScript codec stays: it is the fallback where no binary exists, and the reference the
// native decoder's strictness is tested against (test/unit/remote-write/codec.test.ts).
//
// TENANTGATE_SNAPPY=js forces the JavaScript codec, for comparing the two on one machine.
import { createRequire } from 'node:module';
import { decodedTooLarge } from './errors.ts';
import { readSnappyPreamble, snappyError } from './snappy-decode.ts';

interface SnappyBinding {
  compressSync(input: Uint8Array, options: { copyOutputData: boolean }): Buffer;
  uncompressSync(input: Uint8Array, options: { asBuffer: true; copyOutputData: boolean }): Buffer;
}

function load(): SnappyBinding | null {
  if (process.env['TENANTGATE_SNAPPY'] === 'js') return null;
  try {
    return createRequire(import.meta.url)('snappy') as SnappyBinding;
  } catch {
    return null;
  }
}

const binding = load();

/** Which codec this process uses for snappy bodies. */
export const snappyCodec: 'native' | 'js' = binding === null ? 'js' : 'native';

// copyOutputData: the binding's default hands out external buffers, measured about 10× slower
// per call on Node 24 than a copy into a buffer V8 owns.
const COPY = { copyOutputData: true } as const;
const COPY_BUFFER = { asBuffer: true, copyOutputData: true } as const;

/**
 * Decompresses a snappy block with the native codec. The declared length is checked against
 * the limit from the preamble, before the binding allocates anything; the binding itself
 * refuses every block whose copies or literals leave the input or the declared output, and
 * any output that does not exactly fill the declared length.
 */
export function nativeSnappyDecompress(src: Uint8Array, maxDecodedBytes: number): Uint8Array {
  const { length } = readSnappyPreamble(src);
  if (length > maxDecodedBytes) {
    throw decodedTooLarge(`snappy body declares ${length} uncompressed bytes, more than the limit of ${maxDecodedBytes}`);
  }
  let out: Buffer;
  try {
    out = (binding as SnappyBinding).uncompressSync(src, COPY_BUFFER);
  } catch (err) {
    throw snappyError((err as Error).message.replace(/^snappy: /, ''));
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** Compresses `src` into a new buffer in snappy block format with the native codec. */
export function nativeSnappyCompress(src: Uint8Array): Uint8Array {
  const out = (binding as SnappyBinding).compressSync(src, COPY);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
