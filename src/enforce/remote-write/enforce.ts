// Entry point: decode the body, rewrite every series' labels, re-encode with the same encoding.
import { decodeBody, encodeBody, type RemoteWriteEncoding } from './codec.ts';
import { RemoteWriteError, tooLarge } from './errors.ts';
import type { LabelNameRule } from './label-names.ts';
import { OutputBuffer } from './output-buffer.ts';
import { rewriteWriteRequestV1 } from './rewrite-v1.ts';
import { rewriteRequestV2 } from './rewrite-v2.ts';
import { readSnappyPreamble } from './snappy-decode.ts';
import { snappyCodec } from './snappy-native.ts';
import { prepareTenantLabels, type TenantLabelPairs } from './tenant-labels.ts';
import type { RemoteWriteVersion } from './version.ts';

export interface RemoteWriteLimits {
  /** Largest body accepted as received (after the HTTP layer, before decompression). */
  readonly maxCompressedBytes: number;
  /** Largest protobuf accepted after decompression. */
  readonly maxDecodedBytes: number;
  /** Most timeseries in one request (default: unlimited). */
  readonly maxSeries?: number;
  /** Most labels on one series, counting the tenant's (default: unlimited). */
  readonly maxLabelsPerSeries?: number;
}

export interface RemoteWriteOptions {
  /** Protocol version, from `detectRemoteWriteVersion(contentType)`. Default 'v1'. */
  readonly version?: RemoteWriteVersion;
  /** Label-name rule; default 'legacy' (`[a-zA-Z_][a-zA-Z0-9_]*`). */
  readonly labelNames?: LabelNameRule;
}

export interface EnforcedRemoteWrite {
  /** The rewritten request, compressed with the request's encoding. */
  readonly body: Uint8Array;
  readonly series: number;
  /** Float samples plus native-histogram samples. */
  readonly samples: number;
}

// Reused between calls: decompressed input (snappy) and rewritten output.
const output = new OutputBuffer();
let decodeScratch = new Uint8Array(256 * 1024);
const SCRATCH_RETAIN_LIMIT = 16 * 1024 * 1024;

/** A reusable buffer for the decompressed snappy body, or undefined to let the decoder allocate. */
function snappyScratch(body: Uint8Array, maxDecodedBytes: number): Uint8Array | undefined {
  const { length } = readSnappyPreamble(body);
  // The limit is checked here too, before the scratch grows, not only in the decoder.
  if (length > maxDecodedBytes) return undefined;
  if (length <= decodeScratch.length) return decodeScratch;
  if (length > SCRATCH_RETAIN_LIMIT) return undefined;
  decodeScratch = new Uint8Array(Math.min(SCRATCH_RETAIN_LIMIT, Math.max(length, decodeScratch.length * 2)));
  return decodeScratch;
}

export function enforceRemoteWrite(
  body: Uint8Array,
  encoding: RemoteWriteEncoding,
  labels: TenantLabelPairs,
  limits: RemoteWriteLimits,
  options: RemoteWriteOptions = {},
): EnforcedRemoteWrite {
  // Plain Uint8Array views keep the hot loops monomorphic whether the caller hands us a
  // Buffer (node:http) or a Uint8Array.
  body = new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  const rule = options.labelNames ?? 'legacy';
  const tenant = prepareTenantLabels(labels, rule);
  if (body.length > limits.maxCompressedBytes) {
    throw tooLarge(`body of ${body.length} bytes exceeds the limit of ${limits.maxCompressedBytes}`);
  }
  const version = options.version ?? 'v1';
  if (version !== 'v1' && version !== 'v2') {
    throw new RemoteWriteError('ERR_RW_VERSION', 415, `unknown remote-write version ${JSON.stringify(version)}`);
  }
  // The native decoder allocates its own output; the JavaScript one decodes into the scratch.
  const scratch = encoding === 'snappy' && snappyCodec === 'js' ? snappyScratch(body, limits.maxDecodedBytes) : undefined;
  const decodedRaw = decodeBody(body, encoding, limits.maxDecodedBytes, scratch);
  const decoded = new Uint8Array(decodedRaw.buffer, decodedRaw.byteOffset, decodedRaw.byteLength);
  try {
    const rewriteOptions = {
      maxSeries: limits.maxSeries ?? Number.POSITIVE_INFINITY,
      maxLabelsPerSeries: limits.maxLabelsPerSeries ?? Number.POSITIVE_INFINITY,
      labelNames: rule,
    };
    const counts = version === 'v1'
      ? rewriteWriteRequestV1(decoded, tenant, rewriteOptions, output)
      : rewriteRequestV2(decoded, tenant, rewriteOptions, output);
    return { body: encodeBody(output.view(), encoding), series: counts.series, samples: counts.samples };
  } finally {
    output.release();
  }
}
