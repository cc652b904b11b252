import { test } from 'node:test';
import assert from 'node:assert/strict';
import { zstdCompressSync } from 'node:zlib';
import fc from 'fast-check';
import snappyjs from 'snappyjs';
import { enforceRemoteWrite } from '../../../src/enforce/remote-write/index.ts';
import { decodeBody } from '../../../src/enforce/remote-write/codec.ts';
import { snappyDecompress } from '../../../src/enforce/remote-write/snappy-decode.ts';
import { snappyCompress } from '../../../src/enforce/remote-write/snappy-encode.ts';
import { nativeSnappyCompress, nativeSnappyDecompress, snappyCodec } from '../../../src/enforce/remote-write/snappy-native.ts';
import { bytes, label, ld, sample, series, varint } from './raw-proto.ts';
import { catchRemoteWriteError } from './helpers.ts';

const TENANT = [['tenant', 'A']] as const;
const LIMITS = { maxCompressedBytes: 1 << 20, maxDecodedBytes: 1 << 20 };

/** Runs `fn` while recording the largest `new Uint8Array(n)` anyone makes. */
function largestUint8ArrayAllocation(fn: () => void): number {
  const original = globalThis.Uint8Array;
  let largest = 0;
  globalThis.Uint8Array = new Proxy(original, {
    construct(target, args, newTarget) {
      if (typeof args[0] === 'number') largest = Math.max(largest, args[0]);
      return Reflect.construct(target, args, newTarget) as object;
    },
  });
  try { fn(); } finally { globalThis.Uint8Array = original; }
  return largest;
}

test('snappy length bomb: a body declaring 4 GiB is refused from its preamble, before any allocation', (t) => {
  // 5-byte preamble claiming 2^32-1 bytes, then one literal tag.
  const bomb = bytes(varint(2 ** 32 - 1), [0x00, 0x41]);
  let err: ReturnType<typeof catchRemoteWriteError> | undefined;
  const started = process.hrtime.bigint();
  const largest = largestUint8ArrayAllocation(() => {
    err = catchRemoteWriteError(() => enforceRemoteWrite(bomb, 'snappy', TENANT, LIMITS));
  });
  const micros = Number(process.hrtime.bigint() - started) / 1000;
  assert.equal(err?.code, 'ERR_RW_DECODED_TOO_LARGE');
  assert.equal(err?.status, 413);
  assert.match(err?.message ?? '', /declares 4294967295 uncompressed bytes/);
  assert.ok(largest < LIMITS.maxDecodedBytes, `allocated ${largest} bytes before refusing`);
  // The probe does see the decoder's allocations: a legitimate 300 KB body shows up.
  const legit = snappyCompress(new Uint8Array(300_000));
  assert.ok(largestUint8ArrayAllocation(() => { snappyDecompress(legit, LIMITS.maxDecodedBytes); }) >= 300_000);
  // Reported, not asserted: unit tests carry no timing assertions.
  t.diagnostic(`length bomb refused in ${micros.toFixed(0)} µs`);
});

test('snappy: a body decoding to more than it declares is refused, never overflowing the limit', () => {
  // Declares 10 bytes, then a 4-byte literal followed by a copy of 64 bytes.
  const body = bytes(varint(10), [0x0c, 1, 2, 3, 4], [0x02 | (63 << 2), 4, 0]);
  const err = catchRemoteWriteError(() => snappyDecompress(body, 1 << 20));
  assert.equal(err.code, 'ERR_RW_SNAPPY');
  assert.match(err.message, /overflows the declared length/);
  // A literal longer than declared.
  const lit = catchRemoteWriteError(() => snappyDecompress(bytes(varint(2), [0x0c, 1, 2, 3, 4]), 1 << 20));
  assert.match(lit.message, /literal overflows/);
});

test('snappy: strict about every malformed block', () => {
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ['empty input', bytes([]), /truncated length preamble/],
    ['preamble over 32 bits', bytes([0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), /exceeds 32 bits/],
    ['fewer bytes than declared', bytes(varint(8), [0x0c, 1, 2, 3, 4]), /decoded 4 bytes but the block declares 8/],
    ['literal past the input', bytes(varint(8), [0x1c, 1, 2]), /literal runs past the end/],
    ['truncated long literal length', bytes(varint(100), [61 << 2, 5]), /truncated literal length/],
    ['copy before any output', bytes(varint(4), [0x01, 0x01]), /copy offset outside/],
    ['copy with offset 0', bytes(varint(8), [0x0c, 1, 2, 3, 4], [0x01, 0x00]), /copy offset outside/],
    ['copy-1 missing its offset byte', bytes(varint(8), [0x0c, 1, 2, 3, 4], [0x01]), /truncated copy/],
    ['copy-2 truncated', bytes(varint(8), [0x0c, 1, 2, 3, 4], [0x0e, 4]), /truncated copy/],
    ['copy-4 truncated', bytes(varint(8), [0x0c, 1, 2, 3, 4], [0x0f, 4, 0, 0]), /truncated copy/],
  ];
  for (const [name, body, message] of cases) {
    const err = catchRemoteWriteError(() => snappyDecompress(body, 1 << 20));
    assert.equal(err.code, 'ERR_RW_SNAPPY', name);
    assert.equal(err.status, 400, name);
    assert.match(err.message, message, name);
    if (snappyCodec === 'native') {
      // The native decoder words its reasons differently, but refuses the same blocks the same way.
      const native = catchRemoteWriteError(() => nativeSnappyDecompress(body, 1 << 20));
      assert.equal(native.code, 'ERR_RW_SNAPPY', `native: ${name}`);
      assert.equal(native.status, 400, `native: ${name}`);
    }
  }
});

