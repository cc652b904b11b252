// Body (de)compression for the three Content-Encodings remote-write senders use. Every
// decoder enforces the decoded-size limit while decoding, never after.
import { constants, zstdCompressSync, zstdDecompressSync } from 'node:zlib';
import { decodedTooLarge, RemoteWriteError } from './errors.ts';
import { snappyDecompress } from './snappy-decode.ts';
import { snappyCompress } from './snappy-encode.ts';
import { nativeSnappyCompress, nativeSnappyDecompress, snappyCodec } from './snappy-native.ts';

const NATIVE = snappyCodec === 'native';

export type RemoteWriteEncoding = 'snappy' | 'zstd' | 'identity';

export function decodeBody(body: Uint8Array, encoding: RemoteWriteEncoding, maxDecodedBytes: number, scratch?: Uint8Array): Uint8Array {
  switch (encoding) {
    case 'snappy':
      return NATIVE ? nativeSnappyDecompress(body, maxDecodedBytes) : snappyDecompress(body, maxDecodedBytes, scratch);
    case 'zstd':
      return zstdDecompressLimited(body, maxDecodedBytes);
    case 'identity':
      if (body.length > maxDecodedBytes) throw decodedTooLarge(`body of ${body.length} bytes exceeds the decoded-size limit of ${maxDecodedBytes}`);
      return body;
    default:
      throw new RemoteWriteError('ERR_RW_ENCODING', 415, `unsupported remote-write Content-Encoding ${JSON.stringify(encoding)}; expected snappy, zstd or identity`);
  }
}

/** Returns a fresh buffer (never a view of `raw`) compressed with `encoding`. */
export function encodeBody(raw: Uint8Array, encoding: RemoteWriteEncoding): Uint8Array {
  switch (encoding) {
    case 'snappy':
      return NATIVE ? nativeSnappyCompress(raw) : snappyCompress(raw);
    case 'zstd':
      return zstdCompressSync(raw);
    case 'identity':
      return raw.slice();
    default:
      throw new RemoteWriteError('ERR_RW_ENCODING', 415, `unsupported remote-write Content-Encoding ${JSON.stringify(encoding)}`);
  }
}

/**
 * The largest zstd window accepted: enough for the decoded-size limit (a window larger than the
 * output is never needed), never below 8 MiB (what common encoders declare for any input) nor
 * above zstd's default cap of 128 MiB.
 */
export function zstdWindowLogMax(maxDecodedBytes: number): number {
  return Math.min(27, Math.max(23, Math.ceil(Math.log2(Math.max(1, maxDecodedBytes)))));
}

function zstdDecompressLimited(body: Uint8Array, maxDecodedBytes: number): Uint8Array {
  try {
    // maxOutputLength makes zlib decode chunk by chunk and stop as soon as the output would pass
    // the limit, so a zstd bomb never gets its declared size allocated; the window cap keeps a
    // frame from asking for a window buffer far larger than the output may be.
    return zstdDecompressSync(body, {
      maxOutputLength: Math.max(1, maxDecodedBytes),
      params: { [constants.ZSTD_d_windowLogMax]: zstdWindowLogMax(maxDecodedBytes) },
    });
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') throw decodedTooLarge(`zstd body decodes to more than the limit of ${maxDecodedBytes} bytes`);
    if (code === 'ZSTD_error_frameParameter_windowTooLarge') {
      throw decodedTooLarge(`zstd frame needs a window over ${2 ** zstdWindowLogMax(maxDecodedBytes)} bytes for a decoded-size limit of ${maxDecodedBytes} bytes`);
    }
    throw new RemoteWriteError('ERR_RW_ZSTD', 400, `invalid zstd body: ${(err as Error).message}`);
  }
}
