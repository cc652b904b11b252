// Shared helpers for the remote-write unit tests.
import { snappyDecompress } from '../../../src/enforce/remote-write/snappy-decode.ts';
import { snappyCompress } from '../../../src/enforce/remote-write/snappy-encode.ts';
import { RemoteWriteError, enforceRemoteWrite, type RemoteWriteLimits } from '../../../src/enforce/remote-write/index.ts';
import type { LabelPair, Series, WriteRequest } from './proto-reference.ts';

export const LIMITS: RemoteWriteLimits = { maxCompressedBytes: 8 << 20, maxDecodedBytes: 32 << 20 };

/** Enforces on an uncompressed protobuf via the identity encoding. */
export function enforceRaw(raw: Uint8Array, labels: readonly LabelPair[], limits: RemoteWriteLimits = LIMITS, labelNames?: 'legacy' | 'utf8') {
  return enforceRemoteWrite(raw, 'identity', labels, limits, labelNames === undefined ? {} : { labelNames });
}

export function snappy(raw: Uint8Array): Uint8Array {
  return snappyCompress(raw);
}

export function unsnappy(body: Uint8Array): Uint8Array {
  return snappyDecompress(body, 1 << 30);
}

const byName = (a: LabelPair, b: LabelPair) => (Buffer.compare(Buffer.from(a[0]), Buffer.from(b[0])));

/** What enforcement must turn `series` into: tenant names replaced, tenant labels added, sorted. */
export function expectedLabels(labels: readonly LabelPair[], tenant: readonly LabelPair[]): LabelPair[] {
  const tenantNames = new Set(tenant.map(([n]) => n));
  return [...labels.filter(([n]) => !tenantNames.has(n)), ...tenant].sort(byName);
}

export function expectedRequest(req: WriteRequest, tenant: readonly LabelPair[]): WriteRequest {
  return {
    timeseries: req.timeseries.map((s: Series) => ({ ...s, labels: expectedLabels(s.labels, tenant) })),
    metadata: req.metadata ?? [],
  };
}

/** Runs `fn` and returns the RemoteWriteError it throws (fails if it throws anything else or nothing). */
export function catchRemoteWriteError(fn: () => unknown): RemoteWriteError {
  try {
    fn();
  } catch (err) {
    if (err instanceof RemoteWriteError) return err;
    throw new Error(`expected a RemoteWriteError, got ${String(err)}`, { cause: err });
  }
  throw new Error('expected a RemoteWriteError, but nothing was thrown');
}