test('snappy: the native codec loads where its package ships a binary, and the gateway uses it', () => {
  if (process.env['TENANTGATE_SNAPPY'] === 'js') return;
  const shipped = ['linux-x64', 'linux-arm64', 'darwin-x64', 'darwin-arm64', 'win32-x64'].includes(`${process.platform}-${process.arch}`);
  if (shipped) assert.equal(snappyCodec, 'native');
});

test('snappy: the native decoder accepts exactly the blocks the strict JavaScript decoder accepts, with the same output', () => {
  if (snappyCodec !== 'native') return;
  const outcome = (decode: () => Uint8Array): string => {
    try { return Buffer.from(decode()).toString('hex'); } catch (err) {
      assert.equal((err as { code?: string }).code, 'ERR_RW_SNAPPY');
      return 'refused';
    }
  };
  fc.assert(fc.property(
    fc.oneof(
      // Arbitrary short blocks with a small declared length: every tag kind, truncated or not.
      fc.tuple(fc.integer({ min: 0, max: 63 }), fc.uint8Array({ maxLength: 40 })).map(([n, rest]) => bytes([n], [...rest])),
      // Valid blocks with one byte changed.
      fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 300 }), fc.nat(), fc.integer({ min: 0, max: 255 })).map(([data, at, b]) => {
        const block = snappyCompress(data).slice();
        block[at % block.length] = b;
        return block;
      }),
    ),
    (block) => {
      assert.equal(outcome(() => nativeSnappyDecompress(block, 1 << 20)), outcome(() => snappyDecompress(block, 1 << 20)));
    },
  ), { numRuns: 3000, seed: 0x5eed });
});

test('snappy: the native encoder round-trips through the JavaScript decoder and snappyjs', () => {
  if (snappyCodec !== 'native') return;
  fc.assert(fc.property(
    fc.oneof(fc.uint8Array({ maxLength: 3000 }), fc.array(fc.constantFrom(0, 1, 97), { maxLength: 200_000 }).map((a) => Uint8Array.from(a))),
    (data) => {
      const packed = nativeSnappyCompress(data);
      assert.deepEqual(Buffer.from(snappyDecompress(packed, data.length)), Buffer.from(data));
      assert.deepEqual(Buffer.from(snappyjs.uncompress(packed)), Buffer.from(data));
    },
  ), { numRuns: 100, seed: 0x5eed });
});

test('snappy: our encoder and decoder agree with snappyjs on arbitrary data', () => {
  fc.assert(fc.property(
    fc.oneof(
      fc.uint8Array({ maxLength: 3000 }),
      // Low-entropy data gives long matches and overlapping copies.
      fc.array(fc.constantFrom(0, 1, 97), { maxLength: 200_000 }).map((a) => Uint8Array.from(a)),
      fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 5000 }))
        .map(([chunk, times]) => Uint8Array.from({ length: chunk.length * times }, (_, i) => chunk[i % chunk.length]!)),
    ),
    (data) => {
      const ours = snappyCompress(data);
      assert.deepEqual(Buffer.from(snappyjs.uncompress(ours)), Buffer.from(data));
      assert.deepEqual(Buffer.from(snappyDecompress(snappyjs.compress(data), data.length)), Buffer.from(data));
      assert.deepEqual(Buffer.from(snappyDecompress(ours, data.length)), Buffer.from(data));
    },
  ), { numRuns: 150, seed: 0x5eed });
});

test('zstd bomb: decoding stops at the limit', () => {
  // 64 MiB of zeros compresses to a few KiB.
  const bomb = zstdCompressSync(new Uint8Array(64 << 20));
  assert.ok(bomb.length < LIMITS.maxCompressedBytes);
  const err = catchRemoteWriteError(() => enforceRemoteWrite(bomb, 'zstd', TENANT, LIMITS));
  assert.equal(err.code, 'ERR_RW_DECODED_TOO_LARGE');
  assert.equal(err.status, 413);
});

test('zstd: garbage and truncated streams are refused with ERR_RW_ZSTD', () => {
  const raw = bytes(series(label('__name__', 'up'), ld(2, sample(1, 1))));
  const body = zstdCompressSync(raw);
  assert.equal(enforceRemoteWrite(body, 'zstd', TENANT, LIMITS).series, 1);
  for (const bad of [bytes([1, 2, 3, 4, 5, 6, 7, 8]), body.subarray(0, body.length - 3)]) {
    const err = catchRemoteWriteError(() => enforceRemoteWrite(bad, 'zstd', TENANT, LIMITS));
    assert.equal(err.code, 'ERR_RW_ZSTD', err.message);
    assert.equal(err.status, 400);
  }
});

test('zstd: a frame asking for a window far over the decoded-size limit is refused before decoding', async () => {
  const { constants, createZstdCompress } = await import('node:zlib');
  const raw = new Uint8Array(1 << 20);
  // Streamed without a known size, the frame declares its 128 MiB window instead of its content size.
  const c = createZstdCompress({ params: { [constants.ZSTD_c_windowLog]: 27 } });
  const chunks: Buffer[] = [];
  c.on('data', (d: Buffer) => chunks.push(d));
  const ended = new Promise((resolve) => c.on('end', resolve));
  for (let i = 0; i < 16; i++) c.write(raw.subarray(0, 65536));
  c.end();
  await ended;
  const wide = Buffer.concat(chunks);
  const err = catchRemoteWriteError(() => decodeBody(wide, 'zstd', 2 << 20));
  assert.deepEqual([err.code, err.status], ['ERR_RW_DECODED_TOO_LARGE', 413]);
  assert.match(err.message, /window/);
  // An ordinary frame of the same data decodes.
  assert.equal(decodeBody(zstdCompressSync(raw), 'zstd', 2 << 20).length, raw.length);
});
